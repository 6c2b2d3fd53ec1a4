//! Processes that try to escape, driven through the real binary: an agent whose descendants
//! call `setsid -f`, double-fork, or make a session of their own under a parent that lives on.
//! Every stop path (`x`, quitting, SIGTERM, SIGHUP, SIGINT, `kill -9` and a restart) leaves
//! none of them, pause stops all of them, and stopping takes as long as the processes take to
//! go, not the whole grace period. Each test runs with a cgroup per run (skipped with a
//! message where the machine has no writable cgroup v2 hierarchy) and without one
//! (`CORRAL_NO_CGROUP=1`: subreaper and tracking only).

mod common;

use common::tmux::{Tmux, shell_quote};
use common::{feature, wait_for, write_script};
use corral::runtime::process::process_start_time;
use corral::runtime::store::Store;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_corral");
/// Far below the agents' 60 s grace: a stop that waited for the grace would miss it.
const LIMIT: Duration = Duration::from_secs(20);

/// An agent that leaves its process group three ways and then waits: 601 through
/// `setsid -f` (its parent exits at once: an orphan in a session of its own), 602 through a
/// double fork (an orphan in the agent's group), 603 in a session of its own under a parent
/// that stays alive, 604 an ordinary child.
const AGENT: &str = "setsid -f sleep 601\n\
                     sh -c '(sh -c \"sleep 602 &\" &)'\n\
                     sh -c 'setsid sleep 603 & wait' &\n\
                     sleep 604 &\n\
                     wait";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Cgroup,
    Fallback,
}

/// False (with a message) when this mode cannot run here.
fn available(mode: Mode) -> bool {
    if mode == Mode::Cgroup
        && let Err(why) = corral::runtime::cgroup::availability()
    {
        eprintln!("skipped: no run cgroups on this machine ({why})");
        return false;
    }
    true
}

fn project(dir: &Path, agent: &str, grace: &str, features: i64) {
    write_script(&dir.join("agent.sh"), agent);
    let toml = format!(
        "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
         command = [\"sh\", \"{{project}}/agent.sh\"]\ngrace = \"{grace}\"\n"
    );
    std::fs::write(dir.join("corral.toml"), toml).unwrap();
    let items: Vec<_> = (1..=features).map(|id| feature(id, &[])).collect();
    Store::open(dir).unwrap().add_features(&items, 0).unwrap();
}

/// A process that carries the project in its environment: the agents and all they started.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Proc {
    pid: u32,
    start: u64,
    ppid: u32,
    sid: u32,
    state: char,
    cmd: String,
}

fn read_proc(pid: u32) -> Option<Proc> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(Proc {
        pid,
        start: process_start_time(pid)?,
        ppid: f.get(1)?.parse().ok()?,
        sid: f.get(3)?.parse().ok()?,
        state: f.first()?.chars().next()?,
        cmd: String::from_utf8_lossy(&cmd)
            .replace('\0', " ")
            .trim()
            .to_string(),
    })
}

/// Every live (not zombie) process whose environment names `dir` as its corral project.
fn project_procs(dir: &Path) -> Vec<Proc> {
    let needle = format!("CORRAL_PROJECT={}", dir.display()).into_bytes();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|b| *b == 0).any(|v| v == needle.as_slice())
            && let Some(p) = read_proc(pid)
            && p.state != 'Z'
        {
            out.push(p);
        }
    }
    out
}

/// Waits for the agent's four sleeps and checks that they did escape: 601 and 603 lead
/// sessions of their own, and the orphans 601 and 602 were adopted by `corral_pid`.
fn escaped(dir: &Path, corral_pid: u32) -> Vec<Proc> {
    let procs = wait_for("the agent's escaping processes", LIMIT, || {
        let procs = project_procs(dir);
        let sleeps = ["601", "602", "603", "604"]
            .iter()
            .all(|n| procs.iter().any(|p| p.cmd == format!("sleep {n}")));
        let adopted = procs
            .iter()
            .filter(|p| p.cmd == "sleep 601" || p.cmd == "sleep 602")
            .all(|p| p.ppid == corral_pid);
        (sleeps && adopted).then_some(procs)
    });
    for n in ["601", "603"] {
        let p = procs
            .iter()
            .find(|p| p.cmd == format!("sleep {n}"))
            .unwrap();
        assert_eq!(p.sid, p.pid, "sleep {n} leads a session of its own: {p:?}");
    }
    procs
}

