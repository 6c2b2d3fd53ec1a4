//! Table tests of the core: no processes, no clock, no sleeps.

use super::*;
use crate::api::{Command, FeatureId, FeatureStatus, JobId, JobState, Role, RunId, RunState};

fn feature(id: i64, deps: &[i64], status: FeatureStatus) -> Feature {
    Feature {
        id: FeatureId(id),
        category: "Cat".into(),
        name: format!("F{id}"),
        priority: 0,
        dependencies: deps.iter().map(|d| FeatureId(*d)).collect(),
        status,
        attempts: 0,
        last_error: None,
        last_tested_at: None,
        profile: None,
        usage: Default::default(),
        unmerged: false,
        merge: None,
    }
}

/// The runtime's answer to the spawn of `feature`'s job; the models here create jobs in
/// feature order, so the job id is the feature id.
fn spawned(run: i64, feature: i64) -> Input {
    Input::Spawned(NewRun {
        id: RunId(run),
        job: JobId(feature),
        feature: Some(FeatureId(feature)),
        profile: "coding".into(),
        role: Role::Coding,
        pid: 1000 + run as u32,
        started_at_ms: 0,
        grace_ms: 5000,
        timeout_ms: None,
        silence_ms: None,
    })
}

fn spawns(effects: &[Effect]) -> Vec<i64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn {
                feature: Some(f),
                role: Role::Coding,
                ..
            } => Some(f.0),
            _ => None,
        })
        .collect()
}

fn signals(effects: &[Effect]) -> Vec<Sig> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Signal { sig, .. } => Some(*sig),
            _ => None,
        })
        .collect()
}

fn exited(run: i64, code: Option<i32>, signal: Option<i32>, group_alive: bool) -> Input {
    Input::Exited {
        run: RunId(run),
        code,
        signal,
        group_alive,
        at_ms: 10,
        verdict: None,
        failure: None,
        usage: None,
        random: 0,
        unjudged: None,
    }
}

/// 1 and 2 are independent, 3 needs both, 4 needs 3.
fn diamond(max_agents: u32) -> Model {
    let features = vec![
        feature(1, &[], FeatureStatus::Pending),
        feature(2, &[], FeatureStatus::Pending),
        feature(3, &[1, 2], FeatureStatus::Pending),
        feature(4, &[3], FeatureStatus::Pending),
    ];
    with_coding(Model::new(features, max_agents).0)
}

/// A model whose runtime offers a coding profile (as corral.toml would).
fn with_coding(mut m: Model) -> Model {
    m.profiles.insert(
        Role::Coding,
        scheduler::ProfileSlot {
            name: "coding".into(),
            max_parallel: None,
        },
    );
    m
}

#[test]
fn ready_and_blocked_follow_dependencies() {
    let m = diamond(2);
    let ready = graph::ready_in_order(&m.features);
    assert_eq!(ready, vec![FeatureId(1), FeatureId(2)]);
    assert_eq!(
        graph::blocked_by(&m.features, FeatureId(3)),
        vec![FeatureId(1), FeatureId(2)]
    );
    assert_eq!(
        graph::effective_status(&m.features, FeatureId(4)),
        FeatureStatus::Blocked
    );
}

#[test]
fn scheduler_fills_slots_and_unblocks_dependents() {
    let mut m = diamond(2);
    // Any input triggers scheduling; an unknown run id is a harmless one.
    let first = m.handle(Input::Command(Command::SetMaxAgents { max_agents: 2 }));
    assert_eq!(spawns(&first), vec![1, 2]);
    // In-flight spawns count: nothing more starts.
    assert!(spawns(&m.handle(Input::Command(Command::SetMaxAgents { max_agents: 2 }))).is_empty());
    m.handle(spawned(1, 1));
    m.handle(spawned(2, 2));
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::InProgress);
    assert!(
        spawns(&m.handle(exited(1, Some(0), None, false))).is_empty(),
        "3 still waits on 2"
    );
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Passing);
    let after = m.handle(exited(2, Some(0), None, false));
    assert_eq!(spawns(&after), vec![3]);
}

#[test]
fn failing_run_marks_feature_failing_and_keeps_dependents_blocked() {
    let mut m = diamond(1);
    m.handle(Input::Command(Command::StartNext));
    m.handle(spawned(1, 1));
    let effects = m.handle(exited(1, Some(2), None, false));
    assert_eq!(m.runs[&RunId(1)].state, RunState::Failed { code: 2 });
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failing);
    // Attempts remain: the job waits in the queue for its retry.
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Queued);
    assert_eq!(m.jobs[&JobId(1)].last_error.as_deref(), Some("exit 2"));
    // The free slot goes to feature 2, never to 3.
    assert_eq!(spawns(&effects), vec![2]);
}

