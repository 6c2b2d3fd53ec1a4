//! The daemon's answer to one request: checked against the live state, handed to the core,
//! and replied to once the core has handled it (see `Input::Asked`), with the view it
//! produced.

use crate::api::{
    Command, DaemonInfo, Hello, JobId, Outcome, RefusalKind, Request, RunId, RunView, Snapshot,
    View,
};
use crate::core::Input;
use crate::runtime::control::Served;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The longest a reply waits for the core to take a command (it is busy or stopping).
const HANDLED_PATIENCE: Duration = Duration::from_secs(10);
/// The longest a kill's reply waits for the run to end (its profile's grace and a margin);
/// after that the reply says it is still stopping.
const KILL_PATIENCE: Duration = Duration::from_secs(60);

/// Answers `request` (anything but a subscription, which the session handles itself).
pub async fn answer(served: &Served, request: Request) -> Outcome {
    match request {
        Request::Agents => {
            let runs = served.snapshots.borrow().runs.clone();
            done(View::Runs { runs })
        }
        Request::Log { run, lines } => {
            let known = served.snapshots.borrow().runs.iter().any(|r| r.id == run);
            let logs = served.logs.clone();
            let tail = tokio::task::spawn_blocking(move || logs.tail(run, lines))
                .await
                .unwrap_or_default();
            if tail.is_empty() && !known {
                return unknown_run(run);
            }
            done(View::Lines { lines: tail })
        }
        Request::Status => {
            let ours = Hello::ours();
            let (live_runs, paused, config_error) = {
                let snap = served.snapshots.borrow();
                let live = snap.runs.iter().filter(|r| r.state.is_live()).count();
                (live, snap.paused_reason.clone(), snap.config_error.clone())
            };
            done(View::Daemon {
                daemon: DaemonInfo {
                    pid: ours.pid,
                    version: ours.version,
                    protocol: ours.protocol,
                    started_at_ms: served.started_at_ms,
                    clients: served.clients.load(Ordering::SeqCst),
                    live_runs,
                    paused,
                    config_error,
                },
            })
        }
        Request::AppLog { lines } => done(View::AppLog {
            lines: crate::logging::recent(lines),
        }),
        Request::Snapshot => {
            let snapshot = Box::new(served.snapshots.borrow().clone());
            done(View::Snapshot { snapshot })
        }
        Request::FeatureDetail { feature } => {
            let db = served.db.clone();
            let detail = tokio::task::spawn_blocking(move || {
                crate::runtime::RuntimeHandle::read_feature_detail(&db, feature)
            })
            .await
            .ok()
            .flatten();
            match detail {
                Some(d) => done(View::Feature {
                    feature: Box::new(d),
                }),
                None => Outcome::refused(RefusalKind::Unknown, format!("no feature {feature}")),
            }
        }
        Request::FeatureDiff { feature } => {
            // A few git commands: on a blocking thread, so the daemon's loop goes on.
            let project = served
                .db
                .parent()
                .and_then(|d| d.parent())
                .map(Path::to_path_buf);
            let diff = tokio::task::spawn_blocking(move || {
                project.and_then(|p| crate::runtime::git::diff::feature_diff(&p, feature))
            })
            .await
            .ok()
            .flatten();
            match diff {
                Some(d) => done(View::Diff { diff: Box::new(d) }),
                None => Outcome::refused(
                    RefusalKind::Unknown,
                    format!("feature {feature} has no worktree to compare"),
                ),
            }
        }
        Request::Subscribe { .. } => Outcome::refused(
            RefusalKind::Invalid,
            "subscribe is answered by the connection itself",
        ),
        Request::Command { command } => command_outcome(served, command).await,
    }
}

fn done(view: View) -> Outcome {
    Outcome::Done { view: Some(view) }
}

fn unknown_run(run: RunId) -> Outcome {
    Outcome::refused(
        RefusalKind::Unknown,
        format!("no run {run} (see `corral agent list`)"),
    )
}

