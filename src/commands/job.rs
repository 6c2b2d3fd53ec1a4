//! `corral job list|retry|cancel`. While a corral runs the project, its core owns the queue:
//! retry and cancel are sent to it through the control socket, and the command waits until the
//! store shows what it did. Otherwise they are applied to the store directly, with the same
//! meaning, in one transaction, holding the project lock so no corral starts meanwhile.

use super::backlog::{BacklogCommandError, Result, emit, emit_json, label, open_store};
use super::job_view::{self, summary, views};
use crate::api::{Command, FeatureStatus, JobId, JobState, JobView};
use crate::cli::JobCmd;
use crate::core::Job;
use crate::runtime::store::{JobChange, JobChangeError, JobRequest, Store};
use crate::runtime::{control, lock, now_ms};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a retry or cancel sent to a running corral waits for the store to show it; long
/// enough for a killed run's default grace period (5 s) to pass.
const SETTLE: Duration = Duration::from_secs(10);

impl From<JobChangeError> for BacklogCommandError {
    fn from(e: JobChangeError) -> Self {
        match e {
            JobChangeError::Store(e) => BacklogCommandError::Store(e),
            other => BacklogCommandError::Refused(other.to_string()),
        }
    }
}

/// Runs one `corral job` subcommand on `project`.
pub fn run_job_command(project: &Path, cmd: &JobCmd) -> Result<()> {
    match cmd {
        JobCmd::List { json, all } => job_view::list(project, *all, *json),
        JobCmd::Retry { id, json } => change(project, JobId(*id), JobRequest::Retry, *json),
        JobCmd::Cancel { id, json } => change(project, JobId(*id), JobRequest::Cancel, *json),
    }
}

fn change(project: &Path, id: JobId, request: JobRequest, json: bool) -> Result<()> {
    let mut store = open_store(project)?;
    match lock::acquire(project) {
        Ok(_lock) => {
            let now = now_ms();
            let done = match request {
                JobRequest::Retry => store.retry_job(id, now)?,
                JobRequest::Cancel => store.cancel_job(id, now)?,
            };
            report_direct(&store, &done, json)
        }
        Err(lock::LockError::Held { holder, .. }) => {
            send_and_wait(project, &store, id, request, &holder, json)
        }
        Err(e) => Err(BacklogCommandError::Refused(e.to_string())),
    }
}

fn view(store: &Store, id: JobId) -> Result<JobView> {
    let job = store.job(id)?.ok_or(JobChangeError::NoJob(id))?;
    Ok(views(store, std::slice::from_ref(&job))?.remove(0))
}

fn report_direct(store: &Store, done: &JobChange, json: bool) -> Result<()> {
    let v = view(store, done.job.id)?;
    if json {
        return emit_json(&v);
    }
    let mut text = summary(&v);
    match done.feature {
        Some((f, FeatureStatus::Pending)) => text.push_str(&format!(
            "\n{} is {} again, attempts 0",
            label(f.0, v.feature_name.as_deref().unwrap_or_default()),
            super::feature_view::describe_status(&store.feature_records()?, f.0)
        )),
        Some((f, _)) => text.push_str(&format!(
            "\n{} marked failed so it is not queued again (`corral job retry {}` or \
             `corral feature requeue {f}` puts it back)",
            label(f.0, v.feature_name.as_deref().unwrap_or_default()),
            v.id
        )),
        None => {}
    }
    text.push_str(&breaker_note(store, &v)?);
    emit(&text)
}

/// For a job left waiting: a line saying when its account's breaker holds it.
fn breaker_note(store: &Store, v: &JobView) -> Result<String> {
    if v.state != JobState::Queued {
        return Ok(String::new());
    }
    let held = store
        .load_breakers()?
        .into_iter()
        .map(|(account, saved)| saved.state.view(&account))
        .find(|b| b.account == v.account && b.state != crate::api::BreakerState::Closed);
    Ok(held.map_or(String::new(), |b| {
        format!(
            "\nit waits for the breaker of {}",
            super::breaker::describe(&b, now_ms())
        )
    }))
}

/// What the store shows of a job: the row and when it was written.
fn stamp(store: &Store, id: JobId) -> Result<(Job, Option<i64>)> {
    let job = store.job(id)?.ok_or(JobChangeError::NoJob(id))?;
    Ok((job, store.job_updated_at(id)?))
}

/// Checks the request as the core would (so a refusal names its reason and exits 2 here),
/// sends it, then polls the store until it shows the change: for a retry, any new write of
/// the job's row; for a cancel, the job ended. A cancelled run still inside its grace period
/// at the deadline is reported as stopping.
fn send_and_wait(
    project: &Path,
    store: &Store,
    id: JobId,
    request: JobRequest,
    holder: &str,
    json: bool,
) -> Result<()> {
    store.check_job_request(id, request, true)?;
    let before = stamp(store, id)?;
    let command = match request {
        JobRequest::Retry => Command::RetryJob { job: id },
        JobRequest::Cancel => Command::CancelJob { job: id },
    };
    match super::daemon::ask_command(project, command.clone()) {
        Ok(super::daemon::Asked::Done { pid, view }) => {
            let v = match view {
                Some(crate::api::View::Job { job }) => *job,
                _ => self::view(store, id)?,
            };
            if json {
                return emit_json(&v);
            }
            let mut text = format!(
                "sent `{}` to the running corral (pid {pid}); it now shows:\n{}",
                request.as_str(),
                summary(&v)
            );
            text.push_str(&breaker_note(store, &v)?);
            return emit(&text);
        }
        Ok(super::daemon::Asked::NoDaemon) => {}
        Err(reason) => return Err(BacklogCommandError::Refused(reason)),
    }
    // A corral that does not speak the protocol: send, then watch the store.
    if !control::send(project, &command) {
        return Err(BacklogCommandError::Refused(format!(
            "a corral (pid {holder}) runs this project but does not answer on its control socket \
             (starting or stopping?); nothing changed, try again in a moment"
        )));
    }
    let deadline = Instant::now() + SETTLE;
    let mut stopping = None;
    loop {
        let now = stamp(store, id)?;
        let settled = match request {
            JobRequest::Retry => now != before,
            JobRequest::Cancel => !now.0.state.is_open(),
        };
        if settled {
            break;
        }
        if Instant::now() >= deadline {
            stopping = (request == JobRequest::Cancel && now.0.state == JobState::Running)
                .then(|| store.runs(true))
                .transpose()?
                .and_then(|runs| {
                    runs.into_iter()
                        .find(|r| r.job_id == id.0 && r.status == "stopping")
                });
            if stopping.is_some() {
                break;
            }
            return Err(BacklogCommandError::Refused(format!(
                "sent `{}` to the running corral (pid {holder}), but after {}s the store still \
                 shows {}: it may have refused (its notices say why: the dashboard's status \
                 line, or the `corral run --headless` output)",
                request.as_str(),
                SETTLE.as_secs(),
                summary(&view(store, id)?)
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let v = view(store, id)?;
    if json {
        return emit_json(&v);
    }
    let mut text = format!(
        "sent `{}` to the running corral (pid {holder}); the store now shows:\n{}",
        request.as_str(),
        summary(&v)
    );
    if let Some(run) = stopping {
        text.push_str(&format!(
            "\nits run {} is stopping; the job ends as cancelled once the run has stopped",
            run.id
        ));
    }
    text.push_str(&breaker_note(store, &v)?);
    emit(&text)
}