/// Whether any of `procs` (pid and start time) is still alive.
fn survivors(procs: &[Proc]) -> Vec<Proc> {
    procs
        .iter()
        .filter(|p| read_proc(p.pid).is_some_and(|now| now.start == p.start && now.state != 'Z'))
        .cloned()
        .collect()
}

/// Run cgroups of `corral_pid` still in the v2 hierarchy.
fn cgroups_left(corral_pid: u32) -> Vec<PathBuf> {
    let Ok(base) = corral::runtime::cgroup::availability() else {
        return Vec::new();
    };
    let prefix = format!("corral-{corral_pid}-");
    std::fs::read_dir(base)
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.starts_with(&prefix) && name.contains("-run-")
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// `corral run --headless` on `dir`; on drop it is killed with everything of the project, so
/// a failing test leaks nothing.
struct Headless {
    child: Child,
    dir: PathBuf,
}

impl Headless {
    fn start(dir: &Path, mode: Mode) -> Headless {
        let mut cmd = Command::new(EXE);
        cmd.current_dir(dir)
            .env("XDG_CONFIG_HOME", dir.join(".xdg"))
            .env("XDG_DATA_HOME", dir.join(".xdg"))
            .env_remove("CORRAL_NO_CGROUP")
            .args(["run", "--headless"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if mode == Mode::Fallback {
            cmd.env("CORRAL_NO_CGROUP", "1");
        }
        Headless {
            child: cmd.spawn().unwrap(),
            dir: dir.to_path_buf(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn signal(&self, sig: Signal) {
        kill(Pid::from_raw(self.pid() as i32), sig).unwrap();
    }

    /// Waits (at most LIMIT) for corral to exit; returns its exit code and how long it took.
    fn wait_exit(&mut self) -> (Option<i32>, Duration) {
        let t0 = Instant::now();
        let status = wait_for("corral to exit", LIMIT, || self.child.try_wait().unwrap());
        (status.code(), t0.elapsed())
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for p in project_procs(&self.dir) {
            let _ = kill(Pid::from_raw(p.pid as i32), Signal::SIGKILL);
        }
    }
}

fn stopped_by_signal(sig: Signal, mode: Mode) {
    if !available(mode) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), AGENT, "60s", 1);
    let mut corral = Headless::start(dir.path(), mode);
    let procs = escaped(dir.path(), corral.pid());
    corral.signal(sig);
    let (code, took) = corral.wait_exit();
    assert_eq!(code, Some(128 + sig as i32), "{mode:?}");
    // corral exits once everything is gone, not after the 60 s grace.
    eprintln!("{mode:?}: {sig} to exit in {took:.2?}");
    assert_eq!(
        survivors(&procs),
        vec![],
        "{mode:?}: escapees outlived corral"
    );
    assert_eq!(project_procs(dir.path()), vec![], "{mode:?}");
    assert_eq!(cgroups_left(corral.pid()), Vec::<PathBuf>::new());
}

#[test]
fn sigterm_leaves_no_escapee_and_does_not_wait_for_the_grace() {
    stopped_by_signal(Signal::SIGTERM, Mode::Cgroup);
    stopped_by_signal(Signal::SIGTERM, Mode::Fallback);
}

#[test]
fn sighup_leaves_no_escapee() {
    stopped_by_signal(Signal::SIGHUP, Mode::Cgroup);
    stopped_by_signal(Signal::SIGHUP, Mode::Fallback);
}

#[test]
fn sigint_leaves_no_escapee() {
    stopped_by_signal(Signal::SIGINT, Mode::Cgroup);
    stopped_by_signal(Signal::SIGINT, Mode::Fallback);
}

/// The recorded state of run 1, from `corral status --json` (it works beside a running corral).
fn run_status(dir: &Path) -> String {
    let out = Command::new(EXE)
        .arg("--project")
        .arg(dir)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|r| r["id"] == 1))
        .and_then(|r| r["status"].as_str())
        .unwrap_or("")
        .to_string()
}

fn second_signal_kills_at_once(mode: Mode) {
    if !available(mode) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Everything ignores TERM (an ignored signal stays ignored across fork and exec), and the
    // grace is years: only KILL ends them.
    project(dir.path(), &format!("trap '' TERM\n{AGENT}"), "100000h", 1);
    let mut corral = Headless::start(dir.path(), mode);
    let procs = escaped(dir.path(), corral.pid());
    corral.signal(Signal::SIGTERM);
    wait_for("the run to be stopping", LIMIT, || {
        (run_status(dir.path()) == "stopping").then_some(())
    });
    assert_eq!(
        survivors(&procs).len(),
        procs.len(),
        "{mode:?}: TERM is ignored, so all are still there"
    );
    assert!(corral.child.try_wait().unwrap().is_none());
    corral.signal(Signal::SIGINT);
    let (code, took) = corral.wait_exit();
    eprintln!("{mode:?}: second signal to exit in {took:.2?}");
    assert_eq!(
        code,
        Some(128 + Signal::SIGTERM as i32),
        "the first signal names the exit"
    );
    assert_eq!(survivors(&procs), vec![], "{mode:?}");
    assert_eq!(project_procs(dir.path()), vec![], "{mode:?}");
}

#[test]
fn a_second_signal_kills_what_ignores_term_at_once() {
    second_signal_kills_at_once(Mode::Cgroup);
    second_signal_kills_at_once(Mode::Fallback);
}

fn kill_9_then_restart(mode: Mode) {
    if !available(mode) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), AGENT, "60s", 1);
    let mut first = Headless::start(dir.path(), mode);
    // The sleeps only: the shells between them may end on their own at any moment.
    let procs: Vec<Proc> = escaped(dir.path(), first.pid())
        .into_iter()
        .filter(|p| p.cmd.starts_with("sleep 60"))
        .collect();
    first.signal(Signal::SIGKILL);
    let _ = first.wait_exit();
    assert_eq!(
        survivors(&procs).len(),
        procs.len(),
        "{mode:?}: without corral its agents live on"
    );
    let mut second = Headless::start(dir.path(), mode);
    wait_for("the leftovers killed by the next corral", LIMIT, || {
        survivors(&procs).is_empty().then_some(())
    });
    // Killed with work under way, the project waits paused for a person; go on (once the
    // new corral listens).
    wait_for("the scheduler resumed", LIMIT, || {
        Command::new(EXE)
            .current_dir(dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join(".xdg"))
            .env("XDG_DATA_HOME", dir.path().join(".xdg"))
            .args(["scheduler", "resume"])
            .output()
            .ok()
            .filter(|out| out.status.success())
    });
    // The feature runs again under the new corral; stop it and check nothing is left.
    let fresh = escaped(dir.path(), second.pid());
    second.signal(Signal::SIGTERM);
    let _ = second.wait_exit();
    assert_eq!(survivors(&fresh), vec![], "{mode:?}");
    assert_eq!(project_procs(dir.path()), vec![], "{mode:?}");
    assert_eq!(
        cgroups_left(first.pid()),
        Vec::<PathBuf>::new(),
        "old cgroup removed"
    );
    assert!(
        !dir.path().join(".corral/cgroups/run-1").exists(),
        "the note of the old cgroup is gone"
    );
    drop(first);
}

