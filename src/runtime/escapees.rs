//! Processes of a run that left its process group (`setsid`, `setpgid`, a double fork whose
//! middle process made a session): a signal to the group misses them, so they are found and
//! signalled one by one. Remembered by pid and start time, so a pid reused by an unrelated
//! process is never hit. With a cgroup the cgroup covers them as well; without one this is
//! what keeps them counted.

use super::process::{process_start_time, to_nix};
use crate::api::RunId;
use crate::core::Sig;
use crate::core::stats::{ProcSample, tree_members};
use nix::unistd::Pid;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Clone, Default)]
pub struct Escapees(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    /// Leader pid → (pid, start time) of each process of its run outside its group.
    found: HashMap<u32, Vec<(u32, u64)>>,
    /// Leader pid → its run, to recognise adopted orphans by their `CORRAL_RUN_ID`.
    runs: HashMap<u32, RunId>,
}

impl Escapees {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The run led by `leader` has started.
    pub fn register(&self, leader: u32, run: RunId) {
        self.inner().runs.insert(leader, run);
    }

    /// Takes note, from a process table, of each live run's processes outside its group.
    pub fn remember(&self, table: &[ProcSample], leaders: &[(RunId, u32)]) {
        let adopted = adopted(table);
        for &(run, leader) in leaders {
            self.inner().runs.insert(leader, run);
            let out = find(table, &adopted, leader, run);
            self.merge(leader, out);
        }
    }

    /// Looks at the process table again for the run led by `pgid`.
    fn refresh(&self, pgid: u32) {
        let Some(run) = self.inner().runs.get(&pgid).copied() else {
            return;
        };
        let table = super::sampler::read_process_table(4096);
        let out = find(&table, &adopted(&table), pgid, run);
        self.merge(pgid, out);
    }

    fn merge(&self, leader: u32, out: Vec<(u32, u64)>) {
        for &(pid, start) in &out {
            super::reaper::note_member(pid, start);
        }
        if out.is_empty() {
            return;
        }
        let mut inner = self.inner();
        let known = inner.found.entry(leader).or_default();
        for p in out {
            if !known.contains(&p) {
                known.push(p);
            }
        }
    }

    /// Sends `sig` to the escapees of the run led by `pgid`: those remembered, and (except
    /// for SIGCONT) those a fresh look at the process table finds now.
    pub fn signal(&self, pgid: u32, sig: Sig) {
        // CONT always follows a STOP, TERM or KILL that has just refreshed the list.
        if sig != Sig::Cont {
            self.refresh(pgid);
        }
        for (pid, start) in self.of(pgid) {
            if process_start_time(pid) == Some(start)
                && let Ok(raw) = i32::try_from(pid)
            {
                let _ = nix::sys::signal::kill(Pid::from_raw(raw), to_nix(sig));
            }
        }
    }

    /// True while one of the run's escapees is alive (not a zombie), looking afresh.
    pub fn any_alive(&self, pgid: u32) -> bool {
        self.refresh(pgid);
        self.of(pgid).iter().any(|&(pid, start)| {
            process_start_time(pid) == Some(start) && super::sampler::state_of(pid) != Some('Z')
        })
    }

    /// (pid, start time) of the run's remembered escapees (some may have ended).
    pub fn of(&self, pgid: u32) -> Vec<(u32, u64)> {
        self.inner().found.get(&pgid).cloned().unwrap_or_default()
    }

    /// Forgets the run led by `pgid` (it has ended and nothing of it is left).
    pub fn forget(&self, pgid: u32) {
        let mut inner = self.inner();
        inner.found.remove(&pgid);
        inner.runs.remove(&pgid);
    }
}

/// Children corral adopted as subreaper (it did not spawn them), with the run their
/// environment names.
fn adopted(table: &[ProcSample]) -> Vec<(u32, i64)> {
    let me = std::process::id();
    table
        .iter()
        .filter(|p| p.ppid == me && !super::reaper::is_spawned(p.pid))
        .filter_map(|p| Some((p.pid, super::reaper::run_of_adopted(p.pid)?)))
        .collect()
}

/// The run's processes outside the leader's group: descendants of the leader (while it
/// lives, its tree is complete), and orphans adopted by corral that carry the run's id,
/// with their descendants.
fn find(table: &[ProcSample], adopted: &[(u32, i64)], leader: u32, run: RunId) -> Vec<(u32, u64)> {
    let roots = std::iter::once(leader).chain(
        adopted
            .iter()
            .filter(|(_, r)| *r == run.0)
            .map(|(pid, _)| *pid),
    );
    let mut out = Vec::new();
    for root in roots {
        for i in tree_members(table, root) {
            let p = &table[i];
            if p.pgrp != leader && !out.contains(&(p.pid, p.start_time)) {
                out.push((p.pid, p.start_time));
            }
        }
    }
    out
}