#[test]
fn paused_scheduler_starts_nothing_until_resumed() {
    let mut m = diamond(2);
    let e = m.handle(Input::Command(Command::SetSchedulerPaused { paused: true }));
    assert!(spawns(&e).is_empty());
    let e = m.handle(Input::Command(Command::SetSchedulerPaused {
        paused: false,
    }));
    assert_eq!(spawns(&e), vec![1, 2]);
}

#[test]
fn a_pause_after_a_crash_says_why_until_a_person_resumes() {
    let mut m = diamond(2);
    m.pause_for("the last corral was killed".into());
    let e = m.handle(Input::Kick);
    assert!(spawns(&e).is_empty(), "nothing starts by itself");
    let snap = m.snapshot(std::path::Path::new("/p"), 1);
    assert!(snap.scheduler_paused);
    assert_eq!(
        snap.paused_reason.as_deref(),
        Some("the last corral was killed")
    );
    let e = m.handle(Input::Command(Command::SetSchedulerPaused {
        paused: false,
    }));
    assert_eq!(spawns(&e), vec![1, 2]);
    assert_eq!(
        m.snapshot(std::path::Path::new("/p"), 2).paused_reason,
        None
    );
}

/// Each row: events applied in order to a fresh running run, the signals of the last event and the final state.
#[test]
fn run_state_machine_table() {
    use RunEvent::*;
    let exit0 = Exited {
        code: Some(0),
        signal: None,
        group_alive: false,
        at_ms: 1,
    };
    let exit_term = Exited {
        code: None,
        signal: Some(15),
        group_alive: false,
        at_ms: 1,
    };
    let exit_alive = Exited {
        code: Some(0),
        signal: None,
        group_alive: true,
        at_ms: 1,
    };
    let grace = |epoch| Timer {
        epoch,
        kind: TimerKind::KillGrace,
    };
    let rows: Vec<(&str, Vec<RunEvent>, Vec<Sig>, RunState)> = vec![
        ("pause", vec![Pause], vec![Sig::Stop], RunState::Paused),
        ("pause twice", vec![Pause, Pause], vec![], RunState::Paused),
        (
            "resume",
            vec![Pause, Resume],
            vec![Sig::Cont],
            RunState::Running,
        ),
        ("resume running", vec![Resume], vec![], RunState::Running),
        (
            "kill",
            vec![Kill { force: false }],
            vec![Sig::Term, Sig::Cont],
            RunState::Stopping,
        ),
        (
            "kill paused",
            vec![Pause, Kill { force: false }],
            vec![Sig::Term, Sig::Cont],
            RunState::Stopping,
        ),
        (
            "force kill",
            vec![Kill { force: true }],
            vec![Sig::Kill, Sig::Cont],
            RunState::Stopping,
        ),
        (
            "grace expires",
            vec![Kill { force: false }, grace(1)],
            vec![Sig::Kill, Sig::Cont],
            RunState::Stopping,
        ),
        (
            "stale grace",
            vec![Kill { force: false }, grace(0)],
            vec![],
            RunState::Stopping,
        ),
        (
            "dies of term",
            vec![Kill { force: false }, exit_term],
            vec![],
            RunState::Killed { signal: Some(15) },
        ),
        (
            "exits 0 after kill",
            vec![Kill { force: false }, exit0],
            vec![],
            RunState::Killed { signal: None },
        ),
        ("clean exit", vec![exit0], vec![], RunState::Exited),
        (
            "exit leaves group",
            vec![exit_alive],
            vec![Sig::Term, Sig::Cont],
            RunState::Exited,
        ),
        (
            "leftover group killed",
            vec![exit_alive, grace(1)],
            vec![Sig::Kill, Sig::Cont],
            RunState::Exited,
        ),
        (
            "pause after end",
            vec![exit0, Pause],
            vec![],
            RunState::Exited,
        ),
        (
            "timeout",
            vec![Timer {
                epoch: 0,
                kind: TimerKind::Timeout,
            }],
            vec![Sig::Term, Sig::Cont],
            RunState::Stopping,
        ),
        (
            "timeout after end",
            vec![
                exit0,
                Timer {
                    epoch: 0,
                    kind: TimerKind::Timeout,
                },
            ],
            vec![],
            RunState::Exited,
        ),
    ];
    for (name, events, want_sigs, want_state) in rows {
        let mut m = diamond(0);
        m.handle(spawned(7, 1));
        let run = m.runs.get_mut(&RunId(7)).expect("run");
        let mut last = Vec::new();
        for ev in events {
            last = run.apply(ev);
        }
        assert_eq!(signals(&last), want_sigs, "{name}: signals");
        assert_eq!(run.state, want_state, "{name}: state");
        if !run.state.is_live() && run.kill_sent {
            assert!(
                !run.cleanup_pending,
                "{name}: nothing waits on a group that got KILL"
            );
        }
        assert_eq!(run.pgid(), 1007, "{name}: signals go to the group");
    }
}

