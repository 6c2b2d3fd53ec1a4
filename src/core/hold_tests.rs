//! corral's own lack of resources (a full disk, no descriptors) through the model: no attempt
//! spent, no feature status changed, nothing started while held, and a run corral could not
//! judge is no verdict.

use crate::api::{FeatureId, FeatureStatus, JobId, JobState, Role, RunId, RunState, Usage};
use crate::core::*;

fn model(n: i64) -> Model {
    let features = (1..=n)
        .map(|id| Feature {
            id: FeatureId(id),
            category: String::new(),
            name: format!("F{id}"),
            priority: 0,
            dependencies: Vec::new(),
            status: FeatureStatus::Pending,
            attempts: 0,
            last_error: None,
            last_tested_at: None,
            profile: None,
            usage: Usage::default(),
            unmerged: false,
            merge: None,
        })
        .collect();
    let (mut m, _) = Model::new(features, 1);
    m.profiles.insert(
        Role::Coding,
        scheduler::ProfileSlot {
            name: "coding".into(),
            max_parallel: None,
        },
    );
    m.policy.max_attempts = 2;
    m.now_ms = 100_000;
    m
}

fn spawned(effects: &[Effect]) -> Vec<i64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn { job, .. } => Some(job.0),
            _ => None,
        })
        .collect()
}

#[test]
fn a_deferred_spawn_spends_no_attempt_and_holds_until_let_go() {
    let mut m = model(2);
    let first = spawned(&m.handle(Input::Kick));
    assert_eq!(first, vec![1]);
    // Deferred over and over: still no attempt spent, never failed.
    for _ in 0..5 {
        let e = m.handle(Input::SpawnDeferred {
            job: JobId(1),
            record: None,
            reason: "disk full: cannot write corral.db".into(),
        });
        assert!(spawned(&e).is_empty(), "held: nothing starts");
        assert_eq!(m.jobs[&JobId(1)].state, JobState::Queued);
        assert_eq!(m.jobs[&JobId(1)].attempts, 0);
        assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Pending);
        assert!(m.held.is_some());
        let snap = m.snapshot(std::path::Path::new("/p"), 1);
        assert!(snap.scheduler_paused);
        assert!(snap.held.as_deref().unwrap().contains("disk full"));
        // Starting by hand is refused while held, with the reason.
        let e = m.handle(Input::Command(crate::api::Command::StartFeature {
            feature: FeatureId(2),
        }));
        assert!(spawned(&e).is_empty());
        assert!(m.notice.as_deref().unwrap().contains("disk full"));
        // Let go: the same job starts again, as its first attempt.
        let e = m.handle(Input::Hold(None));
        assert_eq!(spawned(&e), vec![1]);
        assert_eq!(m.jobs[&JobId(1)].attempts, 1);
    }
}

#[test]
fn a_run_corral_could_not_judge_goes_back_to_the_queue_without_a_verdict() {
    let mut m = model(1);
    assert_eq!(spawned(&m.handle(Input::Kick)), vec![1]);
    m.handle(Input::Spawned(NewRun {
        id: RunId(1),
        job: JobId(1),
        feature: Some(FeatureId(1)),
        profile: "coding".into(),
        role: Role::Coding,
        pid: 2001,
        started_at_ms: m.now_ms,
        grace_ms: 1000,
        timeout_ms: None,
        silence_ms: None,
    }));
    m.handle(Input::Hold(Some("disk full".into())));
    let e = m.handle(Input::Exited {
        run: RunId(1),
        code: Some(0),
        signal: None,
        group_alive: false,
        at_ms: m.now_ms,
        verdict: None,
        failure: None,
        usage: None,
        random: 0,
        unjudged: Some("its log file could not be written: No space left on device".into()),
    });
    assert!(spawned(&e).is_empty(), "still held");
    assert_eq!(m.runs[&RunId(1)].state, RunState::Exited);
    let job = &m.jobs[&JobId(1)];
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.attempts, 0, "the attempt is given back");
    assert!(job.last_error.as_deref().unwrap().contains("not judged"));
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Pending);
    assert_eq!(spawned(&m.handle(Input::Hold(None))), vec![1]);
}

#[test]
fn the_end_of_a_hold_is_said_in_the_words_of_what_was_short() {
    let cases = [
        (
            "corral is short of file descriptors: Too many open files (os error 24)",
            "file descriptors available again",
        ),
        (
            "corral could not start a process: Resource temporarily unavailable (os error 11)",
            "corral can start processes again",
        ),
        (
            "disk full: cannot write corral.db",
            "disk space available again",
        ),
        (
            "cannot write corral.db: readonly database",
            "corral can write again",
        ),
    ];
    for (why, over) in cases {
        let mut m = model(1);
        m.handle(Input::Hold(Some(why.into())));
        m.handle(Input::Hold(None));
        let said = m.notice.clone().unwrap_or_default();
        assert!(
            said.starts_with(&format!("scheduler goes on: {over} (was: {why})")),
            "{said}"
        );
    }
}
