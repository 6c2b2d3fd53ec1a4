//! Jobs and runs in the store: created before a spawn, updated as they go, read for recovery.

use super::{Store, StoreError};
use crate::api::{FeatureId, JobId, Role, RunId, RunState, Usage};
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
    /// What the agent reported spending, if it did.
    pub usage: Option<Usage>,
}

impl Store {
    /// Records a new run of `job` (status `running`, no pid yet) before the spawn, so the log
    /// file can be named after the run id.
    pub fn begin_run(
        &mut self,
        job: JobId,
        profile: &str,
        role: Role,
        feature: Option<FeatureId>,
        runs_dir: &Path,
        now_ms: i64,
    ) -> Result<(RunId, PathBuf), StoreError> {
        let path = self.path.clone();
        let sql_err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql_err)?;
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
        Ok((run, log))
    }

    /// Records a new running job with its first run at once, for work started outside the
    /// queue (tools, tests); the supervisor's jobs come from the core through `save_job`.
    pub fn begin_job_and_run(
        &mut self,
        profile: &str,
        role: Role,
        feature: Option<FeatureId>,
        runs_dir: &Path,
        now_ms: i64,
    ) -> Result<(JobId, RunId, PathBuf), StoreError> {
        self.conn
            .execute(
                "INSERT INTO jobs (profile, account, role, feature_id, state, attempts, created_at, updated_at)
                 VALUES (?1, ?1, ?2, ?3, 'running', 1, ?4, ?4)",
                params![profile, role.as_str(), feature.map(|f| f.0), now_ms],
            )
            .map_err(|e| self.err(e))?;
        let job = JobId(self.conn.last_insert_rowid());
        let (run, log) = self.begin_run(job, profile, role, feature, runs_dir, now_ms)?;
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

    /// Runs, newest first; `only_live` keeps those recorded as running, paused or stopping.
    pub fn runs(&self, only_live: bool) -> Result<Vec<StoredRun>, StoreError> {
        let filter = if only_live {
            "WHERE status IN ('running', 'paused', 'stopping')"
        } else {
            ""
        };
        let sql = format!(
            "SELECT id, job_id, feature_id, profile, role, pid, pgid, proc_start_time, started_at,
                    finished_at, exit_code, signal, status, log_path, input_tokens, output_tokens,
                    cache_read_tokens, cache_write_tokens, cost_micros FROM runs {filter} ORDER BY id DESC"
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
                    usage: usage_at(r, 14)?,
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
                // The job waits again; the attempt its lost run took does not count.
                self.conn.execute(
                    "UPDATE jobs SET state = 'queued', attempts = MAX(attempts - 1, 0),
                            last_error = 'interrupted when corral stopped', updated_at = ?2
                     WHERE id = (SELECT job_id FROM runs WHERE id = ?1) AND state = 'running'",
                    params![run, now_ms],
                )
            })
            .map(drop)
            .map_err(|e| self.err(e))
    }
}

impl Store {
    /// Records the model and effort a run was started with.
    /// Records the agent's session id of a run (see `{session_id}`).
    pub fn set_run_session(&self, run: RunId, session: &str) -> Result<(), StoreError> {
        self.connection()
            .execute(
                "UPDATE runs SET session = ?2 WHERE id = ?1",
                params![run.0, session],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The session of the newest run of `feature` with `profile` that recorded one.
    pub fn latest_session(
        &self,
        feature: crate::api::FeatureId,
        profile: &str,
    ) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        self.connection()
            .query_row(
                "SELECT session FROM runs WHERE feature_id = ?1 AND profile = ?2 \
                 AND session IS NOT NULL ORDER BY id DESC LIMIT 1",
                params![feature.0, profile],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

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

/// The five usage columns starting at `first` (input, output, cache read, cache write, cost);
/// `None` when the run reported nothing.
pub(super) fn usage_at(r: &rusqlite::Row, first: usize) -> rusqlite::Result<Option<Usage>> {
    let tokens = |i: usize| -> rusqlite::Result<Option<i64>> { r.get(first + i) };
    let (input, output, read, write) = (tokens(0)?, tokens(1)?, tokens(2)?, tokens(3)?);
    let cost: Option<i64> = r.get(first + 4)?;
    if input.is_none() && output.is_none() && cost.is_none() {
        return Ok(None);
    }
    let n = |v: Option<i64>| v.unwrap_or(0).max(0) as u64;
    Ok(Some(Usage {
        input_tokens: n(input),
        output_tokens: n(output),
        cache_read_tokens: n(read),
        cache_write_tokens: n(write),
        cost_micros: cost.map(|c| c.max(0) as u64),
    }))
}

impl Store {
    /// Records what a run reported spending.
    pub fn save_run_usage(&self, run: RunId, usage: &Usage) -> Result<(), StoreError> {
        let n = |v: u64| v.min(i64::MAX as u64) as i64;
        self.conn
            .execute(
                "UPDATE runs SET input_tokens = ?2, output_tokens = ?3, cache_read_tokens = ?4,
                        cache_write_tokens = ?5, cost_micros = ?6 WHERE id = ?1",
                params![
                    run.0,
                    n(usage.input_tokens),
                    n(usage.output_tokens),
                    n(usage.cache_read_tokens),
                    n(usage.cache_write_tokens),
                    usage.cost_micros.map(n)
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Usage summed over runs, grouped by `column` (`feature_id`, `job_id`), or over every run
    /// when `column` is `None` (key 0).
    pub fn usage_by(&self, column: Option<&str>) -> Result<Vec<(i64, Usage)>, StoreError> {
        let (key, group) = match column {
            Some(c) => (c, format!("WHERE {c} IS NOT NULL GROUP BY {c}")),
            None => ("0", String::new()),
        };
        let sql = format!(
            "SELECT {key}, SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens),
                    SUM(cache_write_tokens), SUM(cost_micros) FROM runs {group}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, Option<i64>>(0)?, usage_at(r, 1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            if let (Some(k), Some(u)) = row.map_err(|e| self.err(e))? {
                out.push((k, u));
            }
        }
        Ok(out)
    }
}
