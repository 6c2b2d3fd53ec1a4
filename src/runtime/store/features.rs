//! The backlog in the store: adding features with their dependencies, loading, saving status.

use super::{Store, StoreError};
use crate::api::{FeatureId, FeatureStatus};
use crate::core::Feature;
use rusqlite::{OptionalExtension, params};

/// A feature to add to the backlog; also the JSON shape of a backlog file (the demo's).
/// Every field but `name` may be left out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFeature {
    /// Assigned in order when absent.
    #[serde(default)]
    pub id: Option<i64>,
    #[serde(default)]
    pub category: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub steps: Vec<String>,
    /// Lower starts sooner.
    #[serde(default)]
    pub priority: i64,
    /// Ids of features in the same batch or already stored.
    #[serde(default)]
    pub dependencies: Vec<i64>,
}

impl Store {
    /// Adds features (with their dependencies) in one transaction: on any error nothing is added.
    /// Dependencies may name features earlier in `items` or already stored.
    pub fn add_features(
        &mut self,
        items: &[NewFeature],
        now_ms: i64,
    ) -> Result<Vec<FeatureId>, StoreError> {
        let path = self.path.clone();
        let sql_err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            tx.execute(
                "INSERT INTO features (id, category, name, description, steps, priority, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                params![
                    item.id,
                    item.category,
                    item.name,
                    item.description,
                    serde_json::to_string(&item.steps).unwrap_or_else(|_| "[]".into()),
                    item.priority,
                    now_ms
                ],
            )
            .map_err(sql_err)?;
            ids.push(FeatureId(tx.last_insert_rowid()));
        }
        for (item, id) in items.iter().zip(&ids) {
            for dep in &item.dependencies {
                let exists: bool = tx
                    .query_row("SELECT 1 FROM features WHERE id = ?1", [dep], |_| Ok(true))
                    .optional()
                    .map_err(sql_err)?
                    .unwrap_or(false);
                if !exists || *dep == id.0 {
                    let reason = if exists {
                        "depends on itself".to_string()
                    } else {
                        format!("depends on unknown feature {dep}")
                    };
                    return Err(StoreError::BadFeature {
                        path: path.clone(),
                        id: id.0,
                        reason,
                    });
                }
                tx.execute(
                    "INSERT OR IGNORE INTO feature_deps (feature_id, depends_on) VALUES (?1, ?2)",
                    params![id.0, dep],
                )
                .map_err(sql_err)?;
            }
        }
        tx.commit().map_err(sql_err)?;
        Ok(ids)
    }

    /// The whole backlog, by id, as the core needs it.
    pub fn load_features(&self) -> Result<Vec<Feature>, StoreError> {
        let mut deps_stmt = self
            .conn
            .prepare(
                "SELECT feature_id, depends_on FROM feature_deps ORDER BY feature_id, depends_on",
            )
            .map_err(|e| self.err(e))?;
        let mut deps: std::collections::HashMap<i64, Vec<FeatureId>> = Default::default();
        let rows = deps_stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (f, d) = row.map_err(|e| self.err(e))?;
            deps.entry(f).or_default().push(FeatureId(d));
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, category, name, priority, status, attempts, last_error, last_tested_at, profile,
                     EXISTS (SELECT 1 FROM worktrees w WHERE w.feature_id = features.id
                             AND w.merge_state <> 'merged'),
                     (SELECT CASE WHEN w.merge_note = '' THEN w.merge_state
                                  ELSE w.merge_state || ': ' || w.merge_note END
                        FROM worktrees w WHERE w.feature_id = features.id
                         AND w.merge_state NOT IN ('', 'merged'))
                 FROM features ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let id: i64 = r.get(0)?;
                let status: String = r.get(4)?;
                Ok(Feature {
                    id: FeatureId(id),
                    category: r.get(1)?,
                    name: r.get(2)?,
                    priority: r.get(3)?,
                    dependencies: Vec::new(),
                    status: parse_feature_status(&status),
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                    last_tested_at: r.get(7)?,
                    profile: r.get(8)?,
                    usage: crate::api::Usage::default(),
                    unmerged: r.get(9)?,
                    merge: r.get(10)?,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut usage: std::collections::HashMap<i64, crate::api::Usage> =
            self.usage_by(Some("feature_id"))?.into_iter().collect();
        let mut features = Vec::new();
        for row in rows {
            let mut f = row.map_err(|e| self.err(e))?;
            f.dependencies = deps.remove(&f.id.0).unwrap_or_default();
            f.usage = usage.remove(&f.id.0).unwrap_or_default();
            features.push(f);
        }
        Ok(features)
    }

    pub fn save_feature(
        &self,
        id: FeatureId,
        status: FeatureStatus,
        attempts: u32,
        last_error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE features SET status = ?2, attempts = ?3, last_error = ?4, updated_at = ?5,
                 passed_at = CASE WHEN ?2 = 'passing' THEN ?5 ELSE passed_at END WHERE id = ?1",
                params![id.0, status.as_str(), attempts, last_error, now_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

/// Reads a stored status; unknown words (from a newer corral) read as pending rather than failing.
pub fn parse_feature_status(s: &str) -> FeatureStatus {
    match s {
        "in_progress" => FeatureStatus::InProgress,
        "passing" => FeatureStatus::Passing,
        "failing" => FeatureStatus::Failing,
        "failed" => FeatureStatus::Failed,
        _ => FeatureStatus::Pending,
    }
}

impl Store {
    /// Stores a feature's priority.
    pub fn save_priority(
        &self,
        id: FeatureId,
        priority: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "UPDATE features SET priority = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.0, priority, now_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Description and steps of one feature (the parts snapshots leave out).
    pub fn feature_text(&self, id: FeatureId) -> Result<Option<(String, Vec<String>)>, StoreError> {
        self.connection()
            .query_row(
                "SELECT description, steps FROM features WHERE id = ?1",
                [id.0],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
            .map(|row| row.map(|(d, steps)| (d, serde_json::from_str(&steps).unwrap_or_default())))
    }
}

impl Store {
    /// Stores when a testing agent last re-checked the feature.
    pub fn save_tested_at(&self, id: FeatureId, at_ms: i64) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "UPDATE features SET last_tested_at = ?2 WHERE id = ?1",
                params![id.0, at_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The latest pass (true) or fail (false) a run reported with `corral feature pass|fail --run`.
    pub fn report_for_run(&self, run: crate::api::RunId) -> Result<Option<bool>, StoreError> {
        self.connection()
            .query_row(
                "SELECT passed FROM reports WHERE run_id = ?1 ORDER BY id DESC LIMIT 1",
                [run.0],
                |r| r.get::<_, bool>(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

impl Store {
    /// A feature's own model and effort, when it names them.
    pub fn feature_overrides(
        &self,
        id: FeatureId,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        self.connection()
            .query_row(
                "SELECT model, effort FROM features WHERE id = ?1",
                [id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }
}

impl Store {
    /// The profile a feature names for its runs, if any.
    pub fn feature_profile(&self, id: FeatureId) -> Result<Option<String>, StoreError> {
        self.connection()
            .query_row("SELECT profile FROM features WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }
}
