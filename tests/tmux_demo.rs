//! End-to-end test of the demo dashboard, driven through tmux the way a person would use it:
//! start `corral demo DIR`, pause / resume / kill the selected agent with the keyboard, quit,
//! and check the real processes (via /proc) and the project database (via `status --json`)
//! after every step.
//!
//! The tmux server runs on its own socket (`tmux -L <unique>`) with no config file, so the test
//! never touches a user's tmux. The child gets temporary XDG dirs so no user config is read and
//! the log file lands in a temp dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tempfile::TempDir;

const SESSION: &str = "demo";
const POLL_INTERVAL: Duration = Duration::from_millis(75);
/// The demo config's kill grace period is 3 s; allow generous margin on a loaded machine.
const KILL_TIMEOUT: Duration = Duration::from_secs(8);
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// A tmux server on a private socket. Dropping it kills the server, and then any demo agent
/// left behind by a failed run, so a failing assertion does not leak processes.
struct Tmux {
    socket: String,
    /// Where tmux put the socket, once the server runs. tmux 3.3 leaves the file behind after
    /// `kill-server`, so the guard removes it.
    socket_path: Option<PathBuf>,
    project: PathBuf,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut cmd = Command::new("tmux");
        // `-f /dev/null`: ignore the user's ~/.tmux.conf (it could change keys or the size).
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]);
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd().args(args).output().expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", SESSION]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends one key, as typed (`-l` so e.g. `y` is never read as a key name).
    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", key]);
    }

    /// Polls the screen until `pred` holds; panics with the last screen on timeout.
    fn wait_for_screen(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{screen}");
            }
            thread::sleep(POLL_INTERVAL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
        if let Some(path) = &self.socket_path {
            let _ = fs::remove_file(path);
        }
        // Agents lead their own process groups, so killing the tmux server (and with it the
        // dashboard) does not reach them. Only relevant when the test failed half-way.
        for pid in demo_agent_pids(&self.project) {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .output();
        }
    }
}

/// Polls `check` until it returns `Ok`, or panics after `timeout` with `what` and the last
/// `Err` (a description of what was seen instead).
fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}")
            }
            Err(_) => thread::sleep(POLL_INTERVAL),
        }
    }
}

/// `(pid, state)` of every process whose process group is `pgid`, read from /proc/*/stat.
/// The fields after the command name (which may contain spaces and parentheses) start after
/// the last ')': state, ppid, pgrp, ...
fn group_members(pgid: i64) -> Vec<(i64, char)> {
    let mut members = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return members;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
            continue;
        };
        // The process may exit between read_dir and this read; that is fine.
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        if pgrp.parse::<i64>() == Ok(pgid) {
            members.push((pid, state.chars().next().unwrap_or('?')));
        }
    }
    members
}

/// Members of the group that are still alive: a zombie has exited and only waits to be reaped.
fn live_group_members(pgid: i64) -> Vec<(i64, char)> {
    group_members(pgid)
        .into_iter()
        .filter(|&(_, state)| state != 'Z')
        .collect()
}

/// Live `demo-agent` processes belonging to `project`. The agent's command line does not name
/// the project, so also accept a match on its working directory or its CORRAL_PROJECT variable.
fn demo_agent_pids(project: &Path) -> Vec<i64> {
    let project_str = project.to_string_lossy();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids = Vec::new();
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i64>() else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        // Zombies have an empty cmdline, so they never match: they count as gone.
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !cmdline.contains("demo-agent") {
            continue;
        }
        let in_cmdline = cmdline.contains(&*project_str);
        let in_cwd = fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == project);
        let in_env = fs::read(entry.path().join("environ")).is_ok_and(|env| {
            env.split(|&b| b == 0)
                .any(|var| var == format!("CORRAL_PROJECT={project_str}").as_bytes())
        });
        if in_cmdline || in_cwd || in_env {
            pids.push(pid);
        }
    }
    pids
}

/// A process-wide unique name for the tmux socket, so parallel or leftover runs never collide.
fn unique_socket_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("corral-test-{}-{nanos}", std::process::id())
}

/// Quotes `s` for the `sh -c` that tmux runs the session command with.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

struct Corral {
    exe: &'static str,
    project: PathBuf,
    config_home: PathBuf,
    data_home: PathBuf,
}

