//! The Log pane's steps view on ratatui's TestBackend: a run printing Claude Code's, Codex's or
//! Gemini's event stream shows one row per step, `enter` opens a step, `v` shows the raw
//! lines, search works over what is shown, and a plain-text run keeps its lines.

use corral::api::*;
use corral::ui::app::{App, Pane};
use corral::ui::render;
use corral::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const NOW: i64 = 2_000_000;
const RUN: RunId = RunId(21);

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/steps/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

fn snapshot() -> Snapshot {
    Snapshot {
        version: 1,
        project: "/home/dev/src/shop".into(),
        max_agents: 2,
        sampled_at_ms: NOW,
        runs: vec![RunView {
            id: RUN,
            job: JobId(21),
            feature: Some(FeatureId(4)),
            feature_name: Some("Cart totals".into()),
            profile: "claude".into(),
            role: Role::Coding,
            state: RunState::Running,
            pid: Some(4021),
            started_at_ms: NOW - 60_000,
            finished_at_ms: None,
            kill_requested: false,
            stats: None,
            usage: None,
            activity: None,
            waiting: None,
            session: None,
        }],
        ..Snapshot::default()
    }
}

/// Lines of `text` as the run's output, the n-th read n seconds after the run started.
fn lines(text: &str) -> Vec<LogLine> {
    text.lines()
        .enumerate()
        .map(|(i, t)| LogLine {
            run: RUN,
            seq: i as u64,
            stream: Stream::Stdout,
            at_ms: NOW - 60_000 + 1_000 * i as i64,
            text: t.to_string(),
        })
        .collect()
}

/// The app showing the run, Log pane focused, its lines arriving one by one as they would
/// live (`tail` of them already there when the pane opened).
fn app_with(text: &str, tail: usize) -> App {
    let mut app = App::new(snapshot());
    let all = lines(text);
    let (first, rest) = all.split_at(tail.min(all.len()));
    app.show_log(Some(RUN), first.to_vec());
    for line in rest {
        app.log.push(line.clone());
    }
    while app.focus != Pane::Log {
        press(&mut app, KeyCode::Tab);
    }
    app
}

fn press(app: &mut App, code: KeyCode) {
    app.key(&KeyEvent::new(code, KeyModifiers::NONE));
}

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, app, &Theme::default()))
        .unwrap();
    term
}

fn screen(app: &App, w: u16, h: u16) -> String {
    draw(app, w, h).backend().to_string()
}

#[test]
fn claude_steps_120x40() {
    let app = app_with(&fixture("claude_documented.jsonl"), 3);
    insta::assert_snapshot!(draw(&app, 120, 40).backend());
}

