//! The job commands on the real binary: `corral job list|retry|cancel`, on the store alone and
//! through a corral running headless.

mod common;

use common::cli::{Headless, corral, db_bytes, json_of, ok, refused, stderr};
use common::wait_for;
use corral::api::{FeatureId, JobId, JobState, Role, Usage};
use corral::core::Job;
use corral::runtime::store::Store;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A fresh project made by `corral init`, with features 1 to 3 (`feature 1` ...).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let out = corral(p).arg("init").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for n in 1..=3 {
        ok(p, &["feature", "add", "--name", &format!("feature {n}")]);
    }
    dir
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A coding job on `feature` in `state`, attempt 1 of 3.
fn job(id: i64, feature: Option<i64>, state: JobState) -> Job {
    Job {
        id: JobId(id),
        profile: "coding".into(),
        account: "coding".into(),
        role: Role::Coding,
        feature: feature.map(FeatureId),
        priority: 0,
        state,
        attempts: 1,
        max_attempts: 3,
        transient_attempts: 0,
        transient_budget: 5,
        available_at_ms: None,
        last_error: None,
        runs: Vec::new(),
        usage: Usage::default(),
        created_at_ms: 0,
        epoch: 0,
    }
}

/// Stores `jobs` as the core would (and closes the store, so its WAL is checkpointed).
fn save(dir: &Path, jobs: &[Job]) {
    let store = Store::open(dir).unwrap();
    for j in jobs {
        store.save_job(j, now_ms()).unwrap();
    }
}

/// Sets a feature's stored status and attempts, as a run's end would have.
fn set_feature(dir: &Path, id: i64, status: &str, attempts: i64) {
    let store = Store::open(dir).unwrap();
    store
        .connection()
        .execute(
            "UPDATE features SET status = ?2, attempts = ?3, last_error = 'boom' WHERE id = ?1",
            rusqlite::params![id, status, attempts],
        )
        .unwrap();
}

/// (status, attempts, last_error) of a feature as `feature show --json` prints it.
fn feature(dir: &Path, id: i64) -> (String, i64, Value) {
    let v = json_of(dir, &["feature", "show", &id.to_string(), "--json"]);
    (
        v["status"].as_str().unwrap().to_string(),
        v["attempts"].as_i64().unwrap(),
        v["last_error"].clone(),
    )
}

#[test]
fn job_commands_need_an_initialised_project() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["job", "list"][..],
        &["job", "list", "--json"],
        &["job", "retry", "1"],
        &["job", "cancel", "1"],
    ] {
        let err = refused(dir.path(), args);
        assert!(err.contains("corral init"), "{args:?}: {err}");
    }
    assert!(!dir.path().join(".corral").exists());
}

#[test]
fn list_on_an_empty_project() {
    let dir = project();
    assert!(ok(dir.path(), &["job", "list"]).starts_with("no jobs yet"));
    assert_eq!(
        json_of(dir.path(), &["job", "list", "--json"]),
        Value::Array(vec![])
    );
}

