//! The per-project daemon through the real binary: `corral daemon start` detaches it, agents
//! (process trees) live on when a client dies, `corral agent …` drives them with one reply per
//! request, a client of another protocol is told what to run, and `corral daemon stop` leaves
//! no process behind.

mod common;

use common::cli::{corral, ok, refused};
use common::daemon::StopsDaemon;
use common::{group_members, wait_for};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// These tests start daemons and agent process trees: one at a time on a loaded machine.
static SERIAL: Mutex<()> = Mutex::new(());

const TREE: &str = "[scheduler]\nmax_agents = 2\n\n[profiles.coding]\nrole = \"coding\"\n\
                    command = [\"sh\", \"-c\", \"echo tree up; sleep 600 & sleep 601 & wait\"]\n";

fn project(toml: &str, features: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corral.toml"), toml).unwrap();
    drop(corral::runtime::store::Store::open(dir.path()).unwrap());
    for i in 0..features {
        ok(
            dir.path(),
            &["feature", "add", "--name", &format!("tree {i}")],
        );
    }
    dir
}

/// (run id, pid) of the live runs, as `corral agent list --json` says.
fn live_runs(p: &Path) -> Vec<(i64, u32)> {
    let v: serde_json::Value = serde_json::from_str(&ok(p, &["agent", "list", "--json"])).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["state"]["state"] == "running" || r["state"]["state"] == "paused")
        .map(|r| (r["id"].as_i64().unwrap(), r["pid"].as_u64().unwrap() as u32))
        .collect()
}

#[test]
fn agents_outlive_a_killed_client_obey_agent_commands_and_stop_with_the_daemon() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(TREE, 2);
    let p = dir.path();
    let said = ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    assert!(said.contains("daemon started"), "{said}");
    let lock = std::fs::read_to_string(p.join(".corral/lock")).unwrap();
    for key in ["version=", "protocol=1", "socket="] {
        assert!(lock.contains(key), "{lock}");
    }

    // Both agents up, each a shell with two sleeps in its own group.
    let runs = wait_for("two live agents", Duration::from_secs(20), || {
        let runs = live_runs(p);
        let full = runs.len() == 2 && runs.iter().all(|(_, pid)| group_members(*pid).len() == 3);
        full.then_some(runs)
    });

    // A client following a run's output is killed outright: the agents do not notice.
    let mut follower = std::process::Command::new(assert_cmd::cargo::cargo_bin!("corral"))
        .current_dir(p)
        .args(["agent", "log", &runs[0].0.to_string(), "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(follower.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first.trim(), "tree up", "the backlog of the followed run");
    follower.kill().unwrap();
    follower.wait().unwrap();
    for (_, pid) in &runs {
        assert_eq!(
            group_members(*pid).len(),
            3,
            "run group {pid} lost a process"
        );
    }
    let status = ok(p, &["daemon", "status"]);
    assert!(status.contains("2 agent(s) running"), "{status}");

    // Pause, resume and kill, each answered with the state they left the run in.
    let (run, pid) = runs[0];
    let id = run.to_string();
    let paused = ok(p, &["agent", "pause", &id]);
    assert!(paused.contains("paused"), "{paused}");
    let stopped = group_members(pid);
    assert!(stopped.iter().all(|(_, s)| *s == 'T'), "{stopped:?}");
    let resumed: serde_json::Value =
        serde_json::from_str(&ok(p, &["agent", "resume", &id, "--json"])).unwrap();
    assert_eq!(resumed["state"]["state"], "running");
    let unknown = refused(p, &["agent", "kill", "9999"]);
    assert!(unknown.contains("9999"), "{unknown}");
    let killed = ok(p, &["agent", "kill", &id, "--force"]);
    assert!(killed.contains("killed"), "{killed}");
    assert!(
        group_members(pid).is_empty(),
        "the killed run left processes"
    );
    let ended = refused(p, &["agent", "pause", &id]);
    assert!(ended.contains("ended"), "{ended}");
    let ended = refused(p, &["agent", "restart", &id]);
    assert!(ended.contains(&format!("run {id} has ended")), "{ended}");
    assert!(ok(p, &["agent", "log", &id]).contains("tree up"));

    // Stop: every agent ends (a new one may have started in the freed slot) and the daemon
    // with them.
    let pids: Vec<u32> = live_runs(p).iter().map(|(_, pid)| *pid).collect();
    let stop = ok(p, &["daemon", "stop"]);
    assert!(stop.contains("stopped"), "{stop}");
    for pid in pids {
        assert!(
            group_members(pid).is_empty(),
            "run group {pid} outlived the daemon"
        );
    }
    assert!(ok(p, &["daemon", "status"]).contains("no corral daemon runs"));
    let status: serde_json::Value =
        serde_json::from_str(&ok(p, &["daemon", "status", "--json"])).unwrap();
    assert_eq!(status["running"], false);
    // Their features wait to run again.
    let features = ok(p, &["feature", "list"]);
    assert!(!features.contains("in_progress"), "{features}");
    let none = refused(p, &["agent", "list"]);
    assert!(none.contains("no corral daemon runs"), "{none}");
}

#[test]
fn a_client_of_another_protocol_is_told_the_daemons_version_and_pid_and_what_to_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(TREE, 0);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    let pid = corral::runtime::daemon::running(p).unwrap().pid;

    let mut socket =
        std::os::unix::net::UnixStream::connect(p.join(".corral/control.sock")).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
        .write_all(b"{\"type\":\"hello\",\"protocol\":999,\"version\":\"9.0.0\",\"pid\":1}\n")
        .unwrap();
    let lines: Vec<String> = BufReader::new(socket)
        .lines()
        .map_while(Result::ok)
        .collect();
    assert_eq!(
        lines.len(),
        2,
        "a hello, the message, then the end: {lines:?}"
    );
    let hello: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(hello["pid"], pid);
    let message: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(message["type"], "mismatch");
    let text = message["message"].as_str().unwrap();
    for part in [
        format!("pid {pid}"),
        env!("CARGO_PKG_VERSION").to_string(),
        "corral daemon restart".to_string(),
    ] {
        assert!(text.contains(&part), "{text}");
    }

    // The library's client says the same.
    let other = corral::api::Hello {
        protocol: 999,
        ..corral::api::Hello::ours()
    };
    let err = corral::runtime::daemon::Client::connect_as(p, other)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(&format!("pid {pid}")), "{err}");

    // A second start is refused, naming the one that runs.
    let again = refused(p, &["daemon", "start"]);
    assert!(again.contains(&format!("pid {pid}")), "{again}");
}