#[test]
fn claude_steps_80x24() {
    let app = app_with(&fixture("claude_documented.jsonl"), 0);
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn codex_steps_120x40() {
    let app = app_with(&fixture("codex_documented.jsonl"), 0);
    insta::assert_snapshot!(draw(&app, 120, 40).backend());
}

#[test]
fn gemini_steps_80x24() {
    let app = app_with(&fixture("gemini_documented.jsonl"), 5);
    insta::assert_snapshot!(draw(&app, 80, 24).backend());
}

#[test]
fn enter_opens_the_step_under_the_cursor_to_its_input_and_output() {
    let mut app = app_with(&fixture("claude_documented.jsonl"), 0);
    // Up from the newest: the result, the message, the rate limit, the Edit, the unknown
    // event, the subagent's message, its Grep, the Task, then the failing Bash call.
    for _ in 0..8 {
        press(&mut app, KeyCode::Char('k'));
    }
    press(&mut app, KeyCode::Enter);
    let text = screen(&app, 120, 40);
    assert!(text.contains("\"command\": \"cargo test -q\""), "{text}");
    assert!(text.contains("expected 90, got 100"), "{text}");
    insta::assert_snapshot!("claude_bash_opened_120x40", draw(&app, 120, 40).backend());
    press(&mut app, KeyCode::Enter);
    assert!(!screen(&app, 120, 40).contains("expected 90, got 100"));
}

#[test]
fn v_toggles_the_raw_lines_and_search_works_in_both() {
    let mut app = app_with(&fixture("claude_documented.jsonl"), 0);
    let steps = screen(&app, 120, 40);
    assert!(steps.contains("Edit  src/cart.rs  ok 1s"), "{steps}");
    assert!(steps.contains("steps"));
    press(&mut app, KeyCode::Char('v'));
    let raw = screen(&app, 120, 40);
    assert!(raw.contains("{\"type\":\"result\""), "{raw}");
    assert!(raw.contains(" raw "), "{raw}");
    assert!(!raw.contains("Edit  src/cart.rs"));
    // Search counts what is shown: `cart.rs` is in five raw lines...
    for c in "/cart.rs".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    press(&mut app, KeyCode::Enter);
    let raw_hits = app.log.search.as_ref().unwrap().total();
    // ...and in two step rows (the subagent's answer, the Edit).
    press(&mut app, KeyCode::Char('v'));
    let step_hits = app.log.search.as_ref().unwrap().total();
    assert_eq!((raw_hits, step_hits), (5, 2));
    let text = screen(&app, 120, 40);
    assert!(text.contains("/cart.rs"), "{text}");
}

#[test]
fn a_plain_text_run_keeps_its_lines_and_v_says_why() {
    let mut app = app_with("compiling...\nall good\n", 0);
    let text = screen(&app, 80, 24);
    assert!(text.contains("compiling..."));
    assert!(!text.contains(" steps "));
    press(&mut app, KeyCode::Char('v'));
    assert!(screen(&app, 120, 40).contains("no event stream"));
}

#[test]
fn a_result_arriving_live_updates_its_call_row() {
    let stream = fixture("claude_real_permission.jsonl");
    let all: Vec<&str> = stream.lines().collect();
    let asked = all
        .iter()
        .position(|l| l.contains("control_request"))
        .unwrap();
    let mut app = App::new(snapshot());
    app.show_log(Some(RUN), Vec::new());
    let mut feed = lines(&stream).into_iter();
    for line in feed.by_ref().take(asked + 1) {
        app.log.push(line);
    }
    let waiting = screen(&app, 120, 40);
    assert!(
        waiting.contains("Bash  touch built.txt  running"),
        "{waiting}"
    );
    assert!(
        waiting.contains("waiting for approval:  Bash  touch built.txt"),
        "{waiting}"
    );
    for line in feed {
        app.log.push(line);
    }
    let done = screen(&app, 120, 40);
    assert!(done.contains("Bash  touch built.txt  ok 2s"), "{done}");
    assert!(
        done.contains("asked to run  Bash  touch built.txt"),
        "{done}"
    );
    assert!(done.contains("done  2 turns"), "{done}");
}

#[test]
fn ascii_mode_draws_step_rows_in_ascii() {
    let app = app_with(&fixture("claude_documented.jsonl"), 0);
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let theme = Theme {
        ascii: true,
        ..Theme::default()
    };
    term.draw(|f| render::draw(f, &app, &theme)).unwrap();
    let text = term.backend().to_string();
    assert!(
        text.contains("done  6 turns - 14s - $0.0412 - 5200 in / 830 out tokens"),
        "{text}"
    );
    assert!(text.contains("thinks  The cart total is wrong when a coupon applies. ..."));
    let log_rows: String = text
        .lines()
        .skip_while(|l| !l.contains("Log"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(log_rows.is_ascii(), "{log_rows}");
}

#[test]
fn a_line_shown_unfinished_then_whole_becomes_one_step() {
    let mut app = app_with(&fixture("codex_documented.jsonl"), 0);
    let whole = r#"{"type":"item.completed","item":{"id":"late","type":"agent_message","text":"one more thing"}}"#;
    let line = |text: &str| LogLine {
        run: RUN,
        seq: 100,
        stream: Stream::Stdout,
        at_ms: NOW,
        text: text.to_string(),
    };
    assert!(app.log.push(line(&whole[..40])));
    assert!(
        screen(&app, 120, 40).contains(&whole[..40]),
        "the unfinished line, raw"
    );
    assert!(app.log.push(line(whole)));
    let text = screen(&app, 120, 40);
    assert!(text.contains("says  one more thing"), "{text}");
    assert!(!text.contains(&whole[..40]), "{text}");
    assert_eq!(text.matches("one more thing").count(), 1);
}
