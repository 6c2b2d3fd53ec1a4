//! Golden wire tests: the protocol's messages as they cross the socket, byte for byte.
//!
//! Fixtures live in `tests/fixtures/wire/<protocol>/`, one message per file, and are
//! append-only: a test that fails here means the wire changed. Either the change is
//! compatible (a new optional field with `#[serde(default)]`, a new variant; add a fixture
//! for it) or `PROTOCOL_VERSION` goes up and the new shapes get a new directory, the old
//! one staying as it is. `WIRE_BLESS=1 cargo test --test wire` writes missing fixtures.

use corral::api::protocol::mismatch_message;
use corral::api::{
    ClientMessage, Command, DaemonInfo, DaemonMessage, Event, FeatureDetail, FeatureId,
    FeatureStatus, Hello, JobId, LogLine, Outcome, PROTOCOL_VERSION, RefusalKind, Request, Role,
    RunId, RunState, RunView, Snapshot, Stream, View,
};
use std::path::PathBuf;

fn dir(protocol: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/wire/{protocol}"))
}

/// Checks that `value` serializes to exactly the fixture `name` and that the fixture reads
/// back as `value`.
fn golden<T>(name: &str, value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let path = dir(PROTOCOL_VERSION).join(format!("{name}.json"));
    let ours = serde_json::to_string(value).unwrap();
    if !path.exists() && std::env::var_os("WIRE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("{ours}\n")).unwrap();
    }
    let fixture = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (WIRE_BLESS=1 writes it)", path.display()));
    assert_eq!(
        ours,
        fixture.trim_end(),
        "{name}: the wire shape changed (see the top of tests/wire.rs)"
    );
    let back: T = serde_json::from_str(&fixture).unwrap();
    assert_eq!(&back, value, "{name}: the fixture reads back differently");
}

fn hello() -> Hello {
    Hello {
        protocol: 1,
        version: "0.1.0".into(),
        pid: 4242,
    }
}

fn run_view() -> RunView {
    RunView {
        id: RunId(12),
        job: JobId(41),
        feature: Some(FeatureId(17)),
        feature_name: Some("Cart totals".into()),
        profile: "coding".into(),
        role: Role::Coding,
        state: RunState::Paused,
        pid: Some(5151),
        started_at_ms: 1_700_000_000_000,
        finished_at_ms: None,
        kill_requested: false,
        stats: None,
        usage: None,
        activity: None,
        waiting: None,
        session: None,
    }
}

fn line(seq: u64, text: &str) -> LogLine {
    LogLine {
        run: RunId(12),
        seq,
        stream: Stream::Stdout,
        at_ms: 1_700_000_000_500,
        text: text.into(),
    }
}

#[test]
fn hellos() {
    golden("client-hello", &ClientMessage::Hello(hello()));
    golden("daemon-hello", &DaemonMessage::Hello(hello()));
    golden(
        "mismatch",
        &DaemonMessage::Mismatch {
            message: mismatch_message(&hello(), 2),
        },
    );
}

#[test]
fn the_hello_shape_is_the_same_for_every_protocol() {
    // Whatever the protocol number, a hello must stay readable by any corral, or a mismatch
    // could not even be told.
    let text = r#"{"type":"hello","protocol":99,"version":"9.9.9","pid":1}"#;
    let read: ClientMessage = serde_json::from_str(text).unwrap();
    assert_eq!(
        read,
        ClientMessage::Hello(Hello {
            protocol: 99,
            version: "9.9.9".into(),
            pid: 1
        })
    );
    let said = mismatch_message(&hello(), 99);
    for part in ["0.1.0", "4242", "corral daemon restart"] {
        assert!(said.contains(part), "{said}");
    }
}

#[test]
fn requests() {
    let req = |id, request| ClientMessage::Request { id, request };
    golden(
        "request-command-pause",
        &req(
            1,
            Request::Command {
                command: Command::Pause { run: RunId(12) },
            },
        ),
    );
    golden(
        "request-command-kill",
        &req(
            2,
            Request::Command {
                command: Command::Kill {
                    run: RunId(12),
                    force: true,
                },
            },
        ),
    );
    golden(
        "request-command-retry-job",
        &req(
            3,
            Request::Command {
                command: Command::RetryJob { job: JobId(41) },
            },
        ),
    );
    golden("request-agents", &req(4, Request::Agents));
    golden(
        "request-log",
        &req(
            5,
            Request::Log {
                run: RunId(12),
                lines: 50,
            },
        ),
    );
    golden("request-status", &req(6, Request::Status));
    golden("request-snapshot", &req(10, Request::Snapshot));
    golden("request-app-log", &req(11, Request::AppLog { lines: 200 }));
    golden(
        "request-feature-detail",
        &req(
            8,
            Request::FeatureDetail {
                feature: FeatureId(17),
            },
        ),
    );
    golden(
        "request-subscribe",
        &req(
            7,
            Request::Subscribe {
                follow: vec![RunId(12)],
                backlog: 200,
            },
        ),
    );
}