#[test]
fn a_daemon_that_does_not_come_up_is_reported_with_the_end_of_its_log() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(TREE, 0);
    let p = dir.path();
    std::fs::write(
        p.join("corral.toml"),
        "[scheduler]\nmax_agents = \"many\"\n",
    )
    .unwrap();
    let out = corral(p)
        .args(["daemon", "start"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("daemon.log"), "{err}");
    assert!(err.contains("max_agents"), "the log's own words: {err}");
    assert!(corral::runtime::daemon::running(p).is_none());
}

#[test]
fn queue_commands_get_the_daemons_reply_instead_of_polling_the_store() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(&TREE.replace("max_agents = 2", "max_agents = 1"), 1);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    let (_, pid) = wait_for("the agent", Duration::from_secs(20), || {
        live_runs(p).first().copied()
    });
    let paused = ok(p, &["scheduler", "pause"]);
    assert!(paused.contains("scheduler paused"), "{paused}");
    // The reply comes once the run has stopped and the job ended.
    let v: serde_json::Value =
        serde_json::from_str(&ok(p, &["job", "cancel", "1", "--json"])).unwrap();
    assert_eq!(v["state"], "cancelled");
    assert!(group_members(pid).is_empty());
    let text = ok(p, &["job", "retry", "1"]);
    assert!(
        text.contains("it now shows:"),
        "the daemon's own view: {text}"
    );
    assert!(text.contains("queued"), "the scheduler is paused: {text}");
    assert!(ok(p, &["scheduler", "resume"]).contains("scheduler resumed"));
    wait_for("the retried job to run", Duration::from_secs(20), || {
        (!live_runs(p).is_empty()).then_some(())
    });
    assert!(ok(p, &["breaker", "close", "coding"]).contains("coding: closed"));
}

