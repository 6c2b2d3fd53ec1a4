//! End-to-end test of the demo dashboard, driven through tmux the way a person would use it:
//! start `corral demo DIR`, pause / resume / kill the selected agent with the keyboard, quit,
//! and check the real processes (via /proc) and the project database (via `status --json`)
//! after every step. The child gets temporary XDG dirs so no user config is read and the log
//! file lands in a temp dir.

mod common;

use common::tmux::{Tmux, shell_quote};
use common::{group_members, wait_for};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_corral");
/// The demo config's kill grace period is 3 s; allow generous margin on a loaded machine.
const KILL_TIMEOUT: Duration = Duration::from_secs(8);
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
/// Each test drives a dashboard, a daemon and its agents: one at a time on a loaded machine.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Live `demo-agent` processes belonging to `project`. The agent's command line does not name
/// the project, so also accept a match on its working directory or its CORRAL_PROJECT variable.
fn demo_agent_pids(project: &Path) -> Vec<u32> {
    let project_str = project.to_string_lossy();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // Zombies have an empty cmdline, so they never match: they count as gone.
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.contains("demo-agent") {
            continue;
        }
        let in_cmdline = cmdline.contains(&*project_str);
        let in_cwd = std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == project);
        let in_env = std::fs::read(entry.path().join("environ")).is_ok_and(|env| {
            env.split(|&b| b == 0)
                .any(|var| var == format!("CORRAL_PROJECT={project_str}").as_bytes())
        });
        if in_cmdline || in_cwd || in_env {
            pids.push(pid);
        }
    }
    pids
}

struct Corral<'a> {
    tmux: &'a Tmux,
    project: PathBuf,
    xdg: PathBuf,
}

impl Corral<'_> {
    /// `corral --project DIR status --json`, parsed (works while the dashboard is open). Every
    /// live run's group is handed to the tmux guard, so a failing test leaks no agent.
    fn status(&self) -> Value {
        let out = Command::new(EXE)
            .env("XDG_CONFIG_HOME", self.xdg.join("config"))
            .env("XDG_DATA_HOME", self.xdg.join("data"))
            .arg("--project")
            .arg(&self.project)
            .args(["status", "--json"])
            .output()
            .expect("run corral status");
        assert!(
            out.status.success(),
            "corral status --json failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let status: Value = serde_json::from_slice(&out.stdout).expect("status --json prints JSON");
        for run in status["runs"].as_array().into_iter().flatten() {
            let live = matches!(
                run["status"].as_str(),
                Some("running" | "paused" | "stopping")
            );
            if let (true, Some(pgid)) = (live, run["pgid"].as_u64()) {
                self.tmux.clean_up_group(pgid as u32);
            }
        }
        status
    }

    fn run_status(&self, run_id: i64) -> String {
        let status = self.status();
        let runs = status["runs"].as_array().expect("runs array");
        let run = runs
            .iter()
            .find(|r| r["id"].as_i64() == Some(run_id))
            .unwrap_or_else(|| panic!("run {run_id} missing from status: {status}"));
        run["status"].as_str().unwrap_or_default().to_owned()
    }
}

/// The screen line of the Agents row showing `pid`, if any.
fn agent_row(screen: &str, pid: u32) -> Option<&str> {
    let pid = pid.to_string();
    screen
        .lines()
        .find(|line| line.split_whitespace().any(|word| word == pid))
}

