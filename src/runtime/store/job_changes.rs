//! What a person can do to a stored job when no corral runs the project: retry and cancel,
//! with the meaning the core gives `Command::RetryJob` and `Command::CancelJob`
//! (`core::queue`), each checked and written in one transaction.
//!
//! While a corral runs, its core owns the queue and saves whole jobs from memory: a change
//! written here would be overwritten. Callers hold the project lock (`runtime::lock`) around
//! [`Store::retry_job`] and [`Store::cancel_job`], and send the command to a running corral
//! instead (after [`Store::check_job_request`]).

use super::backlog::set_status;
use super::jobs::{COLUMNS, job_from_row};
use super::{Store, StoreError};
use crate::api::{FeatureId, FeatureStatus, JobId, JobState, Role};
use crate::core::Job;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// Why a retry or cancel was not done. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum JobChangeError {
    /// No job has this id.
    #[error("no job {0}")]
    NoJob(JobId),
    /// The job's state does not allow it; the text says why, and what to do instead.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a person asks of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobRequest {
    /// A waiting job starts as soon as a slot is free; a failed or cancelled one is queued
    /// again with fresh attempts.
    Retry,
    /// A waiting job is dropped (a running one is killed, by a running corral only); its
    /// coding feature is marked failed so the scheduler does not queue it again.
    Cancel,
}

impl JobRequest {
    /// `retry` or `cancel`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobRequest::Retry => "retry",
            JobRequest::Cancel => "cancel",
        }
    }
}

/// A job after a retry or cancel, and its feature if that changed too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobChange {
    pub job: Job,
    /// The feature and its new status.
    pub feature: Option<(FeatureId, FeatureStatus)>,
}

type Sql<'a> = &'a dyn Fn(rusqlite::Error) -> JobChangeError;

impl Store {
    /// Decides `request` on job `id` as stored, the way the core would, without writing: the
    /// job (without its runs) when it would be done, else why not. `corral_runs` says a corral
    /// owns the project, so a running job can be cancelled (its core kills the run).
    pub fn check_job_request(
        &self,
        id: JobId,
        request: JobRequest,
        corral_runs: bool,
    ) -> Result<Job, JobChangeError> {
        check(&self.conn, &sql_error(&self.path), id, request, corral_runs)
    }

    /// `RetryJob` on the store: a queued or backoff job is queued to start now
    /// (`available_at` cleared); a failed or cancelled one is queued with attempts and
    /// transient attempts at 0, unless another open job does the same work (same feature and
    /// role); then its coding feature goes back to pending with attempts 0 and no last
    /// error, and the last error is cleared (a waiting job keeps it). Running and done jobs are refused, and so is a coding
    /// job whose feature passes, is gone or waits on a dependency.
    ///
    /// Only while no corral owns the project (see the module doc).
    pub fn retry_job(&mut self, id: JobId, now_ms: i64) -> Result<JobChange, JobChangeError> {
        let path = self.path.clone();
        self.write(|conn| {
            let sql = sql_error(&path);
            let job = check(conn, &sql, id, JobRequest::Retry, false)?;
            let fresh = matches!(job.state, JobState::Failed | JobState::Cancelled);
            conn.execute(
                "UPDATE jobs SET state = 'queued', available_at = NULL,
                     last_error = CASE WHEN ?2 THEN NULL ELSE last_error END,
                     attempts = CASE WHEN ?2 THEN 0 ELSE attempts END,
                     transient_attempts = CASE WHEN ?2 THEN 0 ELSE transient_attempts END,
                     updated_at = ?3
                 WHERE id = ?1",
                params![id.0, fresh, now_ms],
            )
            .map_err(&sql)?;
            let mut feature = None;
            if let (true, Role::Coding, Some(f)) = (fresh, job.role, job.feature)
                && feature_status(conn, f).map_err(&sql)?.is_some()
            {
                set_status(conn, f.0, "pending", Some(0), None, now_ms).map_err(&sql)?;
                feature = Some((f, FeatureStatus::Pending));
            }
            Ok(JobChange {
                job: read_job(conn, id)
                    .map_err(&sql)?
                    .ok_or(JobChangeError::NoJob(id))?,
                feature,
            })
        })
    }

    /// `CancelJob` on the store: a queued or backoff job is cancelled with the last error
    /// "cancelled by request", and its coding feature is marked failed ("job N cancelled by
    /// request", attempts kept) so the scheduler does not queue it again. A running job needs
    /// the corral that runs it; ended jobs are refused.
    ///
    /// Only while no corral owns the project (see the module doc).
    pub fn cancel_job(&mut self, id: JobId, now_ms: i64) -> Result<JobChange, JobChangeError> {
        let path = self.path.clone();
        self.write(|conn| {
            let sql = sql_error(&path);
            let job = check(conn, &sql, id, JobRequest::Cancel, false)?;
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', available_at = NULL,
                     last_error = 'cancelled by request', updated_at = ?2
                 WHERE id = ?1",
                params![id.0, now_ms],
            )
            .map_err(&sql)?;
            let mut feature = None;
            if let (Role::Coding, Some(f)) = (job.role, job.feature)
                && feature_status(conn, f).map_err(&sql)?.is_some()
            {
                let why = format!("job {id} cancelled by request");
                set_status(conn, f.0, "failed", None, Some(&why), now_ms).map_err(&sql)?;
                feature = Some((f, FeatureStatus::Failed));
            }
            Ok(JobChange {
                job: read_job(conn, id)
                    .map_err(&sql)?
                    .ok_or(JobChangeError::NoJob(id))?,
                feature,
            })
        })
    }
}