#[test]
fn list_shows_the_queue_in_order_then_ended_jobs() {
    let dir = project();
    let p = dir.path();
    let now = now_ms();
    let mut backoff = job(4, Some(3), JobState::Backoff);
    backoff.available_at_ms = Some(now + 65_000);
    backoff.transient_attempts = 2;
    backoff.last_error = Some("429 rate limited\u{1b}[2J\nsecond line".into());
    let mut urgent = job(3, None, JobState::Queued);
    urgent.priority = -1;
    urgent.role = Role::Initializer;
    urgent.profile = "init".into();
    let mut failed = job(5, Some(2), JobState::Failed);
    failed.last_error = Some("exit 1".into());
    save(
        p,
        &[
            job(1, Some(1), JobState::Done),
            job(2, Some(2), JobState::Queued),
            urgent,
            backoff,
            failed,
            job(6, Some(1), JobState::Running),
        ],
    );
    let text = ok(p, &["job", "list"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("ID  PROFILE  FEATURE       STATE    ATTEMPT")
            && lines[0].contains("NEXT TRY")
            && lines[0].ends_with("LAST ERROR"),
        "{text}"
    );
    // The last line says who orders the queue: nobody runs it here.
    assert!(
        lines[7].starts_with("no corral runs this project"),
        "{text}"
    );
    let ids: Vec<&str> = lines[1..7]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, ["6", "3", "2", "4", "5", "1"], "{text}");
    let words = |n: usize| lines[n].split_whitespace().collect::<Vec<_>>();
    assert_eq!(
        words(1)[..6],
        ["6", "coding", "#1", "feature", "1", "running"]
    );
    assert_eq!(words(2)[..5], ["3", "init", "-", "queued", "1/3"]);
    // Backoff: transient retries, the local time and how long from now, the error escaped.
    let row = lines[4];
    assert!(row.contains("backoff  1/3 transient 2/5"), "{row}");
    assert!(row.contains(" in 1m0"), "{row}");
    assert!(
        row.ends_with("429 rate limited\\u{1b}[2J\\nsecond line"),
        "{row}"
    );
    assert!(lines[5].ends_with("exit 1"), "{text}");

    let v = json_of(p, &["job", "list", "--json"]);
    let jobs = v.as_array().unwrap();
    assert_eq!(jobs.len(), 6);
    let b = &jobs[3];
    assert_eq!(b["id"], 4);
    assert_eq!(b["state"], "backoff");
    assert_eq!(b["role"], "coding");
    assert_eq!(b["account"], "coding");
    assert_eq!(b["feature"], 3);
    assert_eq!(b["feature_name"], "feature 3");
    assert_eq!(b["attempt"], 1);
    assert_eq!(b["max_attempts"], 3);
    assert_eq!(b["transient_attempts"], 2);
    assert_eq!(b["transient_budget"], 5);
    assert_eq!(b["available_at_ms"], now + 65_000);
    assert_eq!(b["last_error"], "429 rate limited\u{1b}[2J\nsecond line");
    assert_eq!(b["runs"], Value::Array(vec![]));
    assert!(b["usage"].is_object() && b.get("priority").is_some());
    assert_eq!(jobs[1]["feature"], Value::Null);
    assert_eq!(jobs[1]["feature_name"], Value::Null);

    // `status --json` lists the same job objects, in the same order.
    let status = json_of(p, &["status", "--json"]);
    assert_eq!(status["jobs"].as_array().unwrap(), jobs);
    assert!(status["jobs"][3].get("available_at").is_none());
    assert!(status["features"].is_array() && status["usage"].is_object());
    assert!(ok(p, &["status"]).contains("jobs: 2 queued, 1 running, 1 in backoff, 1 failed"));
}

