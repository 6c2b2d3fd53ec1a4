//! The queue commands with and without a daemon. Reads show the daemon's live state (the
//! queue in its scheduler's order, why it is paused), else the database read-only in the
//! order the core would start it. Changes are requests the daemon's core answers (refusals
//! with its reason), else the core's own rules applied to the stored state.

mod common;

use common::cli::{corral, json_of, ok, refused};
use common::daemon::StopsDaemon;
use common::wait_for;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// These tests start daemons and agents: one at a time on a loaded machine.
static SERIAL: Mutex<()> = Mutex::new(());

const SLEEPER: &str = "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
                       command = [\"sh\", \"-c\", \"echo up; sleep 600\"]\n";

/// A project whose features have the given priorities (lower starts first).
fn project(toml: &str, priorities: &[i64]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corral.toml"), toml).unwrap();
    drop(corral::runtime::store::Store::open(dir.path()).unwrap());
    for (i, p) in priorities.iter().enumerate() {
        ok(
            dir.path(),
            &[
                "feature",
                "add",
                "--name",
                &format!("f{i}"),
                "--priority",
                &p.to_string(),
            ],
        );
    }
    dir
}

fn ids(jobs: &serde_json::Value) -> Vec<i64> {
    jobs.as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect()
}

/// The daemon's snapshot, asked for on the socket as any client would.
fn snapshot(p: &Path) -> serde_json::Value {
    ask(p, "{\"req\":\"snapshot\"}")["snapshot"].clone()
}

/// The view of the daemon's reply to `request` (JSON), asked on the socket.
fn ask(p: &Path, request: &str) -> serde_json::Value {
    let s = std::os::unix::net::UnixStream::connect(p.join(".corral/control.sock")).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let hello = serde_json::to_string(&corral::api::ClientMessage::Hello(
        corral::api::Hello::ours(),
    ))
    .unwrap();
    writeln!(&s, "{hello}").unwrap();
    writeln!(
        &s,
        "{{\"type\":\"request\",\"id\":3,\"request\":{request}}}"
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    loop {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "closed");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["type"] == "reply" {
            assert_eq!(v["id"], 3);
            return v["view"].clone();
        }
    }
}

#[test]
fn with_a_daemon_the_reads_show_its_queue_order_and_why_it_is_paused() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(SLEEPER, &[5, 0, 9, -3]);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let daemon = StopsDaemon::new(p);
    wait_for("a running job", Duration::from_secs(20), || {
        let jobs = json_of(p, &["job", "list", "--json"]);
        let running = jobs.as_array()?.iter().any(|j| j["state"] == "running");
        running.then_some(())
    });
    assert!(ok(p, &["scheduler", "pause"]).contains("scheduler paused"));

    let listed = json_of(p, &["job", "list", "--json"]);
    let live = snapshot(p);
    assert_eq!(
        ids(&listed),
        ids(&live["jobs"]),
        "job list is the daemon's order"
    );
    // Priority -3 (feature 4) runs; the rest wait by priority: 0, 5, 9.
    let features: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["feature"].as_i64().unwrap())
        .collect();
    assert_eq!(features, vec![4, 2, 1, 3], "{listed}");
    let status = json_of(p, &["status", "--json"]);
    assert_eq!(
        ids(&status["jobs"]),
        ids(&listed),
        "status shows the same order"
    );
    assert_eq!(status["scheduler"]["paused"], true);
    let pid = corral::runtime::daemon::running(p).unwrap().pid;
    assert_eq!(status["scheduler"]["daemon"], pid);
    let f4 = &status["features"].as_array().unwrap()[3];
    assert_eq!(f4["status"], "in_progress", "only the daemon knows: {f4}");
    assert!(ok(p, &["status"]).contains("scheduler: paused"));
    assert!(ok(p, &["job", "list"]).contains("scheduler paused"));
    let features = json_of(p, &["feature", "list", "--json"]);
    assert_eq!(features[3]["status"], "in_progress");
    // What an attached dashboard's `L` shows of the daemon: its own log's latest lines.
    let log = ask(p, "{\"req\":\"app_log\",\"lines\":50}");
    let lines = log["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("run 1: started coding")),
        "{log}"
    );
    assert!(lines.len() <= 50);

    // Without the daemon: the same waiting order, read from the store without a write.
    drop(daemon);
    let db = p.join(".corral/corral.db");
    let before = std::fs::read(&db).unwrap();
    let offline = json_of(p, &["job", "list", "--json"]);
    let waiting = |v: &serde_json::Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|j| j["state"] == "queued")
            .map(|j| j["feature"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        &waiting(&offline)[waiting(&offline).len() - 3..],
        &[2, 1, 3]
    );
    let status = json_of(p, &["status", "--json"]);
    assert_eq!(ids(&status["jobs"]), ids(&offline));
    assert_eq!(status["scheduler"]["daemon"], serde_json::Value::Null);
    ok(p, &["feature", "list"]);
    ok(p, &["breaker", "list"]);
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "a read wrote to the database"
    );
    assert!(!p.join(".corral/corral.db-journal").exists());
}

