//! The backlog commands' reads and writes. Writes happen inside [`Store::write`], one
//! `BEGIN IMMEDIATE` transaction per command, so the checks see the backlog they change and a
//! refused command changes nothing.

use super::{Store, StoreError};
use crate::core::backlog::{DependencyGraph, FeatureSpec};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

/// A stored feature with every column, for `feature list`, `feature show` and `export`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureRecord {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub description: String,
    pub steps: Vec<String>,
    pub priority: i64,
    pub dependencies: Vec<i64>,
    /// As stored: pending, in_progress, passing, failing or failed.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    pub profile: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub passed_at: Option<i64>,
    pub last_tested_at: Option<i64>,
}

impl FeatureRecord {
    /// The feature in the backlog file format.
    pub fn spec(&self) -> FeatureSpec {
        FeatureSpec {
            id: Some(self.id),
            name: self.name.clone(),
            category: self.category.clone(),
            description: self.description.clone(),
            steps: self.steps.clone(),
            priority: self.priority,
            dependencies: self.dependencies.clone(),
            model: self.model.clone(),
            effort: self.effort.clone(),
            profile: self.profile.clone(),
        }
    }
}

impl Store {
    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: committed when `f` returns `Ok`, rolled
    /// back (nothing written) otherwise.
    pub fn write<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let value = f(&tx)?;
        tx.commit().map_err(sql)?;
        Ok(value)
    }

    /// Every feature with all its columns, by id.
    pub fn feature_records(&self) -> Result<Vec<FeatureRecord>, StoreError> {
        feature_records(&self.conn).map_err(|e| self.err(e))
    }
}

/// Every feature with all its columns, by id.
pub fn feature_records(conn: &Connection) -> rusqlite::Result<Vec<FeatureRecord>> {
    let mut graph = dependency_graph(conn)?;
    let mut stmt = conn.prepare(&format!("{RECORD_COLUMNS} ORDER BY id"))?;
    let rows = stmt.query_map([], |r| {
        let deps = graph.remove(&r.get::<_, i64>(0)?).unwrap_or_default();
        record(r, deps)
    })?;
    rows.collect()
}

/// One feature with all its columns: two indexed lookups, whatever the size of the backlog.
pub fn feature_record(conn: &Connection, id: i64) -> rusqlite::Result<Option<FeatureRecord>> {
    let deps = dependencies(conn, id)?;
    conn.prepare_cached(&format!("{RECORD_COLUMNS} WHERE id = ?1"))?
        .query_row([id], |r| record(r, deps))
        .optional()
}

const RECORD_COLUMNS: &str = "SELECT id, name, category, description, steps, priority, status,
    attempts, last_error, model, effort, profile, created_at, updated_at, passed_at,
    last_tested_at FROM features";

/// A row of [`RECORD_COLUMNS`] with the feature's dependencies.
fn record(r: &rusqlite::Row<'_>, dependencies: Vec<i64>) -> rusqlite::Result<FeatureRecord> {
    Ok(FeatureRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        category: r.get(2)?,
        description: r.get(3)?,
        steps: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or_default(),
        priority: r.get(5)?,
        dependencies,
        status: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        model: r.get(9)?,
        effort: r.get(10)?,
        profile: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        passed_at: r.get(14)?,
        last_tested_at: r.get(15)?,
    })
}

/// Ids `id` depends on, ascending.
pub fn dependencies(conn: &Connection, id: i64) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT depends_on FROM feature_deps WHERE feature_id = ?1 ORDER BY depends_on",
    )?
    .query_map([id], |r| r.get(0))?
    .collect()
}

/// What `feature show` says of a feature it names: its name, its stored status and whether
/// any of its own dependencies is not passing (or missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub name: String,
    pub status: String,
    pub waits: bool,
}

/// [`Neighbour`]s of the stored features among `ids`, by id: one indexed lookup each.
pub fn neighbours(
    conn: &Connection,
    ids: &[i64],
) -> rusqlite::Result<std::collections::HashMap<i64, Neighbour>> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.name, f.status, EXISTS (SELECT 1 FROM feature_deps d
             LEFT JOIN features g ON g.id = d.depends_on
             WHERE d.feature_id = f.id AND (g.id IS NULL OR g.status <> 'passing'))
         FROM features f WHERE f.id = ?1",
    )?;
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for &id in ids {
        let row = stmt
            .query_row([id], |r| {
                Ok(Neighbour {
                    name: r.get(0)?,
                    status: r.get(1)?,
                    waits: r.get(2)?,
                })
            })
            .optional()?;
        if let Some(n) = row {
            found.insert(id, n);
        }
    }
    Ok(found)
}

/// The names of the stored features among `ids`, by id: one indexed lookup each.
pub fn feature_names(
    conn: &Connection,
    ids: impl IntoIterator<Item = i64>,
) -> rusqlite::Result<std::collections::HashMap<i64, String>> {
    let mut stmt = conn.prepare_cached("SELECT name FROM features WHERE id = ?1")?;
    let mut names = std::collections::HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        if let Some(name) = stmt.query_row([id], |r| r.get(0)).optional()? {
            names.insert(id, name);
        }
    }
    Ok(names)
}

