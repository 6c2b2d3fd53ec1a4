//! Spawning agents in their own process group (and cgroup, where there are cgroups), and
//! signalling, counting and ending everything each run started.

use super::cgroup::RunCgroup;
pub use super::escapees::Escapees;
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
    /// The run's cgroup, which the process joins before it runs anything of the agent's.
    pub cgroup: Option<&'a RunCgroup>,
}

/// Starts the agent as the leader of a new process group (pgid = pid) with stdin, stdout and
/// stderr piped (never the terminal: the dashboard owns it), inside its run's cgroup if it has
/// one. The child is not killed on drop: the supervisor decides its end.
pub fn spawn(spec: &SpawnSpec) -> std::io::Result<Child> {
    let (program, args) = spec
        .argv
        .split_first()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
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
        .kill_on_drop(false);
    if let Some(cg) = spec.cgroup {
        let procs = std::ffi::CString::new(cg.procs_file().into_os_string().into_encoded_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // SAFETY: between fork and exec only async-signal-safe calls are allowed: this does
        // open(2), write(2) and close(2) on a path prepared before the fork, and allocates
        // nothing. Joining before exec leaves no moment in which the agent could fork
        // outside its cgroup.
        unsafe {
            cmd.pre_exec(move || {
                use nix::fcntl::{OFlag, open};
                use nix::sys::stat::Mode;
                let fd = open(
                    procs.as_c_str(),
                    OFlag::O_WRONLY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )?;
                nix::unistd::write(&fd, b"0")?;
                Ok(())
            });
        }
    }
    let guard = super::reaper::spawning();
    let child = cmd.spawn()?;
    if let Some(pid) = child.id() {
        guard.record(pid);
    }
    Ok(child)
}

pub(super) fn to_nix(sig: Sig) -> Signal {
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

/// True while a process that has not ended yet (zombies left out: they only wait to be
/// reaped) belongs to the group.
pub fn group_has_live_member(pgid: u32) -> bool {
    // The cheap test first: most of the time the group is simply gone.
    group_alive(pgid)
        && super::sampler::read_states()
            .iter()
            .any(|&(pgrp, state)| pgrp == pgid && state != 'Z')
}

/// True while anything the run led by `pgid` started is still alive: a process in its cgroup
/// or its group has not ended, or a process that left the group is still there.
pub fn run_alive(pgid: u32, escaped: &Escapees) -> bool {
    if cgroup_of(pgid).is_some_and(|cg| cg.has_live_process()) {
        return true;
    }
    group_has_live_member(pgid) || escaped.any_alive(pgid)
}

/// Sends `sig` to everything the run led by `pgid` started: its process group, the processes
/// that left it (tracked, or found in its cgroup), and for STOP and KILL the cgroup itself
/// (frozen, killed), so a process forked meanwhile is caught too.
pub fn signal_run(pgid: u32, sig: Sig, escaped: &Escapees) -> Result<(), nix::Error> {
    let cg = cgroup_of(pgid);
    if sig == Sig::Cont
        && let Some(cg) = &cg
        && let Err(e) = cg.freeze(false)
    {
        log::warn!("thawing {}: {e}", cg.path().display());
    }
    if sig == Sig::Kill
        && let Some(cg) = &cg
        && let Err(e) = cg.kill()
    {
        log::warn!("killing {}: {e}", cg.path().display());
    }
    escaped.signal(pgid, sig);
    let result = signal_group(pgid, sig);
    if let Some(cg) = &cg {
        // One by one as well: `ps` then shows a paused agent stopped (T), and TERM reaches a
        // process that made a session of its own.
        for pid in cg.pids() {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(Pid::from_raw(raw), to_nix(sig));
            }
        }
        if sig == Sig::Stop {
            // A frozen task handles its pending SIGSTOP only once thawed (and shows `S`):
            // let the stops land first, then freeze what forked meanwhile.
            settle_stops(cg);
            if let Err(e) = cg.freeze(true) {
                log::warn!("freezing {}: {e}", cg.path().display());
            }
        }
    }
    result
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

/// Waits (a quarter of a second at most) until every process in the cgroup has acted on
/// SIGSTOP, sending it again to any that appeared meanwhile.
fn settle_stops(cg: &RunCgroup) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(250);
    loop {
        let running: Vec<u32> = cg
            .pids()
            .into_iter()
            .filter(|&pid| super::sampler::state_of(pid).is_some_and(|s| s != 'T' && s != 't'))
            .collect();
        if running.is_empty() || std::time::Instant::now() >= deadline {
            return;
        }
        for pid in running {
            if let Ok(raw) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(Pid::from_raw(raw), Signal::SIGSTOP);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Process groups of runs that may still have processes, with their cgroups: for signals,
/// and for the last-resort stop on panic or exit.
static LIVE_GROUPS: std::sync::Mutex<BTreeMap<u32, Option<RunCgroup>>> =
    std::sync::Mutex::new(BTreeMap::new());

fn live_groups() -> std::sync::MutexGuard<'static, BTreeMap<u32, Option<RunCgroup>>> {
    LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records a group (and its run's cgroup) as live until [`forget_group`].
pub fn remember_group(pgid: u32, cgroup: Option<RunCgroup>) {
    live_groups().insert(pgid, cgroup);
}

/// The group has no process left that we need to stop. Returns its cgroup, to remove.
pub fn forget_group(pgid: u32) -> Option<RunCgroup> {
    live_groups().remove(&pgid).flatten()
}

/// The cgroup of the run led by `pgid`, if it has one.
pub fn cgroup_of(pgid: u32) -> Option<RunCgroup> {
    live_groups().get(&pgid).cloned().flatten()
}

/// Stops every remembered group without the supervisor: TERM (and CONT for paused ones), up
/// to `grace` for them to go, then KILL (the cgroups too). For a panic hook, where no async
/// code can run, and for the end of the supervisor.
pub fn stop_all_groups_now(grace: std::time::Duration) {
    let groups: Vec<(u32, Option<RunCgroup>)> =
        live_groups().iter().map(|(g, c)| (*g, c.clone())).collect();
    let none = Escapees::default();
    for (g, _) in &groups {
        let _ = signal_run(*g, Sig::Term, &none);
        let _ = signal_run(*g, Sig::Cont, &none);
    }
    let deadline = std::time::Instant::now() + grace;
    while groups.iter().any(|(g, _)| run_alive(*g, &none)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for (g, _) in &groups {
        let _ = signal_run(*g, Sig::Kill, &none);
    }
    remove_cgroups_when_empty(
        groups.into_iter().filter_map(|(_, c)| c).collect(),
        std::time::Duration::from_secs(2),
    );
}

/// KILLs what is left of the runs led by `pgids` that are still remembered, forgets them,
/// and removes their cgroups once empty (waiting up to `wait`).
pub fn finish_groups(pgids: &[u32], escaped: &Escapees, wait: std::time::Duration) {
    let mut cgroups = Vec::new();
    for &g in pgids {
        if g <= 1 || !live_groups().contains_key(&g) {
            continue;
        }
        if run_alive(g, escaped) {
            log::warn!("process group {g}: killing what is left of it");
            let _ = signal_run(g, Sig::Kill, escaped);
        }
        escaped.forget(g);
        cgroups.extend(forget_group(g));
    }
    remove_cgroups_when_empty(cgroups, wait);
}

/// Removes each cgroup once its processes are gone (a KILL takes a moment), reaping adopted
/// orphans meanwhile; gives up on one still busy after `wait`.
pub fn remove_cgroups_when_empty(cgroups: Vec<RunCgroup>, wait: std::time::Duration) {
    let deadline = std::time::Instant::now() + wait;
    let mut left = cgroups;
    while !left.is_empty() {
        super::reaper::reap_adopted();
        left.retain(|cg| cg.populated() || cg.remove().is_err());
        if std::time::Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for cg in left {
        log::warn!("{} still busy; left in place", cg.path().display());
    }
}