impl Corral {
    /// `corral --project DIR status --json`, parsed. Works while the dashboard is open.
    fn status(&self) -> Value {
        let out = Command::new(self.exe)
            .env("XDG_CONFIG_HOME", &self.config_home)
            .env("XDG_DATA_HOME", &self.data_home)
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
        serde_json::from_slice(&out.stdout).expect("status --json prints JSON")
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
fn agent_row(screen: &str, pid: i64) -> Option<&str> {
    let pid = pid.to_string();
    screen
        .lines()
        .find(|line| line.split_whitespace().any(|word| word == pid))
}

#[test]
fn demo_dashboard_pause_resume_kill_quit() {
    let tmux_usable = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !tmux_usable {
        println!("skipping tmux_demo: tmux is not installed");
        return;
    }
    let started = Instant::now();

    let tmp = TempDir::new().expect("temp dir");
    // corral canonicalizes the project path; do the same so path comparisons match.
    let root = tmp.path().canonicalize().expect("canonical temp dir");
    let config_home = root.join("config");
    let data_home = root.join("data");
    fs::create_dir_all(&config_home).unwrap();
    fs::create_dir_all(&data_home).unwrap();
    let project = root.join("project");

    let corral = Corral {
        exe: env!("CARGO_BIN_EXE_corral"),
        project: project.clone(),
        config_home: config_home.clone(),
        data_home: data_home.clone(),
    };
    let mut tmux = Tmux {
        socket: unique_socket_name(),
        socket_path: None,
        project: project.clone(),
    };

    // 1. Start the dashboard. `; sleep 60` keeps the pane (and its last screen) after corral
    // exits, so step 6 can read the farewell message and the exit code.
    let command = format!(
        "env XDG_CONFIG_HOME={} XDG_DATA_HOME={} {} demo {}; echo \"corral exited $?\"; sleep 60",
        shell_quote(&config_home.to_string_lossy()),
        shell_quote(&data_home.to_string_lossy()),
        shell_quote(corral.exe),
        shell_quote(&project.to_string_lossy()),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        SESSION,
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    let socket_path = tmux
        .run(&["display-message", "-p", "#{socket_path}"])
        .stdout;
    tmux.socket_path = Some(PathBuf::from(
        String::from_utf8_lossy(&socket_path).trim_end(),
    ));

    // 2. The four panes are drawn and at least one agent is running.
    tmux.wait_for_screen("the dashboard with a running agent", STEP_TIMEOUT, |s| {
        ["Agents", "Features", "Queue", "Log"]
            .iter()
            .all(|title| s.contains(title))
            && s.lines().any(|l| l.contains("running"))
    });

    // 3. The selected row is the oldest live run: the lowest-id "running" run in the db.
    let (run_id, pgid) = wait_until("a running run in status --json", STEP_TIMEOUT, || {
        let status = corral.status();
        status["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["status"] == "running")
            .filter_map(|r| Some((r["id"].as_i64()?, r["pgid"].as_i64()?, r["pid"].as_i64()?)))
            .min_by_key(|&(id, _, _)| id)
            .map(|(id, pgid, pid)| {
                assert_eq!(pgid, pid, "an agent leads its own process group");
                (id, pgid)
            })
            .ok_or_else(|| status.to_string())
    });
    assert!(
        !live_group_members(pgid).is_empty(),
        "run {run_id}'s group {pgid} has no live process"
    );

    tmux.press("p");
    wait_until("the agent's group to be stopped", STEP_TIMEOUT, || {
        let members = group_members(pgid);
        if !members.is_empty() && members.iter().all(|&(_, state)| state == 'T') {
            Ok(())
        } else {
            Err(format!("{members:?}"))
        }
    });
    tmux.wait_for_screen("the agent's row to say paused", STEP_TIMEOUT, |s| {
        agent_row(s, pgid).is_some_and(|row| row.contains("paused"))
    });

    // 4. Resume: nothing in the group stays stopped.
    tmux.press("r");
    wait_until("the agent's group to be resumed", STEP_TIMEOUT, || {
        let members = group_members(pgid);
        if members.iter().any(|&(_, state)| state == 'T') {
            Err(format!("{members:?}"))
        } else {
            Ok(())
        }
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
    wait_until("the killed agent's group to be gone", KILL_TIMEOUT, || {
        let live = live_group_members(pgid);
        if live.is_empty() {
            Ok(())
        } else {
            Err(format!("{live:?}"))
        }
    });
    wait_until("status --json to say killed", KILL_TIMEOUT, || {
        let status = corral.run_status(run_id);
        if status == "killed" {
            Ok(())
        } else {
            Err(status)
        }
    });

    // 6. Quit, with confirmation: every agent is stopped and the program exits.
    tmux.press("q");
    tmux.wait_for_screen("the quit question", STEP_TIMEOUT, |s| {
        s.contains("Quit?") && s.contains("live agent(s) will be stopped")
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

    println!("tmux_demo took {:.1?}", started.elapsed());
}
