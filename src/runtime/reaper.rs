//! corral as a child subreaper: a process an agent orphans (a double fork, `setsid -f`) is
//! re-parented to corral instead of PID 1, so it stays in sight. corral then has children it
//! never spawned; their exit statuses are collected here, one known pid at a time, never with
//! `waitpid(-1)`, which would take the statuses tokio waits for.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Mutex, MutexGuard};

/// Pids corral spawned and someone (tokio, a verify step) waits for: never reaped here. The
/// lock is also held across a spawn, so a child that dies at once is in the set before the
/// reaper can see its zombie.
static SPAWNED: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());

/// Evidence that a process was an agent's: the process groups of runs and verify steps, and
/// (pid, start time) of processes seen in a run's tree.
static GROUPS: Mutex<BTreeSet<u32>> = Mutex::new(BTreeSet::new());
static MEMBERS: Mutex<Option<HashSet<(u32, u64)>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Holds the spawn lock: spawn while holding it, then [`Spawning::record`] the pid.
pub struct Spawning(MutexGuard<'static, BTreeSet<u32>>);

pub fn spawning() -> Spawning {
    Spawning(lock(&SPAWNED))
}

impl Spawning {
    /// The pid is ours to wait for; its process group is an agent's.
    pub fn record(mut self, pid: u32) {
        self.0.insert(pid);
        lock(&GROUPS).insert(pid);
    }
}

/// The spawned child has been waited for: its pid means nothing to us any more.
pub fn waited(pid: u32) {
    lock(&SPAWNED).remove(&pid);
}

/// Whether `pid` is a child corral spawned itself (and waits for).
pub fn is_spawned(pid: u32) -> bool {
    lock(&SPAWNED).contains(&pid)
}

/// Takes note that this process was seen in an agent's tree.
pub fn note_member(pid: u32, start_time: u64) {
    lock(&MEMBERS)
        .get_or_insert_with(HashSet::new)
        .insert((pid, start_time));
}

/// Makes corral the reaper of its descendants' orphans. Returns whether it took effect.
pub fn become_subreaper() -> bool {
    match nix::sys::prctl::set_child_subreaper(true) {
        Ok(()) => true,
        Err(e) => {
            log::warn!("cannot become a child subreaper ({e}): orphans of agents go to init");
            false
        }
    }
}

/// A child of corral's: (pid, state letter, process group, start time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Child {
    pub pid: u32,
    pub state: char,
    pub pgrp: u32,
    pub start_time: u64,
}

fn stat_of(pid: u32) -> Option<Child> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    Some(Child {
        pid,
        state: f.first()?.chars().next()?,
        pgrp: f.get(2)?.parse().ok()?,
        start_time: f.get(19)?.parse().ok()?,
    })
}

/// Every child process of corral (of any of its threads), spawned or adopted.
pub fn children() -> Vec<Child> {
    let me = std::process::id();
    let mut pids = BTreeSet::new();
    let tasks = std::fs::read_dir(format!("/proc/{me}/task"));
    if std::path::Path::new(&format!("/proc/{me}/task/{me}/children")).exists()
        && let Ok(tasks) = tasks
    {
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
                pids.extend(
                    text.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    } else {
        // Kernels without CONFIG_PROC_CHILDREN: find them by parent in the process table.
        for p in super::sampler::read_process_table(4096) {
            if p.ppid == me {
                pids.insert(p.pid);
            }
        }
    }
    pids.into_iter().filter_map(stat_of).collect()
}

/// Whether an adopted child was an agent's: it is (or died) in a run cgroup, in a run's
/// process group, or was seen in a run's tree.
fn was_an_agents(c: &Child) -> bool {
    super::cgroup::in_run_cgroup(c.pid)
        || lock(&GROUPS).contains(&c.pgrp)
        || lock(&MEMBERS)
            .as_ref()
            .is_some_and(|m| m.contains(&(c.pid, c.start_time)))
}

/// Collects the exit status of every adopted child of an agent that has ended. Returns how
/// many were reaped.
pub fn reap_adopted() -> usize {
    // Held throughout: no spawn can slip a new child of ours in while we look.
    let spawned = lock(&SPAWNED);
    let mut reaped = 0;
    for c in children() {
        if c.state != 'Z' || spawned.contains(&c.pid) || !was_an_agents(&c) {
            continue;
        }
        let Ok(raw) = i32::try_from(c.pid) else {
            continue;
        };
        use nix::sys::wait::{WaitPidFlag, waitpid};
        if waitpid(nix::unistd::Pid::from_raw(raw), Some(WaitPidFlag::WNOHANG)).is_ok() {
            reaped += 1;
            if let Some(m) = lock(&MEMBERS).as_mut() {
                m.remove(&(c.pid, c.start_time));
            }
        }
    }
    reaped
}

/// Reaps adopted orphans whenever a child of corral ends (SIGCHLD), on the current tokio
/// runtime. tokio's own child handling listens to the same signal; both are told.
pub fn spawn_reaper() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::child()) {
        Ok(mut stream) => {
            tokio::spawn(async move {
                while stream.recv().await.is_some() {
                    let _ = tokio::task::spawn_blocking(reap_adopted).await;
                }
            });
        }
        Err(e) => log::warn!("cannot watch SIGCHLD ({e}): adopted orphans are reaped late"),
    }
}

/// The run an adopted, live process belongs to, from the `CORRAL_RUN_ID` corral gives every
/// agent (inherited by whatever it starts). Without a cgroup this is how an orphan that left
/// its group is still counted as its run's.
pub fn run_of_adopted(pid: u32) -> Option<i64> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    env.split(|b| *b == 0).find_map(|var| {
        let value = var.strip_prefix(b"CORRAL_RUN_ID=")?;
        std::str::from_utf8(value).ok()?.parse().ok()
    })
}
