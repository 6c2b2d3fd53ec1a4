//! corral's own death, driven through the real binary in a terminal. With the agents in the
//! dashboard's own process (`--no-daemon`), SIGTERM and SIGHUP (a dropped SSH link) stop every
//! agent. After SIGKILL of the daemon the next start kills what was left and records it
//! `lost`, without touching an unrelated process that now has a recorded pid, and waits with
//! the scheduler paused until a person goes on.

mod common;

use common::tmux::{Tmux, shell_quote};
use common::{group_members, wait_for, write_script};
use corral::api::Role;
use corral::runtime::process::process_start_time;
use corral::runtime::store::{NewFeature, Store};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);
const EXE: &str = env!("CARGO_BIN_EXE_corral");

/// A project with two agents that ignore SIGTERM (so only the KILL after grace ends them).
fn project(dir: &Path, agent: &str) {
    write_script(&dir.join("agent.sh"), agent);
    let toml = "[scheduler]\nmax_agents = 2\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"{project}/agent.sh\"]\ngrace = \"1s\"\n";
    std::fs::write(dir.join("corral.toml"), toml).unwrap();
    let item = |id: i64| NewFeature {
        id: Some(id),
        category: "T".into(),
        name: format!("feature {id}"),
        description: String::new(),
        steps: vec![],
        priority: 0,
        dependencies: vec![],
    };
    Store::open(dir)
        .unwrap()
        .add_features(&[item(1), item(2)], 0)
        .unwrap();
}

/// Runs the dashboard in tmux with the agents in its own process; the pane says how corral
/// exited and then stays.
fn open(dir: &Path) -> Option<Tmux> {
    open_with(dir, "--no-daemon")
}

/// Runs the dashboard in tmux with `flags`; the pane says how corral exited and then stays.
fn open_with(dir: &Path, flags: &str) -> Option<Tmux> {
    let xdg = dir.join(".xdg");
    let cmd = format!(
        "env XDG_CONFIG_HOME={x} XDG_DATA_HOME={x} {exe} {flags} --project {dir}; echo \"corral exited $?\"; sleep 120",
        x = shell_quote(&xdg.to_string_lossy()),
        exe = shell_quote(EXE),
        dir = shell_quote(&dir.to_string_lossy()),
    );
    Tmux::start(&cmd, 120, 40)
}