fn run_view(snapshot: &Snapshot, run: RunId) -> Option<RunView> {
    snapshot.runs.iter().find(|r| r.id == run).cloned()
}

/// The run a command is about, when it is about one.
fn run_of(command: &Command) -> Option<RunId> {
    match command {
        Command::Pause { run }
        | Command::Resume { run }
        | Command::Kill { run, .. }
        | Command::Restart { run }
        | Command::SendInput { run, .. }
        | Command::Answer { run, .. } => Some(*run),
        _ => None,
    }
}

fn job_of(command: &Command) -> Option<JobId> {
    match command {
        Command::RetryJob { job }
        | Command::CancelJob { job }
        | Command::SetJobPriority { job, .. } => Some(*job),
        _ => None,
    }
}

async fn command_outcome(served: &Served, command: Command) -> Outcome {
    let run = run_of(&command);
    if let Some(run) = run {
        let Some(view) = run_view(&served.snapshots.borrow(), run) else {
            return unknown_run(run);
        };
        // A restart of an ended run starts its feature again; everything else needs it live.
        if !view.state.is_live() && !matches!(command, Command::Restart { .. }) {
            return Outcome::refused(
                RefusalKind::Ended,
                format!(
                    "run {run} has ended ({})",
                    crate::core::describe_end(view.state)
                ),
            );
        }
    }
    let job = job_of(&command);
    let kill = matches!(command, Command::Kill { .. });
    let cancel = matches!(command, Command::CancelJob { .. });
    match asked(served, command).await {
        None => return stopping(),
        Some(Some(why)) => {
            let kind = if why.starts_with("no ") {
                RefusalKind::Unknown
            } else {
                RefusalKind::Invalid
            };
            return Outcome::refused(kind, why);
        }
        Some(None) => {}
    }
    if let Some(run) = run {
        if kill {
            wait_for(served, KILL_PATIENCE, |s| {
                run_view(s, run).is_none_or(|r| !r.state.is_live())
            })
            .await;
        }
        return match run_view(&served.snapshots.borrow(), run) {
            Some(r) => done(View::Run { run: Box::new(r) }),
            None => Outcome::Done { view: None },
        };
    }
    if let Some(job) = job {
        if cancel {
            // A running job ends once its run has stopped (the grace period).
            wait_for(served, KILL_PATIENCE, |s| {
                s.jobs
                    .iter()
                    .find(|j| j.id == job)
                    .is_none_or(|j| !j.state.is_open())
            })
            .await;
        }
        let found = served
            .snapshots
            .borrow()
            .jobs
            .iter()
            .find(|j| j.id == job)
            .cloned();
        return match found {
            Some(j) => done(View::Job { job: Box::new(j) }),
            None => Outcome::Done { view: None },
        };
    }
    Outcome::Done { view: None }
}

fn stopping() -> Outcome {
    Outcome::refused(RefusalKind::Invalid, "the daemon is stopping")
}

/// Hands `command` to the core and waits until it has handled it and published the snapshot
/// after it: `Some(None)` done, `Some(Some(why))` refused by the core's rules. `None` when
/// the runtime is gone or too busy to get there in time.
async fn asked(served: &Served, command: Command) -> Option<Option<String>> {
    let ticket = served.marks.fetch_add(1, Ordering::SeqCst) + 1;
    if served.tx.send(Input::Asked { ticket, command }).is_err() {
        return None;
    }
    let mut passed = served.passed.clone();
    let reached = tokio::time::timeout(HANDLED_PATIENCE, passed.wait_for(|p| *p >= ticket)).await;
    let answer = served
        .answers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&ticket);
    match reached {
        Ok(Ok(_)) => answer,
        _ => None,
    }
}

/// Waits (at most `patience`) until the published snapshot satisfies `ready`.
async fn wait_for(served: &Served, patience: Duration, ready: impl Fn(&Snapshot) -> bool) {
    let mut snapshots = served.snapshots.clone();
    let _ = tokio::time::timeout(patience, snapshots.wait_for(|s| ready(s))).await;
}