/// Reads one JSON message a line.
fn next(reader: &mut BufReader<std::os::unix::net::UnixStream>) -> serde_json::Value {
    let mut line = String::new();
    assert!(
        reader.read_line(&mut line).unwrap() > 0,
        "connection closed"
    );
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

#[test]
fn a_subscriber_gets_the_state_then_its_runs_output_and_an_oversized_request_is_cut_off() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let toml = "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"-c\", \"echo first; while read l; do echo got $l; done; sleep 600\"]\n";
    let dir = project(toml, 1);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    let (run, _) = wait_for("the agent", Duration::from_secs(20), || {
        live_runs(p).first().copied()
    });
    let connect = || {
        let s = std::os::unix::net::UnixStream::connect(p.join(".corral/control.sock")).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut hello = serde_json::to_string(&corral::api::ClientMessage::Hello(
            corral::api::Hello::ours(),
        ))
        .unwrap();
        hello.push('\n');
        (&s).write_all(hello.as_bytes()).unwrap();
        let mut reader = BufReader::new(s.try_clone().unwrap());
        assert_eq!(next(&mut reader)["type"], "hello");
        (s, reader)
    };
    let (mut s, mut reader) = connect();
    writeln!(
        s,
        "{{\"type\":\"request\",\"id\":9,\"request\":{{\"req\":\"subscribe\",\"follow\":[{run}],\"backlog\":10}}}}"
    )
    .unwrap();
    let reply = next(&mut reader);
    assert_eq!(
        (reply["type"].as_str(), reply["id"].as_u64()),
        (Some("reply"), Some(9))
    );
    assert_eq!(reply["outcome"], "done");
    let backlog = next(&mut reader);
    assert_eq!(backlog["type"], "lines", "{backlog}");
    assert_eq!(backlog["lines"][0]["text"], "first");
    let snapshot = next(&mut reader);
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    assert_eq!(snapshot["snapshot"]["runs"][0]["id"], run);

    // Input through a second client reaches the agent; its answer streams to the first.
    let (mut other, mut other_reader) = connect();
    writeln!(
        other,
        "{{\"type\":\"request\",\"id\":1,\"request\":{{\"req\":\"command\",\"command\":{{\"cmd\":\"send_input\",\"run\":{run},\"text\":\"ping\"}}}}}}"
    )
    .unwrap();
    assert_eq!(next(&mut other_reader)["outcome"], "done");
    // (corral's own note of what was sent comes first, in the same stream.)
    wait_for("the agent's answer", Duration::from_secs(20), || {
        let msg = next(&mut reader);
        let lines = msg["lines"].as_array().cloned().unwrap_or_default();
        lines.iter().any(|l| l["text"] == "got ping").then_some(())
    });

    // The same from the command line.
    ok(p, &["agent", "input", &run.to_string(), "pong"]);
    wait_for("the answer to the command", Duration::from_secs(20), || {
        let msg = next(&mut reader);
        let lines = msg["lines"].as_array().cloned().unwrap_or_default();
        lines.iter().any(|l| l["text"] == "got pong").then_some(())
    });

    // A request past 256 KiB ends that connection, and only that one.
    let big = format!(
        "{{\"type\":\"request\",\"id\":2,\"request\":{{\"req\":\"log\",\"run\":{run},\"lines\":1,\"pad\":\"{}\"}}}}\n",
        "x".repeat(300 * 1024)
    );
    let _ = other.write_all(big.as_bytes());
    let mut rest = String::new();
    let closed = matches!(other_reader.read_line(&mut rest), Ok(0) | Err(_));
    assert!(closed, "still open: {rest}");
    assert!(ok(p, &["agent", "list"]).contains("running"));
}