#[test]
fn kill_of_a_group_whose_leader_died_still_kills_leftovers_once() {
    let mut m = diamond(0);
    m.handle(spawned(1, 1));
    m.handle(Input::Command(Command::Kill {
        run: RunId(1),
        force: false,
    }));
    // The leader obeys TERM but a grandchild ignores it.
    let e = m.handle(exited(1, None, Some(15), true));
    assert!(signals(&e).is_empty(), "TERM is not sent twice");
    assert!(
        !m.all_quiet(),
        "a leftover group keeps corral from calling it quiet"
    );
    let e = m.handle(Input::Timer {
        run: RunId(1),
        epoch: 1,
        kind: TimerKind::KillGrace,
    });
    assert_eq!(signals(&e), vec![Sig::Kill, Sig::Cont]);
    assert!(m.all_quiet());
}

#[test]
fn user_kill_marks_feature_failed_and_cancels_job_without_restart() {
    let mut m = diamond(1);
    m.handle(Input::Command(Command::StartNext));
    m.handle(spawned(1, 1));
    m.handle(Input::Command(Command::Kill {
        run: RunId(1),
        force: true,
    }));
    let e = m.handle(exited(1, None, Some(9), false));
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Cancelled);
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failed);
    assert_eq!(
        spawns(&e),
        vec![2],
        "the killed feature is not started again by itself"
    );
}

#[test]
fn restart_kills_then_starts_the_same_feature() {
    let mut m = diamond(1);
    m.handle(Input::Command(Command::StartNext));
    m.handle(spawned(1, 1));
    m.handle(Input::Command(Command::Restart { run: RunId(1) }));
    assert_eq!(m.runs[&RunId(1)].state, RunState::Stopping);
    let e = m.handle(exited(1, None, Some(15), false));
    assert_eq!(spawns(&e), vec![1]);
    m.handle(spawned(2, 1));
    assert_eq!(
        m.jobs[&JobId(1)].runs,
        vec![RunId(1), RunId(2)],
        "the same job"
    );
    assert_eq!(
        m.features[&FeatureId(1)].attempts,
        1,
        "a restart by request does not spend an attempt"
    );
}

#[test]
fn restarting_a_feature_out_of_attempts_gives_it_fresh_ones() {
    let mut m = diamond(1);
    m.handle(Input::Command(Command::StartNext));
    m.handle(spawned(1, 1));
    m.handle(Input::Command(Command::SetSchedulerPaused { paused: true }));
    m.handle(exited(1, Some(1), None, false));
    // As after its third failed run: every attempt spent, the feature failed.
    let f = m.features.get_mut(&FeatureId(1)).unwrap();
    f.attempts = 3;
    f.status = FeatureStatus::Failed;
    let job = m.jobs.get_mut(&JobId(1)).unwrap();
    (job.attempts, job.state) = (3, JobState::Failed);
    let e = m.handle(Input::Command(Command::Restart { run: RunId(1) }));
    let attempts: Vec<u32> = e
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn { attempts, .. } => Some(*attempts),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, vec![1], "{e:?}");
    let job = m.jobs.values().max_by_key(|j| j.id).unwrap();
    assert_eq!((job.attempts, job.max_attempts), (1, 3));
    assert_eq!(m.features[&FeatureId(1)].attempts, 0);
    let said = format!("{e:?}");
    assert!(
        said.contains("with fresh attempts (it had used 3)"),
        "{said}"
    );
}

