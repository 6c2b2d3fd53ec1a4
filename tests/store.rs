//! The SQLite store on real files: schema, round trips, transactions, and the start-up sweep.

mod common;

use common::{group_members, wait_for};
use corral::api::{FeatureId, FeatureStatus, JobState, Role, RunState};
use corral::runtime::process::process_start_time;
use corral::runtime::store::{NewFeature, Store, StoreError};
use corral::runtime::sweep_leftover_runs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::time::Duration;

fn item(id: i64, name: &str, deps: &[i64]) -> NewFeature {
    NewFeature {
        id: Some(id),
        category: "Cat".into(),
        name: name.into(),
        description: format!("about {name}"),
        steps: vec!["one".into(), "two".into()],
        priority: id,
        dependencies: deps.to_vec(),
    }
}

#[test]
fn a_new_store_is_migrated_with_a_rollback_journal_inside_a_private_directory() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert!(store.schema_version().unwrap() >= 1);
    let mode: String = store
        .connection()
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    // No memory-mapped WAL index: an unwritable state file is an error, not a SIGBUS.
    assert_eq!(mode, "delete");
    let perms = std::fs::metadata(dir.path().join(".corral"))
        .unwrap()
        .permissions();
    assert_eq!(perms.mode() & 0o777, 0o700);
    assert!(dir.path().join(".corral/runs").is_dir());
}

#[test]
fn features_and_dependencies_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let ids = store
        .add_features(
            &[
                item(1, "Login", &[]),
                item(2, "Cart", &[1]),
                item(3, "Pay", &[1, 2]),
            ],
            5,
        )
        .unwrap();
    assert_eq!(ids, vec![FeatureId(1), FeatureId(2), FeatureId(3)]);
    store
        .save_feature(FeatureId(1), FeatureStatus::Passing, 2, None, 9)
        .unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let features = store.load_features().unwrap();
    assert_eq!(features.len(), 3);
    assert_eq!(features[0].status, FeatureStatus::Passing);
    assert_eq!(features[0].attempts, 2);
    assert_eq!(features[2].dependencies, vec![FeatureId(1), FeatureId(2)]);
    assert_eq!(features[1].name, "Cart");
}

#[test]
fn a_bad_dependency_rolls_back_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let err = store
        .add_features(&[item(1, "Login", &[]), item(2, "Cart", &[7])], 0)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("feature 2: depends on unknown feature 7"),
        "{err}"
    );
    assert!(
        store.load_features().unwrap().is_empty(),
        "nothing was added"
    );
    let err = store.add_features(&[item(1, "Self", &[1])], 0).unwrap_err();
    assert!(err.to_string().contains("depends on itself"), "{err}");
    assert!(store.load_features().unwrap().is_empty());
}

#[test]
fn runs_and_jobs_round_trip_with_process_details() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.add_features(&[item(1, "Login", &[])], 0).unwrap();
    let runs_dir = dir.path().join(".corral/runs");
    let (job, run, log) = store
        .begin_job_and_run("coding", Role::Coding, Some(FeatureId(1)), &runs_dir, 100)
        .unwrap();
    assert_eq!(log, runs_dir.join(format!("{run}.log")));
    store.set_run_process(run, 4242, Some(123_456)).unwrap();
    assert_eq!(store.runs(true).unwrap().len(), 1, "a new run is live");
    store
        .save_run(run, RunState::Killed { signal: Some(15) }, None, Some(200))
        .unwrap();
    let mut stored_job = store.job(job).unwrap().expect("the job is stored");
    assert_eq!(stored_job.runs, vec![run]);
    stored_job.state = JobState::Cancelled;
    stored_job.last_error = Some("killed".into());
    store.save_job(&stored_job, 200).unwrap();
    assert_eq!(store.job(job).unwrap(), Some(stored_job));
    let stored = &store.runs(false).unwrap()[0];
    assert_eq!(stored.status, "killed");
    assert_eq!(stored.signal, Some(15));
    assert_eq!(
        (stored.pid, stored.pgid, stored.proc_start_time),
        (Some(4242), Some(4242), Some(123_456))
    );
    assert_eq!(stored.finished_at, Some(200));
    assert!(store.runs(true).unwrap().is_empty());
}

#[test]
fn a_database_from_a_newer_corral_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("corral.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = match Store::open_path(&db) {
        Err(e) => e,
        Ok(_) => panic!("a newer schema must be refused"),
    };
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }));
    assert!(
        err.to_string().contains("corral.db"),
        "names the file: {err}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let v: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
}