fn status(dir: &Path) -> Value {
    let out = std::process::Command::new(EXE)
        .arg("--project")
        .arg(dir)
        .args(["status", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The pids of runs recorded with `status`.
fn run_pids(dir: &Path, status_word: &str) -> Vec<u32> {
    status(dir)["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == status_word)
        .filter_map(|r| r["pid"].as_u64().map(|p| p as u32))
        .collect()
}

/// The pid of the corral that holds the project (written in its lock file).
fn corral_pid(dir: &Path) -> i32 {
    let text = std::fs::read_to_string(dir.join(".corral/lock")).unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

fn two_live_agents(tmux: &Tmux, dir: &Path) -> Vec<u32> {
    let pids = wait_for("two agents with their children", LIMIT, || {
        let pids = run_pids(dir, "running");
        (pids.len() == 2 && pids.iter().all(|p| group_members(*p).len() == 2)).then_some(pids)
    });
    for &p in &pids {
        tmux.clean_up_group(p);
    }
    pids
}

fn signal_stops_every_agent(signal: nix::sys::signal::Signal, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "trap '' TERM; sleep 300 & wait");
    let Some(tmux) = open(dir.path()) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let pids = two_live_agents(&tmux, dir.path());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(corral_pid(dir.path())), signal).unwrap();
    tmux.wait_for_screen("corral to exit", LIMIT, |s| s.contains("corral exited"));
    let screen = tmux.capture();
    assert!(
        screen.contains(&format!("corral exited {code}")),
        "{screen}"
    );
    assert!(
        !screen.contains("Agents"),
        "the terminal was restored (no dashboard left on screen)"
    );
    for p in pids {
        assert!(group_members(p).is_empty(), "group {p} outlived corral");
    }
    assert!(
        run_pids(dir.path(), "running").is_empty(),
        "no run is left recorded live"
    );
}

#[test]
fn sigterm_to_corral_stops_every_agent() {
    signal_stops_every_agent(nix::sys::signal::Signal::SIGTERM, 143);
}

#[test]
fn sighup_to_corral_stops_every_agent() {
    signal_stops_every_agent(nix::sys::signal::Signal::SIGHUP, 129);
}

#[test]
fn after_sigkill_the_next_start_kills_leftovers_and_spares_a_reused_pid() {
    let dir = tempfile::tempdir().unwrap();
    // Agents that print nothing, so they cannot die of a closed pipe when corral goes.
    project(dir.path(), "sleep 300 & wait");
    // The dashboard starts the project's daemon, which runs the agents.
    let Some(first) = open_with(dir.path(), "") else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let _daemon = common::daemon::StopsDaemon::new(dir.path());
    let leftovers = two_live_agents(&first, dir.path());
    let daemon = corral_pid(dir.path());
    let said = common::cli::ok(dir.path(), &["daemon", "status"]);
    assert!(said.contains(&format!("pid {daemon}")), "{said}");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // The attached dashboard sees its daemon go and ends. The shell's words may wrap where
    // the dashboard left the cursor: read them unwrapped.
    let screen = first.wait_for_screen("the dashboard to end", LIMIT, |s| {
        s.replace('\n', "").contains("corral exited")
    });
    assert!(
        screen.replace('\n', "").contains("the daemon has stopped"),
        "{screen}"
    );
    for &p in &leftovers {
        assert_eq!(
            group_members(p).len(),
            2,
            "without corral, its agents live on"
        );
    }
    // An unrelated process whose pid a run row claims, with another start time: a reused pid.
    let mut stranger = std::process::Command::new("sleep")
        .arg("300")
        .process_group(0)
        .spawn()
        .unwrap();
    let stranger_pid = stranger.id();
    {
        let mut store = Store::open(dir.path()).unwrap();
        let runs_dir = dir.path().join(".corral/runs");
        let (_, run, _) = store
            .begin_job_and_run("coding", Role::Coding, None, &runs_dir, 0)
            .unwrap();
        let other_start = process_start_time(stranger_pid).unwrap() + 7;
        store
            .set_run_process(run, stranger_pid, Some(other_start))
            .unwrap();
    }

    let second = open_with(dir.path(), "").expect("tmux");
    second.wait_for_screen("the dashboard", LIMIT, |s| s.contains("Agents"));
    wait_for("the leftover groups killed", LIMIT, || {
        leftovers
            .iter()
            .all(|p| group_members(*p).is_empty())
            .then_some(())
    });
    let lost = run_pids(dir.path(), "lost");
    for p in leftovers.iter().chain([&stranger_pid]) {
        assert!(lost.contains(p), "run of pid {p} recorded lost: {lost:?}");
    }
    assert_eq!(
        group_members(stranger_pid).len(),
        1,
        "the unrelated process survives"
    );
    let _ = stranger.kill();
    let _ = stranger.wait();
    // Work was under way when corral was killed: nothing starts until a person says so, and
    // the header and `corral status` say why.
    second.wait_for_screen("the header saying why nothing starts", LIMIT, |s| {
        s.contains("scheduler paused: corral was killed")
    });
    let why = status(dir.path())["scheduler_paused"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The two agents and the run the stranger's pid was recorded for.
    assert!(why.contains("3 run(s) live"), "{why}");
    assert!(
        run_pids(dir.path(), "running").is_empty(),
        "nothing started"
    );
    // Space goes on: its features were put back and start again, two fresh agents.
    second.press(" ");
    let fresh = two_live_agents(&second, dir.path());
    second.wait_for_screen("the fresh agents on screen", LIMIT, |s| {
        s.matches("running").count() >= 2 && !s.contains("scheduler paused")
    });
    // Q stops the daemon and its agents (asking first); q would only detach.
    second.press("Q");
    second.wait_for_screen("the stop question", LIMIT, |s| {
        s.contains("Stop the daemon?")
    });
    second.press("y");
    second.wait_for_screen("corral to exit", LIMIT, |s| s.contains("corral exited 0"));
    for p in fresh {
        assert!(group_members(p).is_empty());
    }
    assert!(corral::runtime::daemon::running(dir.path()).is_none());
}

#[test]
fn closing_the_terminal_stops_every_agent() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path(), "trap '' TERM; sleep 300 & wait");
    let Some(tmux) = open(dir.path()) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let pids = two_live_agents(&tmux, dir.path());
    // The terminal goes away under corral: SIGHUP, and every write to it fails from now on.
    tmux.close_terminal();
    wait_for("every agent group gone", LIMIT, || {
        pids.iter()
            .all(|p| group_members(*p).is_empty())
            .then_some(())
    });
    wait_for("no run left recorded live", LIMIT, || {
        run_pids(dir.path(), "running").is_empty().then_some(())
    });
}
