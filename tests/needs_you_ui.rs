//! The dashboard with runs that need a person: the Agents pane marks them and shows what
//! each live run does, the header counts them, and `o`, `D`, `O` and `!` answer and find them.

use corral::api::*;
use corral::ui::app::{App, Pane};
use corral::ui::render;
use corral::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const NOW: i64 = 2_000_000;

fn run(id: i64, name: &str, waiting: Option<Ask>, since: i64, activity: Option<&str>) -> RunView {
    RunView {
        id: RunId(id),
        job: JobId(id),
        feature: Some(FeatureId(id)),
        feature_name: Some(name.into()),
        profile: "claude-ask".into(),
        role: Role::Coding,
        state: RunState::Running,
        pid: Some(4000 + id as u32),
        started_at_ms: NOW - 120_000,
        finished_at_ms: None,
        kill_requested: false,
        stats: None,
        usage: None,
        activity: activity.map(str::to_string),
        waiting: waiting.map(|ask| Waiting {
            ask,
            since_ms: since,
        }),
        session: None,
    }
}

fn bash(id: &str, summary: &str) -> Ask {
    Ask::Approval {
        request_id: id.into(),
        tool: "Bash".into(),
        summary: summary.into(),
    }
}

fn app() -> App {
    let snapshot = Snapshot {
        version: 1,
        max_agents: 3,
        runs: vec![
            run(1, "Cart totals", None, 0, Some("Bash cargo test -q")),
            run(
                2,
                "Login form",
                Some(bash("r2", "rm -rf target")),
                NOW - 5_000,
                None,
            ),
            run(
                3,
                "Search",
                Some(bash("r3", "git push")),
                NOW - 60_000,
                None,
            ),
        ],
        totals: TotalsView {
            live_agents: 3,
            ..TotalsView::default()
        },
        ..Snapshot::default()
    };
    let mut app = App::new(snapshot);
    app.now_ms = NOW;
    app
}

fn press(app: &mut App, c: char) -> Vec<Command> {
    app.key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
        .commands
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, app, &Theme::default()))
        .unwrap();
    term.backend().to_string()
}

#[test]
fn the_agents_pane_marks_runs_that_need_you_and_the_header_counts_them() {
    let app = app();
    let text = screen(&app, 120, 30);
    assert!(text.contains("2 need you (!)"), "{text}");
    assert!(text.contains("needs you"), "{text}");
    assert!(
        text.contains("! 2  coding #2 Login form · allow Bas"),
        "{text}"
    );
    assert!(text.contains("#1 Cart totals · Bash car"), "{text}");
    insta::assert_snapshot!(screen(&app, 80, 24));
}

#[test]
fn bang_goes_to_the_oldest_wait_and_o_d_o_answer_it() {
    let mut app = app();
    app.focus = Pane::Features;
    assert!(press(&mut app, '!').is_empty());
    assert_eq!(app.focus, Pane::Agents);
    assert_eq!(app.selected_run, Some(RunId(3)), "waited longest");
    assert_eq!(
        press(&mut app, 'o'),
        vec![Command::Answer {
            run: RunId(3),
            answer: Answer::Allow
        }]
    );
    assert_eq!(
        press(&mut app, 'O'),
        vec![Command::Answer {
            run: RunId(3),
            answer: Answer::AllowTool
        }]
    );
    // D asks why; the reason goes with the denial.
    assert!(press(&mut app, 'D').is_empty());
    for c in "not now".chars() {
        press(&mut app, c);
    }
    let sent = app
        .key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))
        .commands;
    assert_eq!(
        sent,
        vec![Command::Answer {
            run: RunId(3),
            answer: Answer::Deny {
                reason: Some("not now".into())
            }
        }]
    );
    // A run that asks nothing is told so, and nothing is sent.
    app.selected_run = Some(RunId(1));
    assert!(press(&mut app, 'o').is_empty());
}
