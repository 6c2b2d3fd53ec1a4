//! The job queue in the store: saved whole by the core, claimed atomically before a spawn,
//! read back at start and by `corral job`.

use super::{Store, StoreError};
use crate::api::{FeatureId, JobId, JobState, Role, RunId, Usage};
use crate::core::Job;
use rusqlite::{OptionalExtension, params};

/// How many ended jobs are read back for display.
const ENDED_JOBS: usize = 50;

pub(super) const COLUMNS: &str =
    "id, profile, account, role, feature_id, priority, state, attempts,
    max_attempts, transient_attempts, transient_budget, available_at, last_error, created_at";

/// A `jobs` row read with [`COLUMNS`], without its runs and usage.
pub(super) fn job_from_row(r: &rusqlite::Row) -> rusqlite::Result<Job> {
    let state: String = r.get(6)?;
    let role: String = r.get(3)?;
    Ok(Job {
        id: JobId(r.get(0)?),
        profile: r.get(1)?,
        account: r.get(2)?,
        role: Role::parse(&role).unwrap_or(Role::Coding),
        feature: r.get::<_, Option<i64>>(4)?.map(FeatureId),
        priority: r.get(5)?,
        // An unknown word (a newer corral wrote it) reads as failed: never run by surprise.
        state: JobState::parse(&state).unwrap_or(JobState::Failed),
        attempts: r.get(7)?,
        max_attempts: r.get(8)?,
        transient_attempts: r.get(9)?,
        transient_budget: r.get(10)?,
        available_at_ms: r.get(11)?,
        last_error: r.get(12)?,
        runs: Vec::new(),
        usage: Usage::default(),
        created_at_ms: r.get(13)?,
        epoch: 0,
    })
}

impl Store {
    /// Inserts or updates the whole job as the core has it.
    pub fn save_job(&self, job: &Job, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO jobs (id, profile, account, role, feature_id, priority, state, attempts,
                     max_attempts, transient_attempts, transient_budget, available_at, last_error,
                     created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT(id) DO UPDATE SET profile = ?2, account = ?3, role = ?4,
                     feature_id = ?5, priority = ?6, state = ?7, attempts = ?8, max_attempts = ?9,
                     transient_attempts = ?10, transient_budget = ?11, available_at = ?12,
                     last_error = ?13, updated_at = ?15",
                params![
                    job.id.0,
                    job.profile,
                    job.account,
                    job.role.as_str(),
                    job.feature.map(|f| f.0),
                    job.priority,
                    job.state.as_str(),
                    job.attempts,
                    job.max_attempts,
                    job.transient_attempts,
                    job.transient_budget,
                    job.available_at_ms,
                    job.last_error,
                    job.created_at_ms,
                    now_ms
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Takes a waiting job for a run: true when this call moved it from queued or backoff to
    /// running, with `attempts` (counting the new run) stored at once. One statement, so two
    /// claims of the same job can never both succeed.
    pub fn claim_job(&self, job: JobId, attempts: u32, now_ms: i64) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE jobs SET state = 'running', available_at = NULL, attempts = ?3,
                     last_error = NULL, updated_at = ?2
                 WHERE id = ?1 AND state IN ('queued', 'backoff')",
                params![job.0, now_ms, attempts],
            )
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    /// Every open job (queued, running, backoff) and the most recent ended ones, by id, each
    /// with its runs and what they spent.
    pub fn load_jobs(&self) -> Result<Vec<Job>, StoreError> {
        self.jobs_with_ended(Some(ENDED_JOBS))
    }

    /// Every open job and the `ended` most recent ended ones (all of them with `None`), by id,
    /// each with its runs and what they spent.
    pub fn jobs_with_ended(&self, ended: Option<usize>) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE state IN ('queued', 'running', 'backoff')
             UNION ALL
             SELECT * FROM (SELECT {COLUMNS} FROM jobs
                 WHERE state NOT IN ('queued', 'running', 'backoff') ORDER BY id DESC LIMIT ?1)
             ORDER BY id"
        );
        // SQLite reads a negative LIMIT as no limit.
        let limit = ended.map_or(-1, |n| n as i64);
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let jobs = stmt
            .query_map([limit], job_from_row)
            .map_err(|e| self.err(e))?
            .collect::<Result<Vec<Job>, _>>()
            .map_err(|e| self.err(e))?;
        self.with_runs(jobs)
    }

    /// One job by id, with its runs, if it exists.
    pub fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1");
        let job = self
            .conn
            .query_row(&sql, [id.0], job_from_row)
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(self.with_runs(job.into_iter().collect())?.pop())
    }

    fn with_runs(&self, mut jobs: Vec<Job>) -> Result<Vec<Job>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM runs WHERE job_id = ?1 ORDER BY id")
            .map_err(|e| self.err(e))?;
        let usage: std::collections::HashMap<i64, Usage> =
            self.usage_by(Some("job_id"))?.into_iter().collect();
        for job in &mut jobs {
            job.runs = stmt
                .query_map([job.id.0], |r| Ok(RunId(r.get(0)?)))
                .map_err(|e| self.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.err(e))?;
            job.usage = usage.get(&job.id.0).copied().unwrap_or_default();
        }
        Ok(jobs)
    }

    /// How many jobs have ended (done, failed or cancelled).
    pub fn ended_job_count(&self) -> Result<usize, StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM jobs WHERE state NOT IN ('queued', 'running', 'backoff')",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as usize)
            .map_err(|e| self.err(e))
    }

    /// When the job's row was last written (ms since the epoch), if it exists: a change made
    /// by a running corral shows here even when it left every other column as it was.
    pub fn job_updated_at(&self, id: JobId) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT updated_at FROM jobs WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The highest job id ever stored (0 when none).
    pub fn max_job_id(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT COALESCE(MAX(id), 0) FROM jobs", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}