#[test]
fn without_a_daemon_a_read_never_migrates_the_database() {
    let dir = project(SLEEPER, &[0]);
    let p = dir.path();
    let db = p.join(".corral/corral.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        conn.pragma_update(None, "user_version", v - 1).unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    for args in [
        &["status"][..],
        &["job", "list"],
        &["feature", "list"],
        &["breaker", "list"],
    ] {
        let out = corral(p).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("older than this corral"), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn changes_follow_the_cores_rules_with_and_without_a_daemon() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project(SLEEPER, &[0, 5]);
    let p = dir.path();
    ok(p, &["daemon", "start"]);
    let daemon = StopsDaemon::new(p);
    let running = wait_for("a running job", Duration::from_secs(20), || {
        let jobs = json_of(p, &["job", "list", "--json"]);
        jobs.as_array()?
            .iter()
            .find(|j| j["state"] == "running")
            .map(|j| j["id"].as_i64().unwrap())
    });
    // Refused by the daemon's core, with its reason and exit code 2.
    let err = refused(p, &["job", "retry", &running.to_string()]);
    assert!(err.contains(&format!("job {running} is running")), "{err}");
    assert!(refused(p, &["job", "cancel", "99"]).contains("no job 99"));
    assert!(refused(p, &["feature", "requeue", "1"]).contains("feature 1 is in progress"));
    drop(daemon);

    // No daemon: the same rules on the stored queue. Requeueing feature 2 cancels the job
    // waiting with its old attempts, as the core does.
    let waiting = json_of(p, &["job", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["feature"] == 2 && j["state"] == "queued")
        .map(|j| j["id"].as_i64().unwrap())
        .expect("a queued job for feature 2");
    assert!(ok(p, &["feature", "requeue", "2"]).contains("requeued: ready, attempts 0"));
    let jobs = json_of(p, &["job", "list", "--json"]);
    let job = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == waiting)
        .unwrap();
    assert_eq!(job["state"], "cancelled", "{job}");
    assert_eq!(job["last_error"], "feature requeued by request");
    let err = refused(p, &["job", "cancel", &waiting.to_string()]);
    assert!(err.contains("has ended already (cancelled)"), "{err}");
    assert!(ok(p, &["job", "retry", &waiting.to_string()]).contains("queued"));
}

/// A subscriber that stops reading never holds up the daemon: a run flooding megabytes of
/// output to it runs to its end, and the client is dropped once it has taken nothing for the
/// write patience (30 s; 2 s in this test).
#[test]
fn a_client_that_stops_reading_does_not_slow_a_flood_and_is_dropped() {
    use std::io::Read;
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let toml = "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"-c\", \"while [ ! -e go ]; do sleep 0.1; done; seq 1 400000\"]\n";
    let dir = project(toml, &[0]);
    let p = dir.path();
    let out = corral(p)
        .env(corral::runtime::control::WRITE_PATIENCE_ENV, "2000")
        .args(["daemon", "start"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let _daemon = StopsDaemon::new(p);
    let agents = || json_of(p, &["agent", "list", "--json"]);
    let run = wait_for("the agent", Duration::from_secs(20), || {
        agents()
            .as_array()?
            .first()
            .map(|r| r["id"].as_i64().unwrap())
    });
    let s = std::os::unix::net::UnixStream::connect(p.join(".corral/control.sock")).unwrap();
    let hello = serde_json::to_string(&corral::api::ClientMessage::Hello(
        corral::api::Hello::ours(),
    ))
    .unwrap();
    writeln!(&s, "{hello}").unwrap();
    writeln!(
        &s,
        "{{\"type\":\"request\",\"id\":1,\"request\":{{\"req\":\"subscribe\",\"follow\":[{run}]}}}}"
    )
    .unwrap();
    // From here on the client reads nothing while the run prints ~400,000 lines.
    std::fs::write(p.join("go"), "").unwrap();
    wait_for(
        "the flood to run to its end",
        Duration::from_secs(120),
        || {
            let list = agents();
            let r = list.as_array()?.iter().find(|r| r["id"] == run)?.clone();
            (r["state"]["state"] == "exited").then_some(())
        },
    );
    // Dropped: only the status request itself is still connected.
    wait_for(
        "the stalled client to be dropped",
        Duration::from_secs(30),
        || {
            let v = json_of(p, &["daemon", "status", "--json"]);
            (v["daemon"]["clients"] == 1).then_some(())
        },
    );
    // What it had been sent is still readable; then the connection ends.
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut rest = Vec::new();
    (&s).read_to_end(&mut rest)
        .expect("closed by the daemon, not a timeout");
    let text = String::from_utf8_lossy(&rest);
    assert!(
        text.starts_with("{\"type\":\"hello\""),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("\"type\":\"lines\""));
}
