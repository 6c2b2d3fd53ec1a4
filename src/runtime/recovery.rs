//! What to do at start about runs an earlier corral left recorded as live.

use super::process::{process_start_time, signal_group};
use super::store::{Store, StoreError};
use crate::core::Sig;

/// Every run recorded as live belongs to a corral that is gone (the caller owns the project
/// now). If its process still exists with the same start time, its group is killed; a pid now
/// used by an unrelated process is left alone. Either way the run is recorded `lost`.
/// Returns how many runs were swept.
pub fn sweep_leftover_runs(store: &Store, now_ms: i64) -> Result<usize, StoreError> {
    let live = store.runs(true)?;
    for run in &live {
        if let (Some(pid), Some(recorded)) = (run.pid, run.proc_start_time)
            && process_start_time(pid) == Some(recorded)
        {
            log::warn!(
                "run {}: killing group {pid} left over from an earlier corral",
                run.id
            );
            if let Err(e) = signal_group(run.pgid.unwrap_or(pid), Sig::Kill) {
                log::warn!("run {}: could not kill leftover group {pid}: {e}", run.id);
            }
        }
        store.mark_lost(run.id, now_ms)?;
    }
    Ok(live.len())
}