fn sql_error(path: &Path) -> impl Fn(rusqlite::Error) -> JobChangeError + '_ {
    move |source| {
        JobChangeError::Store(StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// The core's decision (`retry_job`, `cancel_job`) on the stored row.
fn check(
    conn: &Connection,
    sql: Sql,
    id: JobId,
    request: JobRequest,
    corral_runs: bool,
) -> Result<Job, JobChangeError> {
    let job = read_job(conn, id)
        .map_err(sql)?
        .ok_or(JobChangeError::NoJob(id))?;
    let refuse = |text: String| Err(JobChangeError::Refused(text));
    match (request, job.state) {
        // A corral that stopped without cleaning up (killed, crashed) leaves this behind;
        // the next one to start puts the job back in the queue.
        (_, JobState::Running) if !corral_runs => refuse(format!(
            "job {id} is recorded as running, but no corral is running this project (the one \
             that ran it stopped without cleaning up); start corral (`corral` or `corral run \
             --headless`), which puts the job back in the queue, then {} it",
            request.as_str()
        )),
        (JobRequest::Retry, JobState::Running) => refuse(format!(
            "job {id} is running; cancel it first (`corral job cancel {id}`) or let it end"
        )),
        (JobRequest::Retry, JobState::Done) => refuse(format!("job {id} is done")),
        (JobRequest::Retry, _) if job.role == Role::Coding => {
            if let Some(why) = why_not_runnable(conn, job.feature).map_err(sql)? {
                return refuse(format!("job {id} not retried: {why}"));
            }
            retry_unless_duplicate(conn, sql, job)
        }
        (JobRequest::Retry, JobState::Failed | JobState::Cancelled) => {
            retry_unless_duplicate(conn, sql, job)
        }
        (JobRequest::Cancel, JobState::Done | JobState::Failed | JobState::Cancelled) => refuse(
            format!("job {id} has ended already ({})", job.state.as_str()),
        ),
        _ => Ok(job),
    }
}

/// A retry of a failed or cancelled job is refused while another open job does its work.
fn retry_unless_duplicate(conn: &Connection, sql: Sql, job: Job) -> Result<Job, JobChangeError> {
    let refuse = |text: String| Err(JobChangeError::Refused(text));
    match job.state {
        JobState::Failed | JobState::Cancelled => match open_job(conn, &job).map_err(sql)? {
            Some((other, state)) => refuse(format!(
                "job {other} ({}) already does that work ({} {}); retry or cancel that one",
                state.as_str(),
                job.role,
                job.feature
                    .map_or("without a feature".to_string(), |f| format!(
                        "on feature {f}"
                    )),
            )),
            None => Ok(job),
        },
        _ => Ok(job),
    }
}

/// Why a coding job on `feature` could not run now (the core's reasons), if it could not.
fn why_not_runnable(
    conn: &Connection,
    feature: Option<FeatureId>,
) -> rusqlite::Result<Option<String>> {
    let Some(f) = feature else {
        return Ok(Some("its feature is gone".into()));
    };
    match feature_status(conn, f)?.as_deref() {
        None => return Ok(Some("its feature is gone".into())),
        Some("passing") => return Ok(Some(format!("feature {f} passes (requeue it to redo it)"))),
        _ => {}
    }
    let mut stmt = conn.prepare(
        "SELECT d.depends_on FROM feature_deps d JOIN features x ON x.id = d.depends_on
         WHERE d.feature_id = ?1 AND x.status != 'passing' ORDER BY d.depends_on",
    )?;
    let waits: Vec<String> = stmt
        .query_map([f.0], |r| r.get::<_, i64>(0))?
        .map(|r| r.map(|id| id.to_string()))
        .collect::<rusqlite::Result<_>>()?;
    Ok((!waits.is_empty()).then(|| format!("feature {f} waits on {}", waits.join(", "))))
}

/// The job's row, without its runs.
fn read_job(conn: &Connection, id: JobId) -> rusqlite::Result<Option<Job>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"),
        [id.0],
        job_from_row,
    )
    .optional()
}

/// Another open job of the same role on the same feature (or on none), as the core's
/// `open_job` finds it.
fn open_job(conn: &Connection, job: &Job) -> rusqlite::Result<Option<(JobId, JobState)>> {
    conn.query_row(
        "SELECT id, state FROM jobs WHERE feature_id IS ?1 AND role = ?2 AND id != ?3
             AND state IN ('queued', 'running', 'backoff')
         ORDER BY id LIMIT 1",
        params![job.feature.map(|f| f.0), job.role.as_str(), job.id.0],
        |r| {
            let state: String = r.get(1)?;
            Ok((
                JobId(r.get(0)?),
                JobState::parse(&state).unwrap_or(JobState::Queued),
            ))
        },
    )
    .optional()
}

/// The stored status word of a feature, if it exists.
fn feature_status(conn: &Connection, f: FeatureId) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT status FROM features WHERE id = ?1", [f.0], |r| {
        r.get(0)
    })
    .optional()
}