#[test]
fn replies() {
    let reply = |id, outcome| DaemonMessage::Reply { id, outcome };
    golden("reply-done", &reply(7, Outcome::Done { view: None }));
    golden(
        "reply-done-run",
        &reply(
            1,
            Outcome::Done {
                view: Some(View::Run {
                    run: Box::new(run_view()),
                }),
            },
        ),
    );
    golden(
        "reply-done-lines",
        &reply(
            5,
            Outcome::Done {
                view: Some(View::Lines {
                    lines: vec![line(0, "hello")],
                }),
            },
        ),
    );
    golden(
        "reply-done-daemon",
        &reply(
            6,
            Outcome::Done {
                view: Some(View::Daemon {
                    daemon: DaemonInfo {
                        pid: 4242,
                        version: "0.1.0".into(),
                        protocol: 1,
                        started_at_ms: 1_700_000_000_000,
                        clients: 2,
                        live_runs: 3,
                        paused: None,
                        config_error: None,
                    },
                }),
            },
        ),
    );
    golden(
        "reply-done-feature",
        &reply(
            8,
            Outcome::Done {
                view: Some(View::Feature {
                    feature: Box::new(FeatureDetail {
                        id: FeatureId(17),
                        category: "Cart".into(),
                        name: "Cart totals".into(),
                        description: "Sum the lines".into(),
                        steps: vec!["add two lines".into()],
                        priority: 0,
                        status: FeatureStatus::Ready,
                        attempts: 1,
                        last_error: None,
                        dependency_chain: vec![FeatureId(3)],
                        runs: Vec::new(),
                    }),
                }),
            },
        ),
    );
    golden(
        "reply-done-app-log",
        &reply(
            11,
            Outcome::Done {
                view: Some(View::AppLog {
                    lines: vec!["2026-12-03 19:00:00 INFO run 12: exited 0".into()],
                }),
            },
        ),
    );
    golden(
        "reply-refused-unknown",
        &reply(
            2,
            Outcome::refused(RefusalKind::Unknown, "no run 99 (see `corral agent list`)"),
        ),
    );
    golden(
        "reply-refused-ended",
        &reply(
            2,
            Outcome::refused(RefusalKind::Ended, "run 12 has ended (exit 1)"),
        ),
    );
}

#[test]
fn subscriptions() {
    golden(
        "stream-lines",
        &DaemonMessage::Lines {
            run: RunId(12),
            lines: vec![line(7, "compiling"), line(8, "\u{1b}[32mok\u{1b}[0m")],
        },
    );
    golden("stream-missed", &DaemonMessage::Missed { count: 3 });
    golden(
        "stream-event-ended",
        &DaemonMessage::Event {
            event: Event::RunEnded {
                run: RunId(12),
                state: RunState::Failed { code: 1 },
            },
        },
    );
}

/// The snapshot grows with corral; what is pinned is that a snapshot message as protocol 1
/// sent it still reads (fields added since need `#[serde(default)]`, or a new protocol).
#[test]
fn a_protocol_1_snapshot_message_still_reads() {
    let path = dir(1).join("stream-snapshot.json");
    if !path.exists() && std::env::var_os("WIRE_BLESS").is_some() {
        let msg = DaemonMessage::Snapshot {
            snapshot: Box::new(Snapshot {
                version: 3,
                max_agents: 2,
                ..Snapshot::default()
            }),
        };
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string(&msg).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    match serde_json::from_str::<DaemonMessage>(&text).unwrap() {
        DaemonMessage::Snapshot { snapshot } => {
            assert_eq!((snapshot.version, snapshot.max_agents), (3, 2));
        }
        other => panic!("{other:?}"),
    }
}

/// The reply to a snapshot request carries a snapshot, which grows with corral: what is
/// pinned is that the reply as protocol 1 sent it still reads.
#[test]
fn a_protocol_1_snapshot_reply_still_reads() {
    let path = dir(1).join("reply-done-snapshot.json");
    if !path.exists() && std::env::var_os("WIRE_BLESS").is_some() {
        let msg = DaemonMessage::Reply {
            id: 10,
            outcome: Outcome::Done {
                view: Some(View::Snapshot {
                    snapshot: Box::new(Snapshot {
                        version: 4,
                        scheduler_paused: true,
                        held: Some("the disk is full".into()),
                        ..Snapshot::default()
                    }),
                }),
            },
        };
        std::fs::write(&path, serde_json::to_string(&msg).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap();
    match serde_json::from_str::<DaemonMessage>(&text).unwrap() {
        DaemonMessage::Reply {
            id: 10,
            outcome:
                Outcome::Done {
                    view: Some(View::Snapshot { snapshot }),
                },
        } => {
            assert_eq!(snapshot.version, 4);
            assert!(snapshot.scheduler_paused);
            assert_eq!(snapshot.held.as_deref(), Some("the disk is full"));
        }
        other => panic!("{other:?}"),
    }
}

/// Every fixture is one a test above checks (none left behind after a rename).
#[test]
fn every_fixture_is_checked() {
    let source = include_str!("wire.rs");
    for entry in std::fs::read_dir(dir(PROTOCOL_VERSION)).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".json");
        assert!(
            source.contains(&format!("\"{stem}\"")) || source.contains(&format!("\"{name}\"")),
            "{name} is not checked by tests/wire.rs"
        );
    }
}
