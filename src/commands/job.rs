//! `corral job list|retry|cancel`. While a corral runs the project, its core owns the queue:
//! retry and cancel are requests to it, and its one reply says what it did or why not.
//! Otherwise the core's own rules are applied to the stored queue (`runtime::stored`) in one
//! transaction, holding the project lock so no corral starts meanwhile.

use super::backlog::{BacklogCommandError, Result, emit, emit_json, label, open_store};
use super::job_view::{self, summary, views};
use crate::api::{Command, FeatureStatus, JobId, JobState, JobView};
use crate::cli::JobCmd;
use crate::runtime::store::Store;
use crate::runtime::stored::{self, Applied, StoredChangeError};
use crate::runtime::{lock, now_ms};
use std::path::Path;

impl From<StoredChangeError> for BacklogCommandError {
    fn from(e: StoredChangeError) -> Self {
        match e {
            StoredChangeError::Store(e) => BacklogCommandError::Store(e),
            other => BacklogCommandError::Refused(other.to_string()),
        }
    }
}

/// What a person asks of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobRequest {
    Retry,
    Cancel,
}

impl JobRequest {
    fn as_str(self) -> &'static str {
        match self {
            JobRequest::Retry => "retry",
            JobRequest::Cancel => "cancel",
        }
    }

    fn command(self, job: JobId) -> Command {
        match self {
            JobRequest::Retry => Command::RetryJob { job },
            JobRequest::Cancel => Command::CancelJob { job },
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
            // A corral that stopped without cleaning up (killed, crashed) leaves this behind;
            // the next one to start puts the job back in the queue.
            if store.job(id)?.is_some_and(|j| j.state == JobState::Running) {
                return Err(BacklogCommandError::Refused(format!(
                    "job {id} is recorded as running, but no corral is running this project \
                     (the one that ran it stopped without cleaning up); start corral (`corral` \
                     or `corral run --headless`), which puts the job back in the queue, then \
                     {} it",
                    request.as_str()
                )));
            }
            let applied = stored::apply(&mut store, request.command(id), now_ms())?;
            report_direct(&store, id, &applied, json)
        }
        Err(lock::LockError::Held { holder, .. }) => {
            ask(project, &store, id, request, &holder, json)
        }
        Err(e) => Err(BacklogCommandError::Refused(e.to_string())),
    }
}

fn view(store: &Store, id: JobId) -> Result<JobView> {
    let job = store
        .job(id)?
        .ok_or_else(|| BacklogCommandError::Refused(format!("no job {id}")))?;
    Ok(views(store, std::slice::from_ref(&job))?.remove(0))
}

fn report_direct(store: &Store, id: JobId, applied: &Applied, json: bool) -> Result<()> {
    let v = view(store, id)?;
    if json {
        return emit_json(&v);
    }
    let mut text = summary(&v);
    let feature = applied
        .features
        .iter()
        .find(|(f, _)| Some(*f) == v.feature)
        .copied();
    match feature {
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

/// Sends the request to the running corral and prints its one reply: the job as its core
/// has it after the change (a cancelled run has stopped, or is still within its grace).
fn ask(
    project: &Path,
    store: &Store,
    id: JobId,
    request: JobRequest,
    holder: &str,
    json: bool,
) -> Result<()> {
    let (pid, view) = match super::daemon::ask_command(project, request.command(id)) {
        Ok(super::daemon::Asked::Done { pid, view }) => (pid, view),
        Ok(super::daemon::Asked::NoDaemon) => {
            return Err(BacklogCommandError::Refused(format!(
                "a corral (pid {holder}) runs this project but does not answer on its socket \
                 (starting or stopping?); nothing changed, try again in a moment"
            )));
        }
        Err(reason) => return Err(BacklogCommandError::Refused(reason)),
    };
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
    if request == JobRequest::Cancel && v.state == JobState::Running {
        text.push_str("\nits run is stopping; the job ends as cancelled once the run has stopped");
    }
    text.push_str(&breaker_note(store, &v)?);
    emit(&text)
}
