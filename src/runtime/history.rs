//! Ended runs from the store, turned back into core records so a reopened dashboard shows them.

use super::store::{Store, StoreError, StoredRun};
use crate::api::{FeatureId, JobId, Role, RunId, RunState, RunSummary};
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

/// A stored role word; an unknown one (a newer corral wrote it) reads as coding.
fn role(word: &str) -> Role {
    Role::parse(word).unwrap_or(Role::Coding)
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
        usage: r.usage,
    }
}

fn to_run(r: StoredRun) -> Run {
    Run {
        attention: Default::default(),
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
        unjudged: None,
        verdict: None,
        failure: None,
        usage: r.usage,
        random: 0,
        epoch: 0,
    }
}

/// The stored queue (open jobs and recent ended ones) and recent ended runs (call after the
/// sweep, so none is recorded live).
pub fn load_queue(store: &Store) -> Result<(Vec<Job>, Vec<Run>), StoreError> {
    let runs = store
        .runs(false)?
        .into_iter()
        .filter(|r| !matches!(r.status.as_str(), "running" | "paused" | "stopping"))
        .take(HISTORY_RUNS)
        .map(to_run)
        .collect();
    Ok((store.load_jobs()?, runs))
}