/// Every stored feature id with the ids it depends on (in ascending order).
pub fn dependency_graph(conn: &Connection) -> rusqlite::Result<DependencyGraph> {
    let mut graph: DependencyGraph = conn
        .prepare("SELECT id FROM features")?
        .query_map([], |r| r.get::<_, i64>(0))?
        .map(|id| id.map(|id| (id, Vec::new())))
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare(
        "SELECT feature_id, depends_on FROM feature_deps ORDER BY feature_id, depends_on",
    )?;
    let edges = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))?;
    for edge in edges {
        let (feature, dep) = edge?;
        graph.entry(feature).or_default().push(dep);
    }
    Ok(graph)
}

/// Ids of the features that depend on `id`, ascending.
pub fn dependents(conn: &Connection, id: i64) -> rusqlite::Result<Vec<i64>> {
    conn.prepare("SELECT feature_id FROM feature_deps WHERE depends_on = ?1 ORDER BY feature_id")?
        .query_map([id], |r| r.get(0))?
        .collect()
}

/// Inserts checked specs (ids set) and then their dependencies.
pub fn insert_features(
    conn: &Connection,
    specs: &[FeatureSpec],
    now_ms: i64,
) -> rusqlite::Result<()> {
    let mut insert = conn.prepare(
        "INSERT INTO features (id, category, name, description, steps, priority, created_at, updated_at,
                               model, effort, profile)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9, ?10)",
    )?;
    for s in specs {
        insert.execute(params![
            s.id,
            s.category,
            s.name,
            s.description,
            steps_json(&s.steps),
            s.priority,
            now_ms,
            s.model,
            s.effort,
            s.profile
        ])?;
    }
    for s in specs {
        if let Some(id) = s.id {
            set_dependencies(conn, id, &s.dependencies)?;
        }
    }
    Ok(())
}

/// Replaces a feature's name, category, description, steps and priority.
pub fn update_feature(conn: &Connection, spec: &FeatureSpec, now_ms: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE features SET name = ?2, category = ?3, description = ?4, steps = ?5, priority = ?6,
         updated_at = ?7, model = ?8, effort = ?9, profile = ?10 WHERE id = ?1",
        params![
            spec.id,
            spec.name,
            spec.category,
            spec.description,
            steps_json(&spec.steps),
            spec.priority,
            now_ms,
            spec.model,
            spec.effort,
            spec.profile
        ],
    )
    .map(drop)
}

/// Replaces the dependencies of `id`.
pub fn set_dependencies(conn: &Connection, id: i64, deps: &[i64]) -> rusqlite::Result<()> {
    // Cached statements: an import calls this once per feature.
    conn.prepare_cached("DELETE FROM feature_deps WHERE feature_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO feature_deps (feature_id, depends_on) VALUES (?1, ?2)",
    )?;
    for dep in deps {
        insert.execute(params![id, dep])?;
    }
    Ok(())
}

/// Deletes a feature; its dependency edges (both ways) and reports go with it.
pub fn delete_feature(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM feature_deps WHERE feature_id = ?1 OR depends_on = ?1",
        [id],
    )?;
    conn.execute("DELETE FROM features WHERE id = ?1", [id])
        .map(drop)
}

/// Sets a feature's status and last error; `attempts` too when given.
pub fn set_status(
    conn: &Connection,
    id: i64,
    status: &str,
    attempts: Option<i64>,
    last_error: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE features SET status = ?2, attempts = COALESCE(?3, attempts), last_error = ?4,
         updated_at = ?5, passed_at = CASE WHEN ?2 = 'passing' THEN ?5 ELSE passed_at END
         WHERE id = ?1",
        params![id, status, attempts, last_error, now_ms],
    )
    .map(drop)
}

/// The feature a run worked on: `None` if there is no such run, `Some(None)` if it had none.
pub fn run_feature(conn: &Connection, run: i64) -> rusqlite::Result<Option<Option<i64>>> {
    conn.query_row("SELECT feature_id FROM runs WHERE id = ?1", [run], |r| {
        r.get(0)
    })
    .optional()
}

/// Records what a run reported about its feature.
pub fn insert_report(
    conn: &Connection,
    run: i64,
    feature: i64,
    passed: bool,
    reason: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO reports (run_id, feature_id, passed, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run, feature, passed, reason, now_ms],
    )
    .map(drop)
}

fn steps_json(steps: &[String]) -> String {
    serde_json::to_string(steps).unwrap_or_else(|_| "[]".into())
}

/// One result a run (or nobody, for older rows) reported about a feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRecord {
    pub run_id: Option<i64>,
    pub passed: bool,
    pub reason: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
}

/// The reports about `feature`, oldest first.
pub fn reports_for(conn: &Connection, feature: i64) -> rusqlite::Result<Vec<ReportRecord>> {
    conn.prepare(
        "SELECT run_id, passed, reason, at FROM reports WHERE feature_id = ?1 ORDER BY id",
    )?
    .query_map([feature], |r| {
        Ok(ReportRecord {
            run_id: r.get(0)?,
            passed: r.get(1)?,
            reason: r.get(2)?,
            at: r.get(3)?,
        })
    })?
    .collect()
}