#[test]
fn list_shows_recent_ended_jobs_unless_all() {
    let dir = project();
    let p = dir.path();
    let jobs: Vec<Job> = (1..=25).map(|n| job(n, Some(1), JobState::Done)).collect();
    save(p, &jobs);
    let text = ok(p, &["job", "list"]);
    assert_eq!(text.lines().count(), 1 + 20 + 1 + 1, "{text}");
    assert!(
        text.lines().nth(1).unwrap().starts_with("25 "),
        "newest first: {text}"
    );
    assert!(text.contains("5 older ended jobs not shown"), "{text}");
    assert_eq!(
        json_of(p, &["job", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        20
    );
    let all = json_of(p, &["job", "list", "--all", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 25);
    assert!(!ok(p, &["job", "list", "--all"]).contains("older"));
}

#[test]
fn retry_of_a_backoff_job_queues_it_now_and_keeps_the_attempts_it_spent() {
    let dir = project();
    let p = dir.path();
    let mut backoff = job(1, Some(1), JobState::Backoff);
    backoff.available_at_ms = Some(now_ms() + 600_000);
    backoff.transient_attempts = 2;
    save(p, &[backoff]);
    set_feature(p, 1, "failing", 1);
    let v = json_of(p, &["job", "retry", "1", "--json"]);
    assert_eq!(v["state"], "queued");
    assert_eq!(v["available_at_ms"], Value::Null);
    // A waiting job keeps its counts: only its wait ends.
    assert_eq!(v["attempt"], 1);
    assert_eq!(v["transient_attempts"], 2);
    assert_eq!(v["feature_name"], "feature 1");
    // Its feature too: the attempt spent stays spent.
    assert_eq!(feature(p, 1).0, "failing");
    assert_eq!(feature(p, 1).1, 1);
    // Retrying a queued one again is fine, and says so in words.
    let text = ok(p, &["job", "retry", "1"]);
    assert!(
        text.starts_with("job 1 (coding #1 \"feature 1\"): queued, attempt 1/3 transient 2/5"),
        "{text}"
    );
}

#[test]
fn retry_of_a_failed_job_gives_fresh_attempts_unless_another_job_does_that_work() {
    let dir = project();
    let p = dir.path();
    let mut failed = job(1, Some(1), JobState::Failed);
    failed.attempts = 3;
    failed.transient_attempts = 4;
    failed.last_error = Some("exit 1".into());
    let mut other = job(2, Some(2), JobState::Cancelled);
    other.last_error = Some("cancelled by request".into());
    save(p, &[failed, other, job(3, Some(2), JobState::Backoff)]);
    set_feature(p, 1, "failed", 3);
    let text = ok(p, &["job", "retry", "1"]);
    assert!(
        text.contains("job 1 (coding #1 \"feature 1\"): queued, attempt 0/3"),
        "{text}"
    );
    assert!(
        text.contains("feature 1 (\"feature 1\") is ready again, attempts 0"),
        "{text}"
    );
    let v = json_of(p, &["job", "list", "--json"]);
    let j1 = v.as_array().unwrap().iter().find(|j| j["id"] == 1).unwrap();
    assert_eq!(
        (
            j1["state"].as_str(),
            j1["attempt"].as_i64(),
            j1["transient_attempts"].as_i64()
        ),
        (Some("queued"), Some(0), Some(0))
    );
    assert_eq!(feature(p, 1), ("ready".into(), 0, Value::Null));
    // Job 3 is open on feature 2 already.
    let before = db_bytes(p);
    let err = refused(p, &["job", "retry", "2"]);
    assert!(
        err.contains("job 3 (backoff) already does that work (coding on feature 2)"),
        "{err}"
    );
    assert_eq!(db_bytes(p), before, "a refused retry writes nothing");
}

#[test]
fn cancel_of_a_queued_job_marks_its_feature_failed() {
    let dir = project();
    let p = dir.path();
    save(p, &[job(1, Some(2), JobState::Queued)]);
    let text = ok(p, &["job", "cancel", "1"]);
    assert!(
        text.starts_with("job 1 (coding #2 \"feature 2\"): cancelled"),
        "{text}"
    );
    assert!(
        text.contains("feature 2 (\"feature 2\") marked failed"),
        "{text}"
    );
    let v = json_of(p, &["job", "list", "--json"]);
    assert_eq!(v[0]["state"], "cancelled");
    assert_eq!(v[0]["last_error"], "cancelled by request");
    assert_eq!(
        feature(p, 2),
        (
            "failed".into(),
            0,
            Value::from("job 1 cancelled by request")
        )
    );
    let err = refused(p, &["job", "cancel", "1"]);
    assert!(err.contains("job 1 has ended already (cancelled)"), "{err}");
    // And back again: the cancelled job retried, its feature pending.
    let v = json_of(p, &["job", "retry", "1", "--json"]);
    assert_eq!(v["state"], "queued");
    assert_eq!(feature(p, 2).0, "ready");
}

#[test]
fn unknown_ids_and_refusals_change_nothing() {
    let dir = project();
    let p = dir.path();
    save(
        p,
        &[
            job(1, Some(1), JobState::Done),
            job(2, Some(2), JobState::Running),
        ],
    );
    let before = db_bytes(p);
    for verb in ["retry", "cancel"] {
        let err = refused(p, &["job", verb, "99"]);
        assert!(err.contains("no job 99"), "{err}");
        let err = refused(p, &["job", verb, "99", "--json"]);
        assert!(err.contains("no job 99"), "{err}");
        // A row left `running` by a corral that died: only a corral can take it over.
        let err = refused(p, &["job", verb, "2"]);
        assert!(
            err.contains("job 2 is recorded as running, but no corral is running this project"),
            "{err}"
        );
    }
    assert!(refused(p, &["job", "retry", "1"]).contains("job 1 is done"));
    assert!(refused(p, &["job", "cancel", "1"]).contains("job 1 has ended already (done)"));
    assert_eq!(db_bytes(p), before);
}

/// A retry the queue would cancel again at once (its feature passes, or waits on another) is
/// refused with the reason, and changes nothing.
#[test]
fn a_retry_the_queue_would_undo_is_refused() {
    let dir = project();
    let p = dir.path();
    ok(p, &["feature", "edit", "3", "--dep", "2"]);
    save(
        p,
        &[
            job(1, Some(1), JobState::Cancelled),
            job(2, Some(3), JobState::Failed),
        ],
    );
    set_feature(p, 1, "passing", 1);
    let before = db_bytes(p);
    let err = refused(p, &["job", "retry", "1"]);
    assert!(
        err.contains("job 1 not retried: feature 1 passes (requeue it to redo it)"),
        "{err}"
    );
    let err = refused(p, &["job", "retry", "2"]);
    assert!(
        err.contains("job 2 not retried: feature 3 waits on 2"),
        "{err}"
    );
    assert_eq!(db_bytes(p), before);
}

/// Job `id` as stored, read the way `corral job list` reads it.
fn stored(dir: &Path, id: i64) -> Option<Job> {
    Store::open(dir).ok()?.job(JobId(id)).ok()?
}

#[test]
fn retry_and_cancel_reach_a_running_corral() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let toml = "[scheduler]\nmax_agents = 1\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sleep\", \"30\"]\n";
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    Store::open(p)
        .unwrap()
        .add_features(&[common::feature(1, &[]), common::feature(2, &[])], 0)
        .unwrap();
    let corral_run = Headless::start(p, "headless.out");
    let limit = Duration::from_secs(20);
    wait_for("job 1 to run and job 2 to wait", limit, || {
        // Attempt 1 is saved once the core knows the run: from then on a cancel can kill it.
        let running = stored(p, 1).is_some_and(|j| j.state == JobState::Running && j.attempts == 1);
        let queued = stored(p, 2).is_some_and(|j| j.state == JobState::Queued);
        (running && queued).then_some(())
    });

    // A waiting job is dropped by the core; its feature waits for a person.
    let v = json_of(p, &["job", "cancel", "2", "--json"]);
    assert_eq!(v["state"], "cancelled");
    assert_eq!(v["last_error"], "cancelled by request");
    assert_eq!(
        feature(p, 2),
        (
            "failed".into(),
            0,
            Value::from("job 2 cancelled by request")
        )
    );

    // Refused before anything is sent, with the core's reasons.
    let err = refused(p, &["job", "retry", "1"]);
    assert!(err.contains("job 1 is running"), "{err}");
    assert!(refused(p, &["job", "cancel", "7"]).contains("no job 7"));

    // Cancel kills the run; the command waits until the store shows the job ended.
    let v = json_of(p, &["job", "cancel", "1", "--json"]);
    assert_eq!(v["state"], "cancelled", "{}", corral_run.output());
    assert_eq!(v["last_error"], "killed by request");
    let f = json_of(p, &["feature", "show", "1", "--json"]);
    assert_eq!(f["status"], "failed");

    // Retry gives it fresh attempts; the running scheduler starts it again.
    let text = ok(p, &["job", "retry", "1"]);
    assert!(
        text.starts_with("sent `retry` to the running corral (pid "),
        "{text}"
    );
    // The claim marks the row running before the core saves the counted attempt: wait for both.
    wait_for("job 1 to run again, attempt 1", limit, || {
        stored(p, 1)
            .filter(|j| j.state == JobState::Running && j.runs.len() == 2 && j.attempts == 1)
    });
    let out = corral_run.output();
    assert!(out.contains("notice: job 1 queued to run now"), "{out}");
    assert!(out.contains("notice: job 2 cancelled"), "{out}");
    assert_eq!(
        stored(p, 2).unwrap().state,
        JobState::Cancelled,
        "not queued again"
    );
}

/// Without a running corral there is no scheduler to pause; an unknown account is named as
/// such, a known one that never opened is closed already; nothing changes.
#[test]
fn scheduler_and_breaker_commands_without_a_running_corral() {
    let dir = project();
    let p = dir.path();
    let before = db_bytes(p);
    let err = refused(p, &["scheduler", "resume"]);
    assert!(err.contains("no corral is running this project"), "{err}");
    // A typo is named as one; a real account that never opened is closed already.
    let err = refused(p, &["breaker", "close", "anthropic-main"]);
    assert!(
        err.contains("no account \"anthropic-main\" in corral.toml (accounts: coding)"),
        "{err}"
    );
    assert!(ok(p, &["breaker", "close", "coding"]).contains("coding: closed (it has not opened)"));
    assert_eq!(db_bytes(p), before);
    assert!(ok(p, &["breaker", "list"]).contains("every account is closed"));
    assert_eq!(ok(p, &["breaker", "list", "--json"]).trim(), "[]");
}
