//! How long stopping takes, in the core: a run ends as soon as nothing of it is left, quitting
//! bounds the grace period, and a second stop kills at once.

use super::commands::SHUTDOWN_GRACE_MS;
use super::*;
use crate::api::{Command, FeatureId, FeatureStatus, JobId, Role, RunId};

fn model(runs: i64, grace_ms: u64) -> Model {
    let features = (1..=runs)
        .map(|id| Feature {
            id: FeatureId(id),
            category: "Cat".into(),
            name: format!("F{id}"),
            priority: 0,
            dependencies: vec![],
            status: FeatureStatus::Pending,
            attempts: 0,
            last_error: None,
            last_tested_at: None,
            profile: None,
            usage: Default::default(),
            unmerged: false,
            merge: None,
        })
        .collect();
    let mut m = Model::new(features, runs as u32).0;
    m.profiles.insert(
        Role::Coding,
        scheduler::ProfileSlot {
            name: "coding".into(),
            max_parallel: None,
        },
    );
    m.handle(Input::Kick);
    for id in 1..=runs {
        m.handle(Input::Spawned(NewRun {
            id: RunId(id),
            job: JobId(id),
            feature: Some(FeatureId(id)),
            profile: "coding".into(),
            role: Role::Coding,
            pid: 1000 + id as u32,
            started_at_ms: 0,
            grace_ms,
            timeout_ms: None,
            silence_ms: None,
        }));
    }
    m
}

fn exited(run: i64, group_alive: bool) -> Input {
    Input::Exited {
        run: RunId(run),
        code: None,
        signal: Some(15),
        group_alive,
        at_ms: 10,
        verdict: None,
        failure: None,
        usage: None,
        random: 0,
        unjudged: None,
    }
}

fn kills(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Signal { sig: Sig::Kill, .. }))
        .count()
}

fn grace_timers(effects: &[Effect]) -> Vec<u64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::StartTimer {
                kind: TimerKind::KillGrace,
                after_ms,
                ..
            } => Some(*after_ms),
            _ => None,
        })
        .collect()
}

#[test]
fn quitting_ends_once_the_group_is_gone_not_after_the_grace() {
    let mut m = model(1, 60_000);
    m.handle(Input::Command(Command::Shutdown));
    // The leader died at TERM; a child of it was still exiting at that moment.
    let e = m.handle(exited(1, true));
    assert!(!e.contains(&Effect::ShutdownComplete));
    let e = m.handle(Input::GroupGone { run: RunId(1) });
    assert!(e.contains(&Effect::ShutdownComplete), "{e:?}");
    assert_eq!(kills(&e), 0, "nothing left to kill");
    assert!(
        m.notice.is_none(),
        "no 'nothing to do' notice: {:?}",
        m.notice
    );
}

#[test]
fn a_grace_timer_after_the_group_went_is_stale() {
    let mut m = model(1, 5_000);
    m.handle(exited(1, true)); // leader gone, a child left: TERM and a grace timer
    let epoch = m.runs[&RunId(1)].epoch;
    m.handle(Input::GroupGone { run: RunId(1) });
    let e = m.handle(Input::Timer {
        run: RunId(1),
        epoch,
        kind: TimerKind::KillGrace,
    });
    assert_eq!(kills(&e), 0);
}

#[test]
fn quitting_caps_a_long_grace_and_a_second_stop_kills_now() {
    let mut m = model(2, 3_600_000);
    // Run 2's leader passed and exited; something it started is still in its grace.
    m.handle(Input::Exited {
        run: RunId(2),
        code: Some(0),
        signal: None,
        group_alive: true,
        at_ms: 10,
        verdict: None,
        failure: None,
        usage: None,
        random: 0,
        unjudged: None,
    });
    assert!(m.runs[&RunId(2)].cleanup_pending);
    let e = m.handle(Input::Command(Command::Shutdown));
    assert_eq!(kills(&e), 0, "the first stop asks");
    assert_eq!(
        grace_timers(&e),
        vec![SHUTDOWN_GRACE_MS, SHUTDOWN_GRACE_MS],
        "both waits are cut to the quitting bound"
    );
    let e = m.handle(Input::Command(Command::Shutdown));
    assert_eq!(kills(&e), 2, "the second kills both at once: {e:?}");
    let e = m.handle(exited(1, false));
    assert!(e.contains(&Effect::ShutdownComplete), "{e:?}");
}

#[test]
fn a_short_grace_is_kept_when_quitting() {
    let mut m = model(1, 2_000);
    let e = m.handle(Input::Command(Command::Shutdown));
    assert_eq!(grace_timers(&e), vec![2_000]);
}