#[test]
fn shutdown_stops_every_live_run_and_completes_when_quiet() {
    let mut m = diamond(2);
    m.handle(Input::Command(Command::StartNext));
    m.handle(spawned(1, 1));
    m.handle(Input::Command(Command::Pause { run: RunId(1) }));
    m.handle(spawned(2, 2));
    let e = m.handle(Input::Command(Command::Shutdown));
    assert_eq!(
        signals(&e),
        vec![Sig::Term, Sig::Cont, Sig::Term, Sig::Cont]
    );
    assert!(spawns(&e).is_empty());
    let e = m.handle(exited(1, None, Some(15), false));
    assert!(!e.contains(&Effect::ShutdownComplete));
    let e = m.handle(exited(2, None, Some(15), false));
    assert!(e.contains(&Effect::ShutdownComplete));
    assert!(m.snapshot(std::path::Path::new("/p"), 1).shut_down);
}

#[test]
fn spawn_failure_marks_feature_failed_frees_the_slot_and_shows_the_attempt() {
    let mut m = diamond(1);
    m.handle(Input::Command(Command::StartNext));
    let Input::Spawned(mut record) = spawned(1, 1) else {
        unreachable!()
    };
    record.pid = 0;
    let e = m.handle(Input::SpawnFailed {
        job: JobId(1),
        record: Some(record),
        error: "program `x` not found".into(),
    });
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failed);
    assert_eq!(spawns(&e), vec![2]);
    assert_eq!(m.runs[&RunId(1)].state, RunState::SpawnFailed);
    assert_eq!(
        m.jobs[&JobId(1)].last_error.as_deref(),
        Some("program `x` not found")
    );
    let s = m.snapshot(std::path::Path::new("/p"), 1);
    let shown = s.runs.iter().find(|r| r.id == RunId(1)).unwrap();
    assert_eq!(shown.pid, None, "no process, no pid");
}

#[test]
fn quitting_puts_interrupted_features_back_to_pending_not_failing() {
    let mut m = diamond(2);
    m.handle(Input::Kick);
    m.handle(spawned(1, 1));
    m.handle(spawned(2, 2));
    m.handle(exited(2, Some(0), None, false));
    m.handle(Input::Command(Command::Shutdown));
    m.handle(exited(1, None, Some(15), false));
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Pending);
    assert_eq!(
        m.features[&FeatureId(1)].attempts,
        0,
        "a run cut short by quitting is not an attempt"
    );
    assert_eq!(m.features[&FeatureId(2)].status, FeatureStatus::Passing);
    // The job waits in the store for the next corral.
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Queued);
}

#[test]
fn starts_by_hand_past_the_limit_or_a_blocker_say_so() {
    let mut m = diamond(1);
    m.handle(Input::Kick);
    m.handle(spawned(1, 1));
    let e = m.handle(Input::Command(Command::StartFeature {
        feature: FeatureId(4),
    }));
    assert_eq!(spawns(&e), vec![4], "a person may start anything");
    let note = m.notice.clone().unwrap_or_default();
    assert!(
        note.contains("waits on 3") && note.contains("past max agents (2/1)"),
        "{note}"
    );
}

#[test]
fn features_left_in_progress_go_back_to_pending_on_load() {
    let (m, effects) = Model::new(vec![feature(1, &[], FeatureStatus::InProgress)], 1);
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Pending);
    assert_eq!(effects.len(), 1);
}

#[test]
fn snapshot_lists_live_runs_first_and_counts_passing() {
    let mut m = diamond(0);
    m.handle(spawned(1, 1));
    m.handle(exited(1, Some(0), None, false));
    m.handle(spawned(2, 2));
    let s = m.snapshot(std::path::Path::new("/p"), 3);
    assert_eq!(
        s.runs.iter().map(|r| r.id.0).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(s.totals.passing, 1);
    assert_eq!(s.totals.live_agents, 1);
    assert_eq!(s.features[2].blocked_by, vec![FeatureId(2)]);
    assert_eq!(s.runs[0].feature_name.as_deref(), Some("F2"));
}

#[test]
fn shutdown_completes_when_leaders_exit_after_the_grace_kill() {
    let mut m = diamond(2);
    m.handle(Input::Kick);
    m.handle(spawned(1, 1));
    m.handle(spawned(2, 2));
    m.handle(Input::Command(Command::Pause { run: RunId(1) }));
    m.handle(Input::Command(Command::Shutdown));
    m.handle(exited(1, None, Some(15), true));
    m.handle(Input::Timer {
        run: RunId(1),
        epoch: 1,
        kind: TimerKind::KillGrace,
    });
    m.handle(Input::Timer {
        run: RunId(2),
        epoch: 1,
        kind: TimerKind::KillGrace,
    });
    let e = m.handle(exited(2, None, Some(9), true));
    assert!(e.contains(&Effect::ShutdownComplete));
}
