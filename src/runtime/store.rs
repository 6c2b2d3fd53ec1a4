//! The project's SQLite database: what must survive a restart (features, jobs, runs).

use super::schema::MIGRATIONS;
use crate::api::{FeatureId, FeatureStatus, JobId, JobState, Role, RunId, RunState};
use crate::core::Feature;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: schema version {found} is newer than this corral understands ({known}); upgrade corral"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: feature {id}: {reason}")]
    BadFeature {
        path: PathBuf,
        id: i64,
        reason: String,
    },
}

/// A feature to add to the backlog.
#[derive(Debug, Clone)]
pub struct NewFeature {
    pub id: Option<i64>,
    pub category: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<String>,
    pub priority: i64,
    pub dependencies: Vec<i64>,
}

/// A run as recorded, for recovery and `corral status`.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRun {
    pub id: i64,
    pub job_id: i64,
    pub feature_id: Option<i64>,
    pub profile: String,
    pub role: String,
    pub pid: Option<u32>,
    pub pgid: Option<u32>,
    pub proc_start_time: Option<u64>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub status: String,
    pub log_path: String,
}

/// The directory corral keeps a project's state in.
pub fn state_dir(project: &Path) -> PathBuf {
    project.join(".corral")
}

/// Creates `<project>/.corral` (mode 0700: logs may hold what agents printed) and `runs/` in it.
pub fn ensure_state_dir(project: &Path) -> Result<PathBuf, StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = state_dir(project);
    let io = |source| StoreError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join("runs"))
        .map_err(io)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    Ok(dir)
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `<project>/.corral/corral.db` and brings its schema up to date.
    pub fn open(project: &Path) -> Result<Store, StoreError> {
        let dir = ensure_state_dir(project)?;
        Store::open_path(&dir.join("corral.db"))
    }

    /// Opens the database at `path`: WAL, a busy timeout, foreign keys, migrations.
    pub fn open_path(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.setup()?;
        Ok(store)
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn setup(&mut self) -> Result<(), StoreError> {
        // A second corral (or `corral status`) may hold a lock briefly; wait rather than fail.
        self.conn
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        self.migrate()
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let known = MIGRATIONS.len() as u32;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self.conn.transaction().map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", index as u32 + 1))
                .and_then(|_| tx.commit())
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }

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
        let tx = self.conn.transaction().map_err(sql_err)?;
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
            .prepare("SELECT id, category, name, priority, status, attempts, last_error FROM features ORDER BY id")
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
                })
            })
            .map_err(|e| self.err(e))?;
        let mut features = Vec::new();
        for row in rows {
            let mut f = row.map_err(|e| self.err(e))?;
            f.dependencies = deps.remove(&f.id.0).unwrap_or_default();
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

    /// Records a new job and its first run (status `running`, no pid yet) before the spawn,
    /// so the log file can be named after the run id.
    pub fn begin_run(
        &mut self,
        profile: &str,
        role: Role,
        feature: Option<FeatureId>,
        runs_dir: &Path,
        now_ms: i64,
    ) -> Result<(JobId, RunId, PathBuf), StoreError> {
        let path = self.path.clone();
        let sql_err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sql_err)?;
        tx.execute(
            "INSERT INTO jobs (profile, feature_id, state, attempts, created_at, updated_at)
             VALUES (?1, ?2, 'running', 1, ?3, ?3)",
            params![profile, feature.map(|f| f.0), now_ms],
        )
        .map_err(sql_err)?;
        let job = JobId(tx.last_insert_rowid());
        tx.execute(
            "INSERT INTO runs (job_id, feature_id, profile, role, started_at, status, log_path)
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', '')",
            params![job.0, feature.map(|f| f.0), profile, role.as_str(), now_ms],
        )
        .map_err(sql_err)?;
        let run = RunId(tx.last_insert_rowid());
        let log = runs_dir.join(format!("{}.log", run.0));
        tx.execute(
            "UPDATE runs SET log_path = ?2 WHERE id = ?1",
            params![run.0, log.to_string_lossy()],
        )
        .map_err(sql_err)?;
        tx.commit().map_err(sql_err)?;
        Ok((job, run, log))
    }

    /// Records the spawned process: pid, its group and its start time.
    pub fn set_run_process(
        &self,
        run: RunId,
        pid: u32,
        start_time: Option<u64>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET pid = ?2, pgid = ?2, proc_start_time = ?3 WHERE id = ?1",
                params![run.0, pid, start_time.map(|t| t as i64)],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn save_run(
        &self,
        run: RunId,
        state: RunState,
        exit_code: Option<i32>,
        finished_at_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        let signal = match state {
            RunState::Killed { signal } => signal,
            _ => None,
        };
        self.conn
            .execute(
                "UPDATE runs SET status = ?2, exit_code = ?3, signal = ?4, finished_at = ?5 WHERE id = ?1",
                params![run.0, state.label(), exit_code, signal, finished_at_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn save_job(
        &self,
        job: JobId,
        state: JobState,
        last_error: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE jobs SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
                params![job.0, state.as_str(), last_error, now_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Runs, newest first; `only_live` keeps those recorded as running, paused or stopping.
    pub fn runs(&self, only_live: bool) -> Result<Vec<StoredRun>, StoreError> {
        let filter = if only_live {
            "WHERE status IN ('running', 'paused', 'stopping')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, job_id, feature_id, profile, role, pid, pgid, proc_start_time, started_at,
                    finished_at, exit_code, signal, status, log_path FROM runs {filter} ORDER BY id DESC"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(StoredRun {
                    id: r.get(0)?,
                    job_id: r.get(1)?,
                    feature_id: r.get(2)?,
                    profile: r.get(3)?,
                    role: r.get(4)?,
                    pid: r.get(5)?,
                    pgid: r.get(6)?,
                    proc_start_time: r.get::<_, Option<i64>>(7)?.map(|t| t as u64),
                    started_at: r.get(8)?,
                    finished_at: r.get(9)?,
                    exit_code: r.get(10)?,
                    signal: r.get(11)?,
                    status: r.get(12)?,
                    log_path: r.get(13)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Marks a run `lost`: corral was not there to see how it ended.
    pub fn mark_lost(&self, run: i64, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET status = 'lost', finished_at = ?2 WHERE id = ?1;",
                params![run, now_ms],
            )
            .and_then(|_| {
                self.conn.execute(
                    "UPDATE jobs SET state = 'failed', last_error = 'lost', updated_at = ?2
                     WHERE id = (SELECT job_id FROM runs WHERE id = ?1) AND state = 'running'",
                    params![run, now_ms],
                )
            })
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Raw access for the read-only `status` dump.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Reads a stored status; unknown words (from a newer corral) read as pending rather than failing.
pub fn parse_feature_status(s: &str) -> FeatureStatus {
    match s {
        "in_progress" => FeatureStatus::InProgress,
        "passing" => FeatureStatus::Passing,
        "failing" => FeatureStatus::Failing,
        _ => FeatureStatus::Pending,
    }
}