#[test]
fn demo_dashboard_pause_resume_kill_quit() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("temp dir");
    // corral canonicalizes the project path; do the same so path comparisons match.
    let root = tmp.path().canonicalize().expect("canonical temp dir");
    let xdg = root.join("xdg");
    let project = root.join("project");
    for dir in ["config", "data"] {
        std::fs::create_dir_all(xdg.join(dir)).unwrap();
    }

    // 1. Start the dashboard. `; sleep 60` keeps the pane (and its last screen) after corral
    // exits, so step 6 can read the farewell message and the exit code.
    let command = format!(
        "env XDG_CONFIG_HOME={} XDG_DATA_HOME={} {} demo {}; echo \"corral exited $?\"; sleep 60",
        shell_quote(&xdg.join("config").to_string_lossy()),
        shell_quote(&xdg.join("data").to_string_lossy()),
        shell_quote(EXE),
        shell_quote(&project.to_string_lossy()),
    );
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    // The demo runs in a daemon of its own; this stops it however the test ends.
    let _daemon = common::daemon::StopsDaemon::new(&project);
    let corral = Corral {
        tmux: &tmux,
        project: project.clone(),
        xdg,
    };

    // 2. The four panes are drawn and at least one agent is running.
    tmux.wait_for_screen("the dashboard with a running agent", STEP_TIMEOUT, |s| {
        ["Agents", "Features", "Queue", "Log"]
            .iter()
            .all(|title| s.contains(title))
            && s.lines().any(|l| l.contains("running"))
    });

    // 3. The selected row is the oldest live run: the lowest-id "running" run in the db.
    let (run_id, pgid) = wait_for("a running run in status --json", STEP_TIMEOUT, || {
        corral.status()["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["status"] == "running")
            .filter_map(|r| Some((r["id"].as_i64()?, r["pgid"].as_u64()?, r["pid"].as_u64()?)))
            .min_by_key(|&(id, _, _)| id)
            .map(|(id, pgid, pid)| {
                assert_eq!(pgid, pid, "an agent leads its own process group");
                (id, pgid as u32)
            })
    });
    assert!(
        !group_members(pgid).is_empty(),
        "run {run_id}'s group {pgid} has no live process"
    );

    tmux.press("p");
    wait_for("the agent's group to be stopped", STEP_TIMEOUT, || {
        let members = group_members(pgid);
        (!members.is_empty() && members.iter().all(|&(_, state)| state == 'T')).then_some(())
    });
    tmux.wait_for_screen("the agent's row to say paused", STEP_TIMEOUT, |s| {
        agent_row(s, pgid).is_some_and(|row| row.contains("paused"))
    });

    // 4. Resume: nothing in the group stays stopped.
    tmux.press("r");
    wait_for("the agent's group to be resumed", STEP_TIMEOUT, || {
        (!group_members(pgid).iter().any(|&(_, state)| state == 'T')).then_some(())
    });
    tmux.wait_for_screen("the agent's row to say running", STEP_TIMEOUT, |s| {
        agent_row(s, pgid).is_some_and(|row| row.contains("running"))
    });

    // 5. Kill, with confirmation. The selection is still on our run.
    tmux.press("x");
    tmux.wait_for_screen("the kill confirmation", STEP_TIMEOUT, |s| {
        s.contains(&format!("Kill run {run_id}")) && s.contains("y yes") && s.contains("n no")
    });
    tmux.press("y");
    wait_for("the killed agent's group to be gone", KILL_TIMEOUT, || {
        group_members(pgid).is_empty().then_some(())
    });
    wait_for("status --json to say killed", KILL_TIMEOUT, || {
        (corral.run_status(run_id) == "killed").then_some(())
    });

    // 6. Quit, with confirmation: the demo's daemon and every agent are stopped (the
    // default: trying the demo leaves nothing working) and the program exits.
    tmux.press("q");
    tmux.wait_for_screen("the quit question", STEP_TIMEOUT, |s| {
        s.contains("Quit?")
            && s.contains("live agent(s) will be stopped")
            && s.contains("k keep it running")
    });
    tmux.press("y");
    // Stopping the remaining agents may take the grace period, so allow the kill timeout.
    let screen = tmux.wait_for_screen("corral to exit", KILL_TIMEOUT + STEP_TIMEOUT, |s| {
        s.contains("corral exited")
    });
    assert!(
        screen.contains("demo project kept in"),
        "farewell message missing:\n{screen}"
    );
    assert!(
        screen.contains("corral exited 0"),
        "corral exited with an error:\n{screen}"
    );
    let leftovers = demo_agent_pids(&project);
    assert!(
        leftovers.is_empty(),
        "demo agents survived quitting: {leftovers:?}"
    );
    assert!(
        corral::runtime::daemon::running(&project).is_none(),
        "the demo's daemon survived quitting"
    );

    println!("tmux_demo took {:.1?}", started.elapsed());
}

/// `k` at the demo's quit question leaves the demo running in its daemon, and says how to
/// reach and stop it.
#[test]
fn demo_quit_can_keep_the_demo_running() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().canonicalize().expect("canonical temp dir");
    let xdg = root.join("xdg");
    let project = root.join("project");
    let command = format!(
        "env XDG_CONFIG_HOME={} XDG_DATA_HOME={} {} demo {}; echo \"corral exited $?\"; sleep 60",
        shell_quote(&xdg.join("config").to_string_lossy()),
        shell_quote(&xdg.join("data").to_string_lossy()),
        shell_quote(EXE),
        shell_quote(&project.to_string_lossy()),
    );
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let _daemon = common::daemon::StopsDaemon::new(&project);
    tmux.wait_for_screen("a running agent", STEP_TIMEOUT, |s| {
        s.lines().any(|l| l.contains("running"))
    });
    tmux.press("q");
    tmux.wait_for_screen("the quit question", STEP_TIMEOUT, |s| s.contains("Quit?"));
    tmux.press("k");
    let screen = tmux.wait_for_screen("corral to exit", STEP_TIMEOUT, |s| {
        s.contains("corral exited")
    });
    assert!(screen.contains("corral exited 0"), "{screen}");
    assert!(screen.contains("the demo keeps running"), "{screen}");
    assert!(!screen.contains("demo project kept in"), "{screen}");
    corral::runtime::daemon::running(&project).expect("the demo's daemon runs on");
    wait_for("its agents to run on", STEP_TIMEOUT, || {
        (!demo_agent_pids(&project).is_empty()).then_some(())
    });
}

/// The demo's terminal goes away: nobody can answer its quit question, so the demo stops (the
/// question's default) and leaves no agent behind.
#[test]
fn a_closed_demo_terminal_stops_the_demo() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().canonicalize().expect("canonical temp dir");
    let xdg = root.join("xdg");
    let project = root.join("project");
    let command = format!(
        "env XDG_CONFIG_HOME={} XDG_DATA_HOME={} {} demo {}",
        shell_quote(&xdg.join("config").to_string_lossy()),
        shell_quote(&xdg.join("data").to_string_lossy()),
        shell_quote(EXE),
        shell_quote(&project.to_string_lossy()),
    );
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let _daemon = common::daemon::StopsDaemon::new(&project);
    tmux.wait_for_screen("a running agent", STEP_TIMEOUT, |s| {
        s.lines().any(|l| l.contains("running"))
    });
    tmux.close_terminal();
    wait_for(
        "the demo's daemon to stop",
        KILL_TIMEOUT + STEP_TIMEOUT,
        || {
            corral::runtime::daemon::running(&project)
                .is_none()
                .then_some(())
        },
    );
    wait_for("the demo's agents gone", KILL_TIMEOUT, || {
        demo_agent_pids(&project).is_empty().then_some(())
    });
}
