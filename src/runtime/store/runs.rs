//! Jobs and runs in the store: created before a spawn, updated as they go, read for recovery.

use super::{Store, StoreError};
use crate::api::{FeatureId, JobId, JobState, Role, RunId, RunState};
use rusqlite::params;
use serde::Serialize;
use std::path::{Path, PathBuf};

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

impl Store {
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
}

/// An ended run with its job, for the dashboard's history after a restart.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub run: StoredRun,
    pub job_state: String,
    pub job_attempts: u32,
    pub job_max_attempts: u32,
    pub job_last_error: Option<String>,
}

impl Store {
    /// The `limit` most recent ended runs with their jobs, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<HistoryRow>, StoreError> {
        let ended: Vec<StoredRun> = self
            .runs(false)?
            .into_iter()
            .filter(|r| !matches!(r.status.as_str(), "running" | "paused" | "stopping"))
            .take(limit)
            .collect();
        let mut stmt = self
            .connection()
            .prepare("SELECT state, attempts, max_attempts, last_error FROM jobs WHERE id = ?1")
            .map_err(|e| self.err(e))?;
        let mut rows = Vec::with_capacity(ended.len());
        for run in ended {
            let (job_state, job_attempts, job_max_attempts, job_last_error) = stmt
                .query_row([run.job_id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(|e| self.err(e))?;
            rows.push(HistoryRow {
                run,
                job_state,
                job_attempts,
                job_max_attempts,
                job_last_error,
            });
        }
        Ok(rows)
    }
}

impl Store {
    /// Records the model and effort a run was started with.
    pub fn set_run_model(
        &self,
        run: RunId,
        model: Option<&str>,
        effort: Option<&str>,
    ) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "UPDATE runs SET model = ?2, effort = ?3 WHERE id = ?1",
                params![run.0, model, effort],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }
}
