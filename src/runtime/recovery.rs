//! What to do at start about runs an earlier corral left recorded as live.

use super::process::{process_start_time, signal_group};
use super::store::{Store, StoreError};
use crate::core::Sig;

/// Whether the group `pgid` still holds processes of the run whose leader `pid` started at
/// `recorded`. The leader itself, alive with that start time, says yes; a leader pid now used
/// by another process says no. With the leader gone (say it died of a closed pipe), the group
/// is ours if some member of it started after the leader: a group id cannot be taken again
/// while any process is still in that group.
fn is_ours(pid: u32, pgid: u32, recorded: u64) -> bool {
    match process_start_time(pid) {
        Some(t) => t == recorded,
        None => super::sampler::read_process_table(4096)
            .iter()
            .filter(|p| p.pgrp == pgid)
            .any(|p| process_start_time(p.pid).is_some_and(|t| t >= recorded)),
    }
}

/// What the start-up sweep found of an earlier corral's runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Runs recorded as live by a corral that is gone, now recorded `lost`.
    pub lost: Vec<crate::api::RunId>,
    /// Those of them whose process group was still there and was killed.
    pub killed: Vec<crate::api::RunId>,
}

/// Every run recorded as live belongs to a corral that is gone (the caller owns the project
/// now). If its process still exists with the same start time, its group is killed; a pid now
/// used by an unrelated process is left alone. Either way the run is recorded `lost`.
/// Returns how many runs were swept.
pub fn sweep_leftover_runs(store: &Store, now_ms: i64) -> Result<usize, StoreError> {
    sweep_and_report(store, now_ms).map(|swept| swept.lost.len())
}

/// [`sweep_leftover_runs`], saying which runs it recorded lost and whose groups it killed.
pub fn sweep_and_report(store: &Store, now_ms: i64) -> Result<Swept, StoreError> {
    let live = store.runs(true)?;
    let mut swept = Swept::default();
    for run in &live {
        if let (Some(pid), Some(recorded)) = (run.pid, run.proc_start_time)
            && is_ours(pid, run.pgid.unwrap_or(pid), recorded)
        {
            log::warn!(
                "run {}: killing group {pid} left over from an earlier corral",
                run.id
            );
            if let Err(e) = signal_group(run.pgid.unwrap_or(pid), Sig::Kill) {
                log::warn!("run {}: could not kill leftover group {pid}: {e}", run.id);
            } else {
                swept.killed.push(crate::api::RunId(run.id));
            }
        }
        store.mark_lost(run.id, now_ms)?;
        swept.lost.push(crate::api::RunId(run.id));
    }
    Ok(swept)
}
