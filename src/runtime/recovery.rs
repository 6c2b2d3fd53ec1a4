//! What to do at start about runs an earlier corral left recorded as live, and about the
//! processes they left behind (also those that left their process group).

use super::cgroup::RunCgroup;
use super::process::{process_start_time, signal_group};
use super::store::{Store, StoreError, StoredRun};
use crate::api::RunId;
use crate::core::Sig;
use std::path::{Path, PathBuf};

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

/// Before the runs are swept: kills what the earlier corral's runs left outside their process
/// groups. Everything still in a recorded run cgroup (the cgroup is removed once empty); the
/// descendants of a leader that is still alive (a `setsid` grandchild whose parent lives);
/// and, for runs recorded live, any process that still carries their `CORRAL_RUN_ID` and this
/// project's `CORRAL_PROJECT` (a daemon that double-forked, where there were no cgroups).
/// Returns the runs whose processes were signalled, each once.
pub fn sweep_leftover_processes(project: &Path, store: &Store) -> Result<Vec<RunId>, StoreError> {
    let live = store.runs(true)?;
    let mut killed: Vec<RunId> = Vec::new();
    let mut cgroups = Vec::new();
    for (run, path) in recorded_cgroups(project) {
        let Some(cg) = RunCgroup::existing(&path) else {
            forget_cgroup(project, run);
            continue;
        };
        let pids = cg.pids();
        if !pids.is_empty() {
            log::warn!(
                "run {run}: killing {} process(es) left in {}",
                pids.len(),
                path.display()
            );
            killed.push(run);
            if let Err(e) = cg.kill() {
                log::warn!("run {run}: cannot kill {}: {e}", path.display());
            }
        }
        cgroups.push((run, cg));
    }
    let table = super::sampler::read_process_table(4096);
    let mut targets: Vec<(u32, u64, RunId)> = Vec::new();
    for run in &live {
        if let (Some(pid), Some(recorded)) = (run.pid, run.proc_start_time)
            && process_start_time(pid) == Some(recorded)
        {
            for i in crate::core::stats::tree_members(&table, pid) {
                targets.push((table[i].pid, table[i].start_time, RunId(run.id)));
            }
        }
    }
    targets.extend(marked_processes(project, &live, &table));
    targets.sort_unstable();
    targets.dedup();
    for (pid, start, run) in targets {
        if pid == std::process::id() || process_start_time(pid) != Some(start) {
            continue;
        }
        if let Ok(raw) = i32::try_from(pid) {
            log::warn!("killing pid {pid} left over from an earlier corral's run");
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(raw),
                nix::sys::signal::Signal::SIGKILL,
            );
            killed.push(run);
        }
    }
    killed.sort_unstable();
    killed.dedup();
    let runs: Vec<RunId> = cgroups.iter().map(|(r, _)| *r).collect();
    super::process::remove_cgroups_when_empty(
        cgroups.into_iter().map(|(_, c)| c).collect(),
        std::time::Duration::from_secs(3),
    );
    for run in runs {
        forget_cgroup(project, run);
    }
    Ok(killed)
}

/// (pid, start time, run) of processes whose environment names one of `runs` of `project`.
fn marked_processes(
    project: &Path,
    runs: &[StoredRun],
    table: &[crate::core::stats::ProcSample],
) -> Vec<(u32, u64, RunId)> {
    if runs.is_empty() {
        return Vec::new();
    }
    let project = project.as_os_str().as_encoded_bytes();
    let ids: Vec<(Vec<u8>, RunId)> = runs
        .iter()
        .map(|r| (r.id.to_string().into_bytes(), RunId(r.id)))
        .collect();
    table
        .iter()
        .filter_map(|p| {
            let env = std::fs::read(format!("/proc/{}/environ", p.pid)).ok()?;
            let var = |name: &[u8]| {
                env.split(|b| *b == 0)
                    .find_map(|v| v.strip_prefix(name).map(<[u8]>::to_vec))
            };
            if var(b"CORRAL_PROJECT=").as_deref() != Some(project) {
                return None;
            }
            let id = var(b"CORRAL_RUN_ID=")?;
            let run = ids.iter().find(|(i, _)| *i == id)?.1;
            Some((p.pid, p.start_time, run))
        })
        .collect()
}

fn cgroups_dir(project: &Path) -> PathBuf {
    super::store::state_dir(project).join("cgroups")
}

/// Notes where a run's cgroup is, so that a corral started after this one dies finds it.
pub fn record_cgroup(project: &Path, run: RunId, cg: &RunCgroup) {
    let dir = cgroups_dir(project);
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            dir.join(format!("run-{run}")),
            cg.path().as_os_str().as_encoded_bytes(),
        )
    });
    if let Err(e) = written {
        log::warn!(
            "run {run}: cannot record its cgroup in {}: {e}",
            dir.display()
        );
    }
}

/// Drops the note of a run's cgroup once the cgroup is gone.
pub fn forget_cgroup(project: &Path, run: RunId) {
    let file = cgroups_dir(project).join(format!("run-{run}"));
    let gone = match std::fs::read(&file) {
        Ok(path) => !Path::new(std::ffi::OsStr::from_bytes(&path)).exists(),
        Err(_) => return,
    };
    if gone {
        let _ = std::fs::remove_file(file);
    }
}

use std::os::unix::ffi::OsStrExt;

/// Every cgroup noted by [`record_cgroup`] and not yet forgotten.
fn recorded_cgroups(project: &Path) -> Vec<(RunId, PathBuf)> {
    let Ok(dir) = std::fs::read_dir(cgroups_dir(project)) else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let id = name.to_str()?.strip_prefix("run-")?.parse().ok()?;
            let path = std::fs::read(e.path()).ok()?;
            Some((RunId(id), PathBuf::from(std::ffi::OsStr::from_bytes(&path))))
        })
        .collect()
}
