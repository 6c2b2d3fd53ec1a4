//! The supervisor with real `sh` agents: signals reach whole process trees, exits are recorded,
//! and nothing outlives a kill or a shutdown.

mod common;

use common::{group_members, wait_for_async, write_script};
use corral::api::{Command, Event, FeatureId, FeatureStatus, RunState, RunView, Snapshot, Stream};
use corral::config::Config;
use corral::runtime::store::{NewFeature, Store};
use corral::runtime::{self, RuntimeHandle, RuntimeOptions};
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// A project whose agent for feature N runs `agent-N.sh`; features are (id, deps, script body).
fn project(dir: &Path, max_agents: u32, features: &[(i64, &[i64], &str)]) -> Config {
    project_with(dir, max_agents, "", features)
}

/// As [`project`], with extra keys for the coding profile (e.g. `timeout = "1s"`).
fn project_with(
    dir: &Path,
    max_agents: u32,
    profile_keys: &str,
    features: &[(i64, &[i64], &str)],
) -> Config {
    let toml = format!(
        r#"
[scheduler]
max_agents = {max_agents}

[profiles.coding]
role = "coding"
command = ["sh", "{{project}}/agent-{{feature_id}}.sh"]
grace = "1s"
{profile_keys}
"#
    );
    std::fs::write(dir.join("corral.toml"), &toml).expect("config");
    let items: Vec<NewFeature> = features
        .iter()
        .map(|(id, deps, body)| {
            write_script(&dir.join(format!("agent-{id}.sh")), body);
            NewFeature {
                id: Some(*id),
                category: "Test".into(),
                name: format!("feature {id}"),
                description: String::new(),
                steps: vec![],
                priority: 0,
                dependencies: deps.to_vec(),
            }
        })
        .collect();
    Store::open(dir)
        .expect("store")
        .add_features(&items, 0)
        .expect("features");
    Config::load_with_user(dir, None).expect("config loads")
}

/// Starts the runtime; it is stopped (agents, cgroups) when the [`common::Running`] drops.
fn start(dir: &Path, config: Config) -> (RuntimeHandle, common::Running) {
    common::guarded(
        runtime::start(RuntimeOptions {
            project: dir.to_path_buf(),
            config,
            ring_lines: 1000,
        })
        .expect("runtime starts"),
    )
}

fn snap(h: &RuntimeHandle) -> Snapshot {
    h.snapshots().borrow().clone()
}

fn run_of(h: &RuntimeHandle, feature: i64) -> Option<RunView> {
    snap(h)
        .runs
        .into_iter()
        .find(|r| r.feature == Some(FeatureId(feature)))
}