/// After corral was SIGKILLed: a leftover agent (same pid and start time) is killed; a process
/// that merely has a recorded pid but another start time (a reused pid) is never touched.
#[test]
fn the_start_up_sweep_kills_only_our_own_leftover_groups() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let spawn = || {
        std::process::Command::new("sh")
            .args(["-c", "sleep 300 & wait"])
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let mut ours = spawn();
    let mut stranger = spawn();
    let (ours_pid, stranger_pid) = (ours.id(), stranger.id());
    wait_for("both trees up", Duration::from_secs(5), || {
        (group_members(ours_pid).len() == 2 && group_members(stranger_pid).len() == 2).then_some(())
    });
    let runs_dir = dir.path().join(".corral/runs");
    let (_, a, _) = store
        .begin_job_and_run("coding", Role::Coding, None, &runs_dir, 0)
        .unwrap();
    store
        .set_run_process(a, ours_pid, process_start_time(ours_pid))
        .unwrap();
    let (_, b, _) = store
        .begin_job_and_run("coding", Role::Coding, None, &runs_dir, 0)
        .unwrap();
    let wrong_start = process_start_time(stranger_pid).unwrap() + 1;
    store
        .set_run_process(b, stranger_pid, Some(wrong_start))
        .unwrap();

    assert_eq!(sweep_leftover_runs(&store, 1).unwrap(), 2);
    let _ = ours.wait();
    wait_for("our leftover group gone", Duration::from_secs(5), || {
        group_members(ours_pid).is_empty().then_some(())
    });
    assert_eq!(
        group_members(stranger_pid).len(),
        2,
        "the unrelated process survives"
    );
    assert!(
        store
            .runs(false)
            .unwrap()
            .iter()
            .all(|r| r.status == "lost")
    );
    assert!(store.runs(true).unwrap().is_empty());
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(stranger_pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = stranger.wait();
}

/// The leader of a leftover agent died (say of a closed pipe) but its children still run in
/// its group: the sweep finds them by the group and ends them too.
#[test]
fn the_sweep_ends_a_leftover_group_whose_leader_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut leader = std::process::Command::new("sh")
        .args(["-c", "sleep 300 & sleep 300 & wait"])
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = leader.id();
    wait_for("the tree up", Duration::from_secs(5), || {
        (group_members(pgid).len() == 3).then_some(())
    });
    let runs_dir = dir.path().join(".corral/runs");
    let (_, run, _) = store
        .begin_job_and_run("coding", Role::Coding, None, &runs_dir, 0)
        .unwrap();
    store
        .set_run_process(run, pgid, process_start_time(pgid))
        .unwrap();
    // Only the leader dies; its two children stay in the group.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pgid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = leader.wait();
    assert_eq!(group_members(pgid).len(), 2);
    assert_eq!(sweep_leftover_runs(&store, 1).unwrap(), 1);
    wait_for("the leaderless group gone", Duration::from_secs(5), || {
        group_members(pgid).is_empty().then_some(())
    });
    assert_eq!(store.runs(false).unwrap()[0].status, "lost");
}

/// The claim is one conditional UPDATE: of two claims of one waiting job exactly one wins, and
/// a running, ended or unknown job cannot be claimed at all.
#[test]
fn a_job_is_claimed_once_and_the_queue_round_trips_with_usage() {
    use corral::api::{JobId, Usage};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.add_features(&[item(1, "Login", &[])], 0).unwrap();
    let runs_dir = dir.path().join(".corral/runs");
    let (job, run, _) = store
        .begin_job_and_run("coding", Role::Coding, Some(FeatureId(1)), &runs_dir, 100)
        .unwrap();
    assert!(
        !store.claim_job(job, 1, 1).unwrap(),
        "a running job is taken"
    );
    let mut j = store.job(job).unwrap().unwrap();
    j.state = JobState::Backoff;
    j.transient_attempts = 2;
    j.available_at_ms = Some(5_000);
    store.save_job(&j, 150).unwrap();
    // Another connection to the same file, as a second process would have.
    let other = Store::open(dir.path()).unwrap();
    let wins = [
        store.claim_job(job, 1, 200).unwrap(),
        other.claim_job(job, 1, 200).unwrap(),
    ];
    assert_eq!(wins, [true, false]);
    assert!(!store.claim_job(JobId(999), 1, 200).unwrap());

    let usage = Usage {
        input_tokens: 1200,
        output_tokens: 3400,
        cache_read_tokens: 50_000,
        cache_write_tokens: 8000,
        cost_micros: Some(123_400),
    };
    store.save_run_usage(run, &usage).unwrap();
    let loaded = store.load_jobs().unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].state, JobState::Running);
    assert_eq!(loaded[0].transient_attempts, 2);
    assert_eq!(loaded[0].usage, usage);
    assert_eq!(store.runs(false).unwrap()[0].usage, Some(usage));
    assert_eq!(store.load_features().unwrap()[0].usage, usage);
    assert_eq!(store.usage_by(None).unwrap(), vec![(0, usage)]);
    assert_eq!(store.max_job_id().unwrap(), job.0);
}