#[test]
fn after_kill_9_the_next_start_kills_every_escapee() {
    kill_9_then_restart(Mode::Cgroup);
    kill_9_then_restart(Mode::Fallback);
}

/// The dashboard in tmux; the pane says how corral exited.
fn open(dir: &Path, mode: Mode) -> Option<Tmux> {
    let xdg = dir.join(".xdg");
    let no_cgroup = if mode == Mode::Fallback { "1" } else { "0" };
    let cmd = format!(
        "env XDG_CONFIG_HOME={x} XDG_DATA_HOME={x} CORRAL_NO_CGROUP={no_cgroup} {exe} --project {dir}; echo \"corral exited $?\"; sleep 120",
        x = shell_quote(&xdg.to_string_lossy()),
        exe = shell_quote(EXE),
        dir = shell_quote(&dir.to_string_lossy()),
    );
    Tmux::start(&cmd, 120, 40)
}

/// The corral in the tmux pane (written in its lock file).
fn corral_pid(dir: &Path) -> u32 {
    wait_for("corral's lock file", LIMIT, || {
        let text = std::fs::read_to_string(dir.join(".corral/lock")).ok()?;
        text.split_whitespace().next()?.parse().ok()
    })
}

/// Whether the run cgroup holding `pid` says it is frozen.
fn frozen(pid: u32) -> bool {
    let Ok(base) = corral::runtime::cgroup::availability() else {
        return false;
    };
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
        return false;
    };
    let Some(path) = text.lines().find_map(|l| l.strip_prefix("0::")) else {
        return false;
    };
    let leaf = path.rsplit('/').next().unwrap_or("");
    std::fs::read_to_string(base.join(leaf).join("cgroup.events"))
        .is_ok_and(|t| t.lines().any(|l| l == "frozen 1"))
}

