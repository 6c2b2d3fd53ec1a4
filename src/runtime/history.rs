//! Ended runs from the store, turned back into core records so a reopened dashboard shows them.

use super::store::{HistoryRow, Store, StoreError, StoredRun};
use crate::api::{FeatureId, JobId, JobState, Role, RunId, RunState, RunSummary};
use crate::core::{Job, Run};

/// How many ended runs a reopened dashboard lists.
const HISTORY_RUNS: usize = 30;

fn run_state(status: &str, code: Option<i32>, signal: Option<i32>) -> RunState {
    match status {
        "exited" => RunState::Exited,
        "failed" => RunState::Failed {
            code: code.unwrap_or(-1),
        },
        "killed" => RunState::Killed { signal },
        "spawn_failed" => RunState::SpawnFailed,
        "timed_out" => RunState::TimedOut,
        "stalled" => RunState::Stalled,
        _ => RunState::Lost,
    }
}

fn role(word: &str) -> Role {
    match word {
        "initializer" => Role::Initializer,
        "testing" => Role::Testing,
        "custom" => Role::Custom,
        _ => Role::Coding,
    }
}

fn job_state(word: &str) -> JobState {
    match word {
        "done" => JobState::Done,
        "cancelled" => JobState::Cancelled,
        "queued" => JobState::Queued,
        "running" => JobState::Running,
        _ => JobState::Failed,
    }
}

/// A stored run as the feature detail lists it.
pub fn summary(r: &StoredRun) -> RunSummary {
    RunSummary {
        id: RunId(r.id),
        profile: r.profile.clone(),
        role: role(&r.role),
        state: match r.status.as_str() {
            "running" | "paused" | "stopping" => RunState::Running,
            other => run_state(other, r.exit_code, r.signal),
        },
        exit_code: r.exit_code,
        started_at_ms: r.started_at,
        finished_at_ms: r.finished_at,
    }
}

fn to_records(row: HistoryRow) -> (Run, Job) {
    let r = row.run;
    let run = Run {
        id: RunId(r.id),
        job: JobId(r.job_id),
        feature: r.feature_id.map(FeatureId),
        profile: r.profile.clone(),
        role: role(&r.role),
        state: run_state(&r.status, r.exit_code, r.signal),
        pid: r.pid.unwrap_or(0),
        started_at_ms: r.started_at,
        finished_at_ms: r.finished_at.or(Some(r.started_at)),
        exit_code: r.exit_code,
        grace_ms: 0,
        kill_requested: r.status == "killed",
        restart_after: false,
        cleanup_pending: false,
        stopped_for: None,
        silence_ms: None,
        stats: None,
        kill_sent: false,
        verdict: None,
        epoch: 0,
    };
    let job = Job {
        id: JobId(r.job_id),
        profile: r.profile,
        feature: r.feature_id.map(FeatureId),
        state: job_state(&row.job_state),
        attempt: row.job_attempts,
        max_attempts: row.job_max_attempts,
        last_error: row.job_last_error,
    };
    (run, job)
}

/// Recent ended runs and their jobs (call after the sweep, so none is recorded live).
pub fn load_history(store: &Store) -> Result<Vec<(Run, Job)>, StoreError> {
    Ok(store
        .history(HISTORY_RUNS)?
        .into_iter()
        .map(to_records)
        .collect())
}