#[test]
fn retry_and_cancel_by_hand_follow_the_core_for_every_role() {
    use corral::api::Command;
    use corral::api::{JobId, Usage};
    use corral::runtime::stored::{StoredChangeError, apply};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.add_features(&[item(1, "Login", &[])], 0).unwrap();
    store
        .save_feature(FeatureId(1), FeatureStatus::Passing, 1, None, 0)
        .unwrap();
    let job = |id: i64, role: Role, feature: Option<i64>, state: JobState| corral::core::Job {
        id: JobId(id),
        profile: role.as_str().into(),
        account: "a".into(),
        role,
        feature: feature.map(FeatureId),
        priority: 0,
        state,
        attempts: 1,
        max_attempts: 1,
        transient_attempts: 1,
        transient_budget: 5,
        available_at_ms: None,
        last_error: Some("exit 1".into()),
        runs: Vec::new(),
        usage: Usage::default(),
        created_at_ms: 0,
        epoch: 0,
    };
    for j in [
        job(1, Role::Initializer, None, JobState::Failed),
        job(2, Role::Initializer, None, JobState::Queued),
        job(3, Role::Testing, Some(1), JobState::Failed),
        job(4, Role::Testing, Some(1), JobState::Running),
    ] {
        store.save_job(&j, 0).unwrap();
    }
    // Job 2 is the open initializer job: jobs without a feature are the same work too.
    let retry = |job| Command::RetryJob { job: JobId(job) };
    let cancel = |job| Command::CancelJob { job: JobId(job) };
    let err = apply(&mut store, retry(1), 10).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("job 2 (queued) already does that work (initializer without a feature)"),
        "{err}"
    );
    // Cancelling a job that is not coding leaves its feature alone.
    let done = apply(&mut store, cancel(2), 10).unwrap();
    assert_eq!(
        store.job(JobId(2)).unwrap().unwrap().state,
        JobState::Cancelled
    );
    assert_eq!(done.features, vec![]);
    assert!(done.notices.contains(&"job 2 cancelled".to_string()));
    apply(&mut store, retry(1), 20).unwrap();
    let again = store.job(JobId(1)).unwrap().unwrap();
    assert_eq!(
        (again.state, again.attempts, again.transient_attempts),
        (JobState::Queued, 0, 0)
    );
    // A running testing job cannot be retried.
    assert!(matches!(
        apply(&mut store, retry(4), 30),
        Err(StoredChangeError::Refused(e)) if e.contains("job 4 is running")
    ));
    assert!(matches!(
        apply(&mut store, retry(3), 30),
        Err(StoredChangeError::Refused(e)) if e.starts_with("job 4 (running) already does that work")
    ));
    let before = store.job(JobId(3)).unwrap();
    assert!(matches!(
        apply(&mut store, cancel(9), 30),
        Err(StoredChangeError::Refused(e)) if e == "no job 9"
    ));
    assert_eq!(
        store.job(JobId(3)).unwrap(),
        before,
        "a refusal writes nothing"
    );
    let f = &store.load_features().unwrap()[0];
    assert_eq!((f.status, f.attempts), (FeatureStatus::Passing, 1));
}

#[test]
fn a_deleted_database_is_written_back_from_the_open_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    store.add_features(&[item(1, "A", &[])], 0).unwrap();
    assert!(store.relink().unwrap().is_none(), "nothing to do");
    std::fs::remove_dir_all(dir.path().join(".corral")).unwrap();
    let said = store.relink().unwrap().unwrap();
    assert!(said.contains("deleted"), "{said}");
    // What the open one had is at the path again, and later writes go there.
    store.add_features(&[item(2, "B", &[1])], 0).unwrap();
    let other = Store::open(dir.path()).unwrap();
    assert_eq!(other.load_features().unwrap().len(), 2);
    assert!(dir.path().join(".corral/runs").is_dir());
}

#[test]
fn many_connections_writing_at_once_all_get_through_with_the_rollback_journal() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path()).unwrap();
    let writers: Vec<_> = (1..=40)
        .map(|id| {
            let p = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let mut store = Store::open(&p).unwrap();
                store.add_features(&[item(id, "W", &[])], 0).unwrap();
                // And a reader at the same time.
                store.load_features().unwrap().len()
            })
        })
        .collect();
    for w in writers {
        assert!(w.join().unwrap() >= 1);
    }
    assert_eq!(
        Store::open(dir.path())
            .unwrap()
            .load_features()
            .unwrap()
            .len(),
        40
    );
}