async fn live_run(h: &RuntimeHandle, feature: i64, members: usize) -> RunView {
    let run = wait_for_async("the agent to start", LIMIT, || run_of(h, feature)).await;
    let pgid = run.pid.expect("pid");
    wait_for_async("the whole tree to be up", LIMIT, || {
        (group_members(pgid).len() >= members).then_some(())
    })
    .await;
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_stops_every_process_of_the_tree_and_resume_and_kill_follow() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(dir.path(), 1, &[(1, &[], "sleep 300 & sleep 300 & wait")]);
    let (h, _task) = start(dir.path(), config);
    let run = live_run(&h, 1, 3).await;
    let pgid = run.pid.unwrap();

    h.send(Command::Pause { run: run.id });
    wait_for_async("every process stopped (T)", LIMIT, || {
        let m = group_members(pgid);
        (m.len() == 3 && m.iter().all(|(_, s)| *s == 'T')).then_some(())
    })
    .await;
    wait_for_async("the snapshot to say paused", LIMIT, || {
        (run_of(&h, 1)?.state == RunState::Paused).then_some(())
    })
    .await;

    h.send(Command::Resume { run: run.id });
    wait_for_async("every process running again", LIMIT, || {
        let m = group_members(pgid);
        (m.len() == 3 && m.iter().all(|(_, s)| *s != 'T')).then_some(())
    })
    .await;

    // Kill a paused agent: it must still go (TERM is only acted on after CONT).
    h.send(Command::Pause { run: run.id });
    wait_for_async("paused again", LIMIT, || {
        group_members(pgid)
            .iter()
            .all(|(_, s)| *s == 'T')
            .then_some(())
    })
    .await;
    h.send(Command::Kill {
        run: run.id,
        force: false,
    });
    wait_for_async("no process of the group left", LIMIT, || {
        group_members(pgid).is_empty().then_some(())
    })
    .await;
    let ended = wait_for_async("the run recorded as killed", LIMIT, || {
        run_of(&h, 1).filter(|r| matches!(r.state, RunState::Killed { .. }))
    })
    .await;
    assert!(ended.kill_requested);
    let stored = Store::open(dir.path()).unwrap().runs(false).unwrap();
    assert_eq!(stored[0].status, "killed");
    assert_eq!(stored[0].pgid, Some(pgid));
    assert!(stored[0].proc_start_time.is_some());
    let feature = &snap(&h).features[0];
    assert_eq!(
        feature.status,
        FeatureStatus::Failed,
        "a feature whose agent a person killed waits for a person"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grandchildren_that_ignore_term_are_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    // The leader dies of TERM; its two children ignore TERM and must get KILL after grace.
    let body = "sh -c 'trap \"\" TERM; while :; do sleep 1; done' &\nsh -c 'trap \"\" TERM; while :; do sleep 1; done' &\nwait";
    let config = project(dir.path(), 1, &[(1, &[], body)]);
    let (h, _task) = start(dir.path(), config);
    let run = live_run(&h, 1, 3).await;
    let pgid = run.pid.unwrap();
    h.send(Command::Kill {
        run: run.id,
        force: false,
    });
    // The leader goes at once; the survivors stay for the grace period (1 s), then go.
    wait_for_async(
        "leader gone, TERM-ignoring children still there",
        LIMIT,
        || {
            let m = group_members(pgid);
            (!m.iter().any(|(p, _)| *p == pgid) && !m.is_empty()).then_some(())
        },
    )
    .await;
    wait_for_async("no process of the group left", LIMIT, || {
        group_members(pgid).is_empty().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_are_recorded_and_passing_features_unblock_their_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(
        dir.path(),
        2,
        &[
            (1, &[], "echo working; exit 0"),
            (2, &[], "echo broken >&2; exit 3"),
            (3, &[1], "exit 0"),
            (4, &[2], "exit 0"),
        ],
    );
    let (h, _task) = start(dir.path(), config);
    let mut events = h.subscribe();
    wait_for_async("feature 3 to pass after 1", LIMIT, || {
        (snap(&h).features[2].status == FeatureStatus::Passing).then_some(())
    })
    .await;
    // 2 fails every time: it is tried max_attempts (3) times, then it is failed for good.
    wait_for_async("feature 2 failed after its attempts", LIMIT, || {
        (snap(&h).features[1].status == FeatureStatus::Failed).then_some(())
    })
    .await;
    let s = snap(&h);
    assert_eq!(s.features[0].status, FeatureStatus::Passing);
    assert_eq!(s.features[1].attempts, 3);
    let tries = s
        .runs
        .iter()
        .filter(|r| r.feature == Some(FeatureId(2)))
        .count();
    assert_eq!(tries, 3, "exactly max_attempts runs");
    assert_eq!(
        s.features[3].status,
        FeatureStatus::Blocked,
        "4 waits on the failing 2"
    );
    assert_eq!(run_of(&h, 2).unwrap().state, RunState::Failed { code: 3 });
    assert!(
        run_of(&h, 4).is_none(),
        "no agent ever started on a blocked feature"
    );
    let stored = Store::open(dir.path()).unwrap().runs(false).unwrap();
    let failed = stored.iter().find(|r| r.feature_id == Some(2)).unwrap();
    assert_eq!(
        (failed.status.as_str(), failed.exit_code),
        ("failed", Some(3))
    );
    // The output went to the ring and to the run's log file, stream marked.
    let lines = h.log_tail(run_of(&h, 2).unwrap().id, 10);
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        vec!["broken"]
    );
    let log = wait_for_async("log file flushed", LIMIT, || {
        std::fs::read_to_string(&failed.log_path)
            .ok()
            .filter(|t| !t.is_empty())
    })
    .await;
    assert_eq!(log, "E broken\n");
    // A subscriber saw run 2 start, print its line and end, in that order.
    let run2 = run_of(&h, 2).unwrap().id;
    let mut seen = Vec::new();
    while let Ok(ev) = events.try_recv() {
        match ev {
            Event::RunStarted { run, .. } if run == run2 => seen.push("started".to_string()),
            Event::Log(lines) => {
                seen.extend(lines.into_iter().filter(|l| l.run == run2).map(|l| l.text))
            }
            Event::RunEnded { run, state } if run == run2 => seen.push(state.label().to_string()),
            _ => {}
        }
    }
    assert_eq!(seen, vec!["started", "broken", "failed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_every_agent_and_ends_the_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(
        dir.path(),
        2,
        &[
            (1, &[], "sleep 300 & wait"),
            (2, &[], "trap '' TERM; sleep 300 & wait"),
        ],
    );
    let (h, task) = start(dir.path(), config);
    let a = live_run(&h, 1, 2).await.pid.unwrap();
    let b = live_run(&h, 2, 2).await.pid.unwrap();
    h.send(Command::Pause {
        run: run_of(&h, 1).unwrap().id,
    });
    h.send(Command::Shutdown);
    let ended = tokio::time::timeout(LIMIT, task).await;
    let s = snap(&h);
    assert!(
        ended.is_ok(),
        "supervisor did not end: shut_down={} states={:?}",
        s.shut_down,
        s.runs.iter().map(|r| r.state).collect::<Vec<_>>()
    );
    assert!(group_members(a).is_empty(), "paused agent's group is gone");
    assert!(
        group_members(b).is_empty(),
        "TERM-ignoring agent's group is gone"
    );
    assert!(snap(&h).shut_down);
    let stored = Store::open(dir.path()).unwrap().runs(true).unwrap();
    assert!(
        stored.is_empty(),
        "no run is left recorded live: {stored:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_agent_binary_marks_the_feature_failed_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = project(dir.path(), 1, &[(1, &[], "exit 0")]);
    let profile = config.profiles.get_mut("coding").unwrap();
    profile.command = vec!["corral-no-such-agent-binary".into()];
    let (h, _task) = start(dir.path(), config);
    let notice = wait_for_async("a notice about the failed start", LIMIT, || {
        snap(&h)
            .notice
            .filter(|n| n.contains("could not start feature 1"))
    })
    .await;
    // (The notice at start already said the program is not installed.)
    assert!(notice.contains("corral-no-such-agent-binary"), "{notice}");
    assert_eq!(
        snap(&h).features[0].status,
        FeatureStatus::Failed,
        "a missing program is not retried"
    );
    // The attempt shows in the Agents pane and the Queue, and its log says why.
    let run = run_of(&h, 1).expect("the failed attempt is listed");
    assert_eq!((run.state, run.pid), (RunState::SpawnFailed, None));
    let job = snap(&h).jobs.into_iter().find(|j| j.id == run.job).unwrap();
    assert!(job.last_error.unwrap().contains("not found"));
    let lines = h.log_tail(run.id, 10);
    assert!(
        lines[0]
            .text
            .contains("could not start the agent: program `corral-no-such-agent-binary` not found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_project_lists_earlier_runs_and_reads_their_logs_back() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(
        dir.path(),
        1,
        &[(1, &[], "echo first; echo oops >&2; exit 4")],
    );
    let (h, task) = start(dir.path(), config.clone());
    let run = wait_for_async("the run to fail", LIMIT, || {
        run_of(&h, 1).filter(|r| r.state == RunState::Failed { code: 4 })
    })
    .await;
    h.send(Command::Shutdown);
    task.await.unwrap();

    let (h, _task) = start(dir.path(), config);
    let again = run_of(&h, 1).expect("history is listed after a reopen");
    assert_eq!(
        (again.id, again.state),
        (run.id, RunState::Failed { code: 4 })
    );
    assert!(snap(&h).jobs.iter().any(|j| j.id == run.job));
    // Two pipes: the order between stdout and stderr lines is not defined, the content is.
    let mut texts: Vec<(String, Stream)> = h
        .log_tail(run.id, 10)
        .into_iter()
        .map(|l| (l.text, l.stream))
        .collect();
    texts.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        texts,
        vec![
            ("first".into(), Stream::Stdout),
            ("oops".into(), Stream::Stderr)
        ]
    );
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_runtime_on_the_same_project_is_refused_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(dir.path(), 1, &[(1, &[], "sleep 300 & wait")]);
    let (h, _task) = start(dir.path(), config.clone());
    let pgid = live_run(&h, 1, 2).await.pid.unwrap();
    let err = match runtime::start(RuntimeOptions {
        project: dir.path().to_path_buf(),
        config,
        ring_lines: 10,
    }) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a second owner must be refused"),
    };
    assert!(
        err.contains("another corral") && err.contains(&std::process::id().to_string()),
        "{err}"
    );
    assert_eq!(
        group_members(pgid).len(),
        2,
        "the first owner's agent is untouched"
    );
    assert_eq!(run_of(&h, 1).unwrap().state, RunState::Running);
    h.send(Command::Shutdown);
}

async fn ended(h: &RuntimeHandle, feature: i64) -> RunView {
    wait_for_async("the run to end", LIMIT, || {
        run_of(h, feature).filter(|r| !r.state.is_live())
    })
    .await
}

fn stored_status(dir: &Path, feature: i64) -> String {
    let runs = Store::open(dir).unwrap().runs(false).unwrap();
    runs.into_iter()
        .find(|r| r.feature_id == Some(feature))
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_timeout_is_stopped_and_recorded_timed_out() {
    let dir = tempfile::tempdir().unwrap();
    let config = project_with(
        dir.path(),
        1,
        "timeout = \"1s\"",
        &[(1, &[], "trap '' TERM; sleep 300 & wait")],
    );
    let (h, _task) = start(dir.path(), config);
    let pgid = live_run(&h, 1, 2).await.pid.unwrap();
    let run = ended(&h, 1).await;
    assert_eq!(run.state, RunState::TimedOut);
    assert!(!run.kill_requested, "the watchdog stopped it, not a person");
    wait_for_async("no process left", LIMIT, || {
        group_members(pgid).is_empty().then_some(())
    })
    .await;
    assert_eq!(stored_status(dir.path(), 1), "timed_out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_run_is_stalled_and_a_chatty_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let chatty = "for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; sleep 0.2; done";
    let config = project_with(
        dir.path(),
        2,
        "silence = \"1s\"",
        &[(1, &[], "echo hello; sleep 300"), (2, &[], chatty)],
    );
    let (h, _task) = start(dir.path(), config);
    let quiet = ended(&h, 1).await;
    assert_eq!(quiet.state, RunState::Stalled);
    assert_eq!(stored_status(dir.path(), 1), "stalled");
    let talker = ended(&h, 2).await;
    assert_eq!(
        talker.state,
        RunState::Exited,
        "2 s of output every 0.2 s is never 1 s of silence"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_reaches_the_agents_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(
        dir.path(),
        1,
        &[(1, &[], "echo question; read answer; echo \"got $answer\"")],
    );
    let (h, _task) = start(dir.path(), config);
    let run = live_run(&h, 1, 1).await;
    h.send(Command::SendInput {
        run: run.id,
        text: "yes please".into(),
    });
    let done = ended(&h, 1).await;
    assert_eq!(done.state, RunState::Exited);
    let texts: Vec<String> = h.log_tail(run.id, 10).into_iter().map(|l| l.text).collect();
    assert!(texts.contains(&"got yes please".to_string()), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_cover_the_whole_tree_while_live_and_stop_when_ended() {
    let dir = tempfile::tempdir().unwrap();
    // A busy child and a sleeping one: CPU comes from a descendant, not the leader.
    let body = "echo started; (while :; do :; done) & sleep 300 & wait";
    let config = project(dir.path(), 1, &[(1, &[], body)]);
    let (h, _task) = start(dir.path(), config);
    let run = live_run(&h, 1, 3).await;
    let stats = wait_for_async("a sample with CPU from the busy child", LIMIT, || {
        let s = run_of(&h, 1)?.stats;
        s.filter(|s| s.cpu_tenths >= 300)
    })
    .await;
    assert!(stats.processes >= 3, "{stats:?}");
    assert!(stats.rss_bytes > 0 && stats.threads >= 3);
    assert_eq!(stats.log_bytes, "started\n".len() as u64);
    let totals = snap(&h).totals;
    assert!(totals.cpu_tenths >= 300 && totals.rss_bytes >= stats.rss_bytes);
    h.send(Command::Kill {
        run: run.id,
        force: true,
    });
    let gone = ended(&h, 1).await;
    assert_eq!(gone.stats, None, "an ended run has no live figures");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_run_logs_are_deleted_by_policy_but_never_a_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let config = project_with(
        dir.path(),
        1,
        "[logs]\nkeep_files = 1",
        &[
            (1, &[], "echo one"),
            (2, &[1], "echo two"),
            (3, &[2], "echo three; sleep 300"),
        ],
    );
    let (h, _task) = start(dir.path(), config);
    let third = live_run(&h, 3, 1).await;
    let runs_dir = dir.path().join(".corral/runs");
    let logs = || {
        let mut names: Vec<String> = std::fs::read_dir(&runs_dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    // One file allowed, and the live run's own log must stay: the ended ones go.
    wait_for_async("only the live run's log left", LIMIT, || {
        (logs() == vec![format!("{}.log", third.id)]).then_some(())
    })
    .await;
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_commands_the_detail_view_and_a_reload_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(
        dir.path(),
        1,
        &[(1, &[], "exit 3"), (2, &[1], "exit 0"), (3, &[2], "exit 0")],
    );
    let (h, _task) = start(dir.path(), config);
    wait_for_async("1 failed after its three attempts", LIMIT, || {
        snap(&h)
            .features
            .iter()
            .find(|f| f.id == FeatureId(1) && f.status == FeatureStatus::Failed)
            .map(|_| ())
    })
    .await;
    let feature = |id: i64| {
        snap(&h)
            .features
            .into_iter()
            .find(|f| f.id == FeatureId(id))
            .unwrap()
    };

    // Detail: text, the whole chain of what 3 waits on, and the run history of 1.
    let d3 = h.feature_detail(FeatureId(3)).unwrap();
    assert_eq!(d3.dependency_chain, vec![FeatureId(2), FeatureId(1)]);
    assert_eq!(d3.name, "feature 3");
    let d1 = h.feature_detail(FeatureId(1)).unwrap();
    assert_eq!(d1.runs.len(), 3, "one per attempt, newest first");
    assert_eq!(
        (d1.runs[0].state, d1.runs[0].exit_code),
        (RunState::Failed { code: 3 }, Some(3))
    );
    assert!(h.feature_detail(FeatureId(99)).is_none());

    h.send(Command::SetPriority {
        feature: FeatureId(3),
        priority: 7,
    });
    h.send(Command::MarkFeature {
        feature: FeatureId(1),
        passing: true,
    });
    wait_for_async("1 passing unblocks 2, which passes", LIMIT, || {
        (feature(2).status == FeatureStatus::Passing).then_some(())
    })
    .await;
    assert_eq!(feature(3).priority, 7);
    let stored = Store::open(dir.path()).unwrap().load_features().unwrap();
    assert_eq!(stored[2].priority, 7);

    // Another process adds a feature to the database; Reload makes the dashboard see it.
    let extra = NewFeature {
        id: Some(4),
        category: "Test".into(),
        name: "added elsewhere".into(),
        description: String::new(),
        steps: vec![],
        priority: 0,
        dependencies: vec![],
    };
    write_script(&dir.path().join("agent-4.sh"), "exit 0");
    Store::open(dir.path())
        .unwrap()
        .add_features(&[extra], 0)
        .unwrap();
    h.send(Command::Reload);
    wait_for_async("the new feature scheduled and passing", LIMIT, || {
        snap(&h)
            .features
            .iter()
            .find(|f| f.id == FeatureId(4))
            .filter(|f| f.status == FeatureStatus::Passing)
            .map(|_| ())
    })
    .await;

    h.send(Command::RequeueFeature {
        feature: FeatureId(4),
    });
    h.send(Command::SetProfileEnabled {
        profile: "coding".into(),
        enabled: false,
    });
    wait_for_async("the profile shown disabled", LIMIT, || {
        snap(&h)
            .profiles
            .iter()
            .find(|p| p.name == "coding")
            .filter(|p| !p.enabled)
            .map(|_| ())
    })
    .await;
    let text = std::fs::read_to_string(dir.path().join("corral.toml")).unwrap();
    assert!(text.contains("enabled = false"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_reaches_the_owner_through_the_control_socket() {
    let dir = tempfile::tempdir().unwrap();
    let config = project(dir.path(), 0, &[(1, &[], "exit 0")]);
    let (h, _task) = start(dir.path(), config);
    let path = dir.path().to_path_buf();
    let sent = tokio::task::spawn_blocking(move || {
        corral::runtime::control::send(
            &path,
            &Command::SetPriority {
                feature: FeatureId(1),
                priority: 9,
            },
        )
    })
    .await
    .unwrap();
    assert!(sent);
    wait_for_async("the priority changed", LIMIT, || {
        (snap(&h).features[0].priority == 9).then_some(())
    })
    .await;
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_descendant_that_left_the_group_is_stopped_too() {
    let dir = tempfile::tempdir().unwrap();
    // The grandchild moves to a session (and group) of its own, as detached spawns do.
    let config = project(
        dir.path(),
        1,
        &[(1, &[], "setsid sleep 777 & sleep 778 & wait")],
    );
    let (h, task) = start(dir.path(), config);
    let run = live_run(&h, 1, 2).await;
    let escapee = wait_for_async("the setsid grandchild", LIMIT, || {
        let out = std::process::Command::new("pgrep")
            .args(["-f", "^sleep 777$"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()?
            .trim()
            .parse::<u32>()
            .ok()
    })
    .await;
    assert!(
        group_members(run.pid.unwrap())
            .iter()
            .all(|(p, _)| *p != escapee),
        "it left the group"
    );
    h.send(Command::Shutdown);
    tokio::time::timeout(LIMIT, task)
        .await
        .expect("shutdown ends")
        .unwrap();
    wait_for_async("the escapee gone", LIMIT, || {
        let state = std::fs::read_to_string(format!("/proc/{escapee}/stat")).ok();
        state
            .is_none_or(|s| {
                s.rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))
            })
            .then_some(())
    })
    .await;
}

/// What the tests' own hygiene rests on: a test that ends, or fails, with its agent still
/// running drops its [`common::Running`], which stops the agent and removes its cgroup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_that_ends_with_an_agent_running_leaves_no_process_and_no_cgroup() {
    use corral::runtime::cgroup;
    let dir = tempfile::tempdir().unwrap();
    let config = project(dir.path(), 1, &[(1, &[], "sleep 300 & wait")]);
    let (h, running) = start(dir.path(), config);
    let run = live_run(&h, 1, 2).await;
    let pgid = run.pid.expect("pid");
    // Its cgroup, where the system gives runs one.
    let own = std::fs::read_to_string(format!("/proc/{pgid}/cgroup")).unwrap_or_default();
    let cgroup = match (cgroup::availability(), cgroup::own_v2_path(&own)) {
        (Ok(_), Some(path)) if path.contains(cgroup::NAME_PREFIX) => {
            let mount = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
            cgroup::v2_mount(&mount).map(|m| m.join(path.trim_start_matches('/')))
        }
        _ => None,
    };
    if let Some(path) = &cgroup {
        assert!(path.exists(), "{}", path.display());
    }
    drop(running);
    assert!(
        group_members(pgid).is_empty(),
        "the agent outlived its test: {:?}",
        group_members(pgid)
    );
    if let Some(path) = cgroup {
        assert!(!path.exists(), "{} left behind", path.display());
    } else {
        eprintln!("no run cgroups here: only the processes were checked");
    }
}