/// Pause stops every escapee, resume continues them, `x` kills them all, and quitting with a
/// second agent running ends that one's escapees too.
fn dashboard_pause_kill_and_quit(mode: Mode) {
    if !available(mode) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), AGENT, "60s", 2);
    let Some(tmux) = open(dir.path(), mode) else {
        eprintln!("skipped: tmux is not installed");
        return;
    };
    // The dashboard starts the project's daemon: the agents' parent, named in the lock file.
    let _daemon = common::daemon::StopsDaemon::new(dir.path());
    let pid = corral_pid(dir.path());
    let guard = Headless {
        // Only for its Drop: kills whatever of the project is left if an assertion fails.
        child: Command::new("true").spawn().unwrap(),
        dir: dir.path().to_path_buf(),
    };
    let procs = escaped(dir.path(), pid);
    tmux.wait_for_screen("the running agent", LIMIT, |s| s.contains("running"));

    tmux.press("p");
    wait_for("every process of the run stopped", LIMIT, || {
        survivors(&procs)
            .iter()
            .all(|p| read_proc(p.pid).is_some_and(|n| n.state == 'T'))
            .then_some(())
    });
    if mode == Mode::Cgroup {
        wait_for("the run's cgroup frozen", LIMIT, || {
            procs.iter().all(|p| frozen(p.pid)).then_some(())
        });
    }
    tmux.press("r");
    wait_for("every process of the run continued", LIMIT, || {
        survivors(&procs)
            .iter()
            .all(|p| read_proc(p.pid).is_some_and(|n| n.state != 'T'))
            .then_some(())
    });
    assert_eq!(survivors(&procs).len(), procs.len());

    tmux.press("x");
    tmux.wait_for_screen("the kill question", LIMIT, |s| s.contains("Kill run 1"));
    tmux.press("y");
    wait_for("every process of the killed run gone", LIMIT, || {
        survivors(&procs).is_empty().then_some(())
    });

    // Feature 2 runs next; quitting must end its escapees too.
    let second: Vec<Proc> = wait_for("the second run's processes", LIMIT, || {
        let now = project_procs(dir.path());
        (now.iter().filter(|p| p.cmd.starts_with("sleep 60")).count() == 4).then_some(now)
    });
    tmux.wait_for_screen("the second agent on screen", LIMIT, |s| {
        s.contains("running")
    });
    // Q stops the daemon and every agent (q would only detach).
    tmux.press("Q");
    tmux.wait_for_screen("the stop question", LIMIT, |s| {
        s.contains("Stop the daemon?")
    });
    tmux.press("y");
    tmux.wait_for_screen("corral to exit", LIMIT, |s| s.contains("corral exited 0"));
    assert_eq!(survivors(&second), vec![], "{mode:?}");
    assert_eq!(project_procs(dir.path()), vec![], "{mode:?}");
    assert_eq!(cgroups_left(pid), Vec::<PathBuf>::new());
    drop(guard);
}

#[test]
fn dashboard_pause_kill_and_quit_reach_every_escapee() {
    dashboard_pause_kill_and_quit(Mode::Cgroup);
    dashboard_pause_kill_and_quit(Mode::Fallback);
}