/// `corral` in a terminal shows the running daemon's fleet; its keys reach the daemon; a
/// closed terminal and `q` end only the dashboard.
#[test]
fn a_dashboard_attaches_to_the_daemon_and_leaving_it_stops_nothing() {
    use common::tmux::{Tmux, shell_quote};
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(TREE, 2);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    let runs = wait_for("two live agents", Duration::from_secs(20), || {
        let runs = live_runs(p);
        (runs.len() == 2).then_some(runs)
    });
    let line = format!(
        "cd {} && XDG_CONFIG_HOME=.xdg-config XDG_DATA_HOME=.xdg-data {}; sleep 60",
        shell_quote(&p.display().to_string()),
        shell_quote(env!("CARGO_BIN_EXE_corral"))
    );
    let Some(tmux) = Tmux::start(&line, 120, 30) else {
        eprintln!("tmux is not installed; skipped");
        return;
    };
    let limit = Duration::from_secs(20);
    tmux.wait_for_screen("the fleet with its output", limit, |s| {
        s.contains("2 live") && s.contains("tree up")
    });
    let clients = || {
        let v: serde_json::Value =
            serde_json::from_str(&ok(p, &["daemon", "status", "--json"])).unwrap();
        v["daemon"]["clients"].as_u64().unwrap()
    };
    // The dashboard, and this status request.
    assert_eq!(clients(), 2);
    // `p` pauses the selected (first live) run in the daemon.
    tmux.press("p");
    let (_, paused) = wait_for("a paused run", limit, || {
        let v: serde_json::Value =
            serde_json::from_str(&ok(p, &["agent", "list", "--json"])).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["state"]["state"] == "paused")
            .map(|r| (r["id"].as_i64().unwrap(), r["pid"].as_u64().unwrap() as u32))
    });
    wait_for("its group stopped", limit, || {
        group_members(paused)
            .iter()
            .all(|(_, s)| *s == 'T')
            .then_some(())
    });

    // The terminal goes away: only the dashboard ends.
    tmux.close_terminal();
    wait_for("the dashboard to go", limit, || {
        (clients() == 1).then_some(())
    });
    for (_, pid) in &runs {
        assert_eq!(
            group_members(*pid).len(),
            3,
            "run group {pid} lost a process"
        );
    }

    // A new terminal shows the same fleet; `q` leaves at once and says what goes on.
    let Some(again) = Tmux::start(&line, 120, 30) else {
        return;
    };
    again.wait_for_screen("the fleet again", limit, |s| {
        s.contains("2 live") && s.contains("paused")
    });
    // A feature's detail is a request to the daemon.
    again.press("\t");
    again.press("\r");
    again.wait_for_screen("a feature's detail", limit, |s| {
        s.contains("Depends on, nearest first") && s.contains("tree ")
    });
    again.press("q");
    let said = again.wait_for_screen("the detach message", limit, |s| s.contains("detached"));
    assert!(said.contains("keeps 2 agent(s) running"), "{said}");
    for (_, pid) in &runs {
        assert_eq!(
            group_members(*pid).len(),
            3,
            "run group {pid} lost a process"
        );
    }
}

#[test]
fn a_project_too_deep_for_a_socket_path_gets_its_socket_in_the_runtime_directory() {
    use std::os::unix::fs::PermissionsExt;
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let top = tempfile::tempdir().unwrap();
    let runtime = top.path().join("run");
    std::fs::create_dir(&runtime).unwrap();
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let p = top.path().join("a-rather-long-directory-name/".repeat(4));
    std::fs::create_dir_all(&p).unwrap();
    assert!(p.join(".corral/control.sock").as_os_str().len() > 108);
    std::fs::write(p.join("corral.toml"), TREE).unwrap();
    drop(corral::runtime::store::Store::open(&p).unwrap());
    let out = corral(&p)
        .env("XDG_RUNTIME_DIR", &runtime)
        .args(["daemon", "start"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let _daemon = StopsDaemon::new(&p);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let socket = corral::runtime::daemon::LockInfo::read(&p)
        .unwrap()
        .socket
        .unwrap();
    assert!(socket.starts_with(&runtime), "{}", socket.display());
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // Clients find it through the lock file, whatever their environment says.
    assert!(ok(&p, &["daemon", "status"]).contains(&socket.display().to_string()));
    assert!(ok(&p, &["agent", "list"]).contains("no agents"));
}

/// The peer check itself refuses another user, not only the directory's mode: the test opens
/// the way to the socket file and connects as `nobody` (only possible as root).
#[test]
fn another_user_who_can_reach_the_socket_is_refused_by_the_peer_check() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    if !nix::unistd::geteuid().is_root() {
        eprintln!("not root: cannot connect as another user; skipped");
        return;
    }
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(TREE, 0);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    let open = |path: &Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    open(p, 0o755);
    open(&p.join(".corral"), 0o755);
    open(&p.join(".corral/lock"), 0o644);
    let socket = p.join(".corral/control.sock");
    open(&socket, 0o666);
    let nobody = 65534;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .current_dir(p)
        .env("HOME", "/nonexistent")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("XDG_DATA_HOME", "/nonexistent")
        .args(["agent", "list"])
        .uid(nobody)
        .gid(nobody)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("closed the connection"), "{err}");
    // corral's own log (the platform data directory, here the test's).
    let app_log = p.join(".xdg-data/corral/corral.log");
    let log = wait_for(
        "the refusal in corral's log",
        Duration::from_secs(10),
        || {
            let log = std::fs::read_to_string(&app_log).unwrap_or_default();
            log.contains(&format!("refused a connection from uid {nobody}"))
                .then_some(log)
        },
    );
    assert!(log.contains("only uid 0 may connect"), "{log}");
    // The owner is still served.
    assert!(ok(p, &["agent", "list"]).contains("no agents"));
}
