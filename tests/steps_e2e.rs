//! Steps end to end: fixture streams replayed by a real process through the real runtime,
//! and the demo's stream-json agent through the real binary in tmux.

mod common;

use common::tmux::{Tmux, shell_quote};
use common::{feature, start_project, wait_for};
use corral::api::{RunState, RunView};
use corral::core::steps::{StepState, one_line};
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// The tmux dashboard and the real CLI are heavy: one at a time, on 2 cores shared.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/steps/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cat FIXTURE` as the coding agent of a one-feature project; returns the ended run and
/// its steps as text lines.
async fn replay(dir: &Path, name: &str) -> (RunView, Vec<String>, StepState) {
    let toml = format!(
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"cat\", \"{}\"]\n",
        fixture(name)
    );
    let (h, _task) = start_project(dir, &toml, &[feature(1, &[])]);
    let run = wait_for("the replay to end", LIMIT, || {
        h.snapshots()
            .borrow()
            .runs
            .iter()
            .find(|r| !r.state.is_live())
            .cloned()
    });
    let lines = h
        .steps(run.id)
        .iter()
        .map(|s| {
            let text: String = one_line(s).into_iter().map(|(_, t)| t).collect();
            format!("{}{text}", "  ".repeat(s.depth as usize))
        })
        .collect();
    let state = h.step_state(run.id);
    h.send(corral::api::Command::Shutdown);
    (run, lines, state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_claude_stream_becomes_steps_and_its_cost_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (run, lines, state) = replay(dir.path(), "claude_documented.jsonl").await;
    assert_eq!(run.state, RunState::Exited);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Bash  cargo test -q  error")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("  Grep  coupon in src/  ok")),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&r#"{"type":"some_future_event","detail":"kept as printed"}"#.to_string()),
        "an unknown event is kept raw: {lines:#?}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("done  6 turns · 14s · $0.0412")
    );
    assert_eq!(state, StepState::Done);
    // Usage and cost as before: from the same stream.
    let usage = run.usage.expect("usage recorded");
    assert_eq!(usage.cost_micros, Some(41_200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_codex_and_gemini_streams_pair_their_calls() {
    let dir = tempfile::tempdir().unwrap();
    let (_, codex, _) = replay(dir.path(), "codex_documented.jsonl").await;
    assert!(
        codex
            .iter()
            .any(|l| l.starts_with("Shell  bash -lc 'cargo test -q'  ok")),
        "{codex:#?}"
    );
    assert!(
        codex.iter().any(|l| l.starts_with("Edit  src/cart.rs")),
        "{codex:#?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (_, gemini, state) = replay(dir.path(), "gemini_documented.jsonl").await;
    assert!(
        gemini
            .iter()
            .any(|l| l.starts_with("run_shell_command  cargo test -q  ok")),
        "{gemini:#?}"
    );
    assert!(
        gemini
            .iter()
            .any(|l| l.contains("read_file") && l.contains("error"))
    );
    assert_eq!(state, StepState::Done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_text_agent_has_no_steps() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"echo\", \"just text\"]\n";
    let (h, _task) = start_project(dir.path(), toml, &[feature(1, &[])]);
    let run = wait_for("the run to end", LIMIT, || {
        h.snapshots()
            .borrow()
            .runs
            .iter()
            .find(|r| !r.state.is_live())
            .cloned()
    });
    assert!(h.steps(run.id).is_empty());
    assert_eq!(h.step_state(run.id), StepState::Unknown);
    h.send(corral::api::Command::Shutdown);
}

const EXE: &str = env!("CARGO_BIN_EXE_corral");

#[test]
fn the_demo_shows_steps_and_v_shows_the_raw_lines() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().canonicalize().expect("canonical temp dir");
    let xdg = root.join("xdg");
    for d in ["config", "data"] {
        std::fs::create_dir_all(xdg.join(d)).unwrap();
    }
    let project = root.join("project");
    let command = format!(
        "env XDG_CONFIG_HOME={} XDG_DATA_HOME={} {} demo {}; echo \"corral exited $?\"; sleep 60",
        shell_quote(&xdg.join("config").to_string_lossy()),
        shell_quote(&xdg.join("data").to_string_lossy()),
        shell_quote(EXE),
        shell_quote(&project.to_string_lossy()),
    );
    let Some(tmux) = Tmux::start(&command, 120, 40) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    // The demo runs in a daemon of its own; this stops it however the test ends.
    let _daemon = common::daemon::StopsDaemon::new(&project);
    let steps = tmux.wait_for_screen("the Log pane showing steps", LIMIT, |s| {
        s.contains("· steps ·") && s.contains("session  demo-sonnet")
    });
    assert!(
        !steps.contains("{\"type\""),
        "no raw JSON in the steps view:\n{steps}"
    );
    tmux.press("v");
    tmux.wait_for_screen("the raw lines", LIMIT, |s| {
        s.contains("· raw ·") && s.contains("\"type\":\"")
    });
    tmux.press("v");
    tmux.wait_for_screen("the steps again", LIMIT, |s| s.contains("· steps ·"));
    // Every third demo run asks before its first edit: the header counts it, `!` goes to
    // it and `o` allows it.
    tmux.wait_for_screen("a run that needs you", Duration::from_secs(90), |s| {
        s.contains("need you (!)")
    });
    // `o` on a run that asks nothing says so; after `!` it answers the waiting one.
    tmux.press("!");
    tmux.press("o");
    tmux.wait_for_screen("the approval noted", LIMIT, |s| s.contains("allowed"));
    tmux.press("q");
    let screen = tmux.wait_for_screen("the quit question or the end", LIMIT, |s| {
        s.contains("Quit?") || s.contains("corral exited")
    });
    if screen.contains("Quit?") {
        tmux.press("y");
    }
    tmux.wait_for_screen("corral to exit", LIMIT, |s| s.contains("corral exited 0"));
}

/// A stand-in for Anthropic's Messages API on 127.0.0.1, speaking server-sent events: a
/// conversation's first request with tools gets a text block and a `Bash` tool call, the
/// request carrying the tool's result gets the final text. Returns its base URL.
fn messages_api() -> String {
    messages_api_running("echo tests pass")
}

/// [`messages_api`] with the tool call running `command`.
fn messages_api_running(command: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(n) = lower.strip_prefix("content-length:") {
                        length = n.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let has_tools = request["tools"].as_array().is_some_and(|t| !t.is_empty());
                let answered = request["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .map(|m| m["content"].to_string().contains("tool_result"))
                    .unwrap_or(false);
                let mut events: Vec<serde_json::Value> = vec![serde_json::json!({
                    "type": "message_start",
                    "message": {"id": "msg_standin", "type": "message", "role": "assistant",
                        "model": request["model"], "content": [], "stop_reason": null,
                        "usage": {"input_tokens": 120, "output_tokens": 1}}
                })];
                let text = |i: u32, t: &str| {
                    vec![
                        serde_json::json!({"type": "content_block_start", "index": i, "content_block": {"type": "text", "text": ""}}),
                        serde_json::json!({"type": "content_block_delta", "index": i, "delta": {"type": "text_delta", "text": t}}),
                        serde_json::json!({"type": "content_block_stop", "index": i}),
                    ]
                };
                let stop = if has_tools && !answered {
                    events.extend(text(0, "I will run the tests."));
                    let input =
                        serde_json::json!({"command": command, "description": "Run the tests"});
                    events.push(serde_json::json!({"type": "content_block_start", "index": 1,
                        "content_block": {"type": "tool_use", "id": "toolu_standin", "name": "Bash", "input": {}}}));
                    events.push(
                        serde_json::json!({"type": "content_block_delta", "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": input.to_string()}}),
                    );
                    events.push(serde_json::json!({"type": "content_block_stop", "index": 1}));
                    "tool_use"
                } else {
                    events.extend(text(0, "All tests pass."));
                    "end_turn"
                };
                events.push(serde_json::json!({"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 20}}));
                events.push(serde_json::json!({"type": "message_stop"}));
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
                );
                for e in events {
                    let _ = write!(
                        stream,
                        "event: {}\ndata: {e}\n\n",
                        e["type"].as_str().unwrap_or("")
                    );
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Whether `program` is on PATH; under CI the npm CLIs must be (`.ci/run` installs them).
fn installed(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()));
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(found || !ci, "`{program}` is not on PATH under CI");
    if !found {
        eprintln!("skipped: `{program}` is not installed");
    }
    found
}

/// The real Claude Code CLI run by corral against the stand-in API: its stream-json becomes
/// steps (the call paired with its result, the final result with its turns and cost), and the
/// cost it reports is recorded as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_claude_cli_streams_steps_through_corral() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !installed("claude") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"[profiles.coding]
role = "coding"
command = ["claude", "-p", "run the tests", "--output-format", "stream-json", "--verbose",
  "--allowedTools", "Bash", "--model", "claude-sonnet-4-5"]
stdin = "null"
env = {{ HOME = "{home}", ANTHROPIC_BASE_URL = "{api}", ANTHROPIC_API_KEY = "sk-ant-standin-000" }}
"#,
        home = home.path().display(),
        api = messages_api(),
    );
    let (h, _task) = start_project(dir.path(), &toml, &[feature(1, &[])]);
    let run = wait_for(
        "the Claude Code run to end",
        Duration::from_secs(120),
        || {
            h.snapshots()
                .borrow()
                .runs
                .iter()
                .find(|r| !r.state.is_live())
                .cloned()
        },
    );
    let lines: Vec<String> = h
        .steps(run.id)
        .iter()
        .map(|s| one_line(s).into_iter().map(|(_, t)| t).collect())
        .collect();
    let log = h.log_tail(run.id, 50);
    assert_eq!(run.state, RunState::Exited, "{lines:#?}\n{log:#?}");
    assert!(
        lines[0].starts_with("session  claude-sonnet-4-5 · "),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"says  I will run the tests.".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Bash  echo tests pass  ok")),
        "{lines:#?}"
    );
    assert!(
        lines.last().unwrap().starts_with("done  2 turns · "),
        "{lines:#?}"
    );
    assert_eq!(h.step_state(run.id), StepState::Done);
    let usage = run.usage.expect("the CLI's cost recorded");
    assert!(usage.cost_micros.is_some_and(|c| c > 0), "{usage:?}");
    h.send(corral::api::Command::Shutdown);
}

/// The real Claude Code CLI asking corral for permission through its stdio permission
/// prompt (the shipped `claude-ask` way: `--input-format stream-json`,
/// `--permission-prompt-tool stdio`, `stdin = "stream-json"`): the stand-in makes it call a
/// tool that needs asking, the run shows `needs_input` with the tool and its input, corral's
/// allow lets the CLI run the tool, and the run finishes with its cost recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_claude_cli_asks_corral_for_permission_and_an_allow_lets_it_finish() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !installed("claude") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let toml = format!(
        r#"[profiles.coding]
role = "coding"
command = ["claude", "-p", "--input-format", "stream-json", "--output-format", "stream-json",
  "--verbose", "--permission-prompt-tool", "stdio", "--model", "claude-sonnet-4-5"]
stdin = "stream-json"
env = {{ HOME = "{home}", ANTHROPIC_BASE_URL = "{api}", ANTHROPIC_API_KEY = "sk-ant-standin-000" }}
"#,
        home = home.path().display(),
        api = messages_api_running("touch built.txt"),
    );
    let (h, _task) = start_project(dir.path(), &toml, &[feature(1, &[])]);
    let run = wait_for(
        "the CLI to ask for permission",
        Duration::from_secs(120),
        || {
            h.snapshots()
                .borrow()
                .runs
                .iter()
                .find(|r| r.waiting.is_some() || !r.state.is_live())
                .cloned()
        },
    );
    let log = h.log_tail(run.id, 50);
    let ask = run.waiting.clone().map(|w| w.ask);
    assert!(
        matches!(&ask, Some(corral::api::Ask::Approval { tool, summary, .. })
            if tool == "Bash" && summary == "touch built.txt"),
        "{ask:?}\n{log:#?}"
    );
    assert!(
        !dir.path().join("built.txt").exists(),
        "not before the allow"
    );
    h.send(corral::api::Command::Answer {
        run: run.id,
        answer: corral::api::Answer::Allow,
    });
    let run = wait_for("the run to end", Duration::from_secs(120), || {
        h.snapshots()
            .borrow()
            .runs
            .iter()
            .find(|r| !r.state.is_live())
            .cloned()
    });
    let lines: Vec<String> = h
        .steps(run.id)
        .iter()
        .map(|s| one_line(s).into_iter().map(|(_, t)| t).collect())
        .collect();
    let log = h.log_tail(run.id, 60);
    assert_eq!(run.state, RunState::Exited, "{lines:#?}\n{log:#?}");
    assert!(dir.path().join("built.txt").exists(), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Bash  touch built.txt  ok")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("asked to run  Bash  touch built.txt")),
        "{lines:#?}"
    );
    let usage = run.usage.expect("the CLI's cost recorded");
    assert!(usage.cost_micros.is_some_and(|c| c > 0), "{usage:?}");
    h.send(corral::api::Command::Shutdown);
}
