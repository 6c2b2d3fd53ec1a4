//! Spawning agents in their own process group, and signalling that group.

use crate::core::Sig;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use tokio::process::{Child, Command};

/// How to start one agent. `argv[0]` is looked up on PATH; nothing passes through a shell.
pub struct SpawnSpec<'a> {
    pub argv: &'a [String],
    pub cwd: &'a Path,
    pub env: &'a BTreeMap<String, String>,
    /// Give the process a stdin pipe (else stdin is empty).
    pub stdin_pipe: bool,
}

/// Starts the agent as the leader of a new process group (pgid = pid) with stdin, stdout and
/// stderr piped (never the terminal: the dashboard owns it). The child is not killed on drop: the supervisor decides its end.
pub fn spawn(spec: &SpawnSpec) -> std::io::Result<Child> {
    let (program, args) = spec
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    Command::new(program)
        .args(args)
        .current_dir(spec.cwd)
        .envs(spec.env)
        .stdin(if spec.stdin_pipe {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
}

fn to_nix(sig: Sig) -> Signal {
    match sig {
        Sig::Stop => Signal::SIGSTOP,
        Sig::Cont => Signal::SIGCONT,
        Sig::Term => Signal::SIGTERM,
        Sig::Kill => Signal::SIGKILL,
    }
}

/// Sends `sig` to every process of the group. A group that is already gone is not an error.
pub fn signal_group(pgid: u32, sig: Sig) -> Result<(), nix::Error> {
    let Ok(raw) = i32::try_from(pgid) else {
        return Err(nix::Error::EINVAL);
    };
    // pgid 0 or 1 would mean "our own group" or init's: never signal those.
    if raw <= 1 {
        return Err(nix::Error::EINVAL);
    }
    match killpg(Pid::from_raw(raw), to_nix(sig)) {
        Ok(()) | Err(nix::Error::ESRCH) => Ok(()),
        Err(e) => Err(e),
    }
}

/// True while any process (zombies included) still belongs to the group.
pub fn group_alive(pgid: u32) -> bool {
    match i32::try_from(pgid) {
        Ok(raw) if raw > 1 => killpg(Pid::from_raw(raw), None).is_ok(),
        _ => false,
    }
}

/// The process's start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
/// Together with the pid it names one process for good: a reused pid has another start time.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // Fields after the name start at field 3, so field 22 is the 20th here.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Process groups of runs that may still have processes, for the last-resort stop on panic.
static LIVE_GROUPS: std::sync::Mutex<std::collections::BTreeSet<u32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn live_groups() -> std::sync::MutexGuard<'static, std::collections::BTreeSet<u32>> {
    LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records a group as live until [`forget_group`].
pub fn remember_group(pgid: u32) {
    live_groups().insert(pgid);
}

/// The group's pipes have closed: it has no process left that we need to stop.
pub fn forget_group(pgid: u32) {
    live_groups().remove(&pgid);
}

/// Stops every remembered group without the supervisor: TERM (and CONT for paused ones), up
/// to `grace` for them to go, then KILL. For a panic hook, where no async code can run.
pub fn stop_all_groups_now(grace: std::time::Duration) {
    let groups: Vec<u32> = live_groups().iter().copied().collect();
    for &g in &groups {
        let _ = signal_group(g, Sig::Term);
        let _ = signal_group(g, Sig::Cont);
    }
    let deadline = std::time::Instant::now() + grace;
    while groups.iter().any(|&g| group_alive(g)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for &g in &groups {
        let _ = signal_group(g, Sig::Kill);
    }
}

/// Processes of a run that left its process group (`setsid`, `setpgid`): a signal to the group
/// misses them, so they are signalled one by one. Remembered by pid and start time, so a pid
/// reused by an unrelated process is never hit.
#[derive(Clone, Default)]
pub struct Escapees(std::sync::Arc<std::sync::Mutex<EscapeeMap>>);

/// Leader pid → (pid, start time) of each process of its run outside its group.
type EscapeeMap = std::collections::HashMap<u32, Vec<(u32, u64)>>;

impl Escapees {
    fn map(&self) -> std::sync::MutexGuard<'_, EscapeeMap> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes note, from a process table, of each live run's descendants outside its group.
    pub fn remember(
        &self,
        table: &[crate::core::stats::ProcSample],
        leaders: &[(crate::api::RunId, u32)],
    ) {
        let mut map = self.map();
        for &(_, leader) in leaders {
            let out: Vec<(u32, u64)> = outside_group(table, leader);
            if out.is_empty() {
                continue;
            }
            let known = map.entry(leader).or_default();
            for p in out {
                if !known.contains(&p) {
                    known.push(p);
                }
            }
        }
    }

    /// Sends `sig` to the escapees of the run led by `pgid`: those remembered, and (except for
    /// SIGCONT) those a fresh look at the tree finds now (while the leader lives, the tree is
    /// complete).
    pub fn signal(&self, pgid: u32, sig: Sig) {
        let mut targets = self.map().get(&pgid).cloned().unwrap_or_default();
        // CONT always follows a STOP, TERM or KILL that has just refreshed the list: a second
        // pass over the whole process table in the supervisor's loop would find the same.
        if sig != Sig::Cont && process_start_time(pgid).is_some() {
            let table = super::sampler::read_process_table(4096);
            for p in outside_group(&table, pgid) {
                if !targets.contains(&p) {
                    targets.push(p);
                }
            }
            self.map().insert(pgid, targets.clone());
        }
        for (pid, start) in targets {
            if process_start_time(pid) == Some(start)
                && let Ok(raw) = i32::try_from(pid)
            {
                let _ = nix::sys::signal::kill(Pid::from_raw(raw), to_nix(sig));
            }
        }
    }
}

/// Descendants of `leader` (by parent links) whose process group is not the leader's.
fn outside_group(table: &[crate::core::stats::ProcSample], leader: u32) -> Vec<(u32, u64)> {
    crate::core::stats::tree_members(table, leader)
        .into_iter()
        .map(|i| &table[i])
        .filter(|p| p.pgrp != leader)
        .map(|p| (p.pid, p.start_time))
        .collect()
}
