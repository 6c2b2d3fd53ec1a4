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
    tmux.press("q");
    let screen = tmux.wait_for_screen("the quit question or the end", LIMIT, |s| {
        s.contains("Quit?") || s.contains("corral exited")
    });
    if screen.contains("Quit?") {
        tmux.press("y");
    }
    tmux.wait_for_screen("corral to exit", LIMIT, |s| s.contains("corral exited 0"));
}
