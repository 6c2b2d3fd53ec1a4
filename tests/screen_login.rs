//! The dashboard at 80x24 when the agents' credentials are refused: start-up warnings are not
//! hidden by the credentials notice that follows them, the header keeps the project and its
//! counts beside the login message, the Features pane keeps room for names, and the Queue's
//! last error shows the tool's own words. Rendered on TestBackend.

mod common;

use common::demo::{START, STEP, demo_after, screen};
use corral::api::*;
use corral::core::failure::Class;
use corral::core::{Failure, Feature, Input, Model, NewRun, scheduler};
use corral::ui::app::{App, NOTICE_MS, Pane};

const WARNING: &str = "profile aider: program aider not found on PATH";
const CHOICE: &str =
    "coding uses profile claude, the first by name of aider, claude whose program is installed";
const REFUSED: &str = "account coding: credentials refused; log in again, then close its breaker";

fn footer(app: &App) -> String {
    screen(app, 80, 24).lines().last().unwrap().to_string()
}

fn with_notices(mut snap: Snapshot, notices: &[&str]) -> Snapshot {
    snap.notices = notices
        .iter()
        .enumerate()
        .map(|(i, t)| NoticeView {
            seq: i as u64 + 1,
            text: (*t).into(),
        })
        .collect();
    snap.notice = notices.last().map(|t| (*t).into());
    snap
}

fn login_breaker(mut snap: Snapshot) -> Snapshot {
    snap.breakers = vec![BreakerView {
        account: "coding".into(),
        state: BreakerState::Open,
        failures: 1,
        until_ms: None,
        auth: true,
        login_hint: Some("run `claude` and type /login, then press b".into()),
    }];
    snap
}

#[test]
fn start_up_warnings_are_shown_in_turn_before_a_credentials_notice() {
    // The first snapshot's sample time is long past: the warnings still get their time.
    let mut first = with_notices(demo_after(10), &[CHOICE, WARNING]);
    first.sampled_at_ms = 0;
    let mut app = App::new(first);
    let t0 = START + 10 * STEP;
    app.start_clock(t0);
    assert!(
        footer(&app).contains("coding uses profile"),
        "{}",
        footer(&app)
    );
    // A second later the credentials are refused.
    app.now_ms = t0 + 1_000;
    app.set_snapshot(login_breaker(with_notices(
        demo_after(10),
        &[CHOICE, WARNING, REFUSED],
    )));
    assert!(
        footer(&app).contains("coding uses profile"),
        "the warning keeps its time: {}",
        footer(&app)
    );
    app.now_ms = t0 + NOTICE_MS;
    assert!(footer(&app).contains("profile aider"), "{}", footer(&app));
    app.now_ms = t0 + 2 * NOTICE_MS;
    assert!(
        footer(&app).contains("credentials refused"),
        "{}",
        footer(&app)
    );
    // A key moves on to the next one at once; with none left the bar is the keys again.
    app.key(&crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('j'),
        crossterm::event::KeyModifiers::NONE,
    ));
    assert!(
        !footer(&app).contains("credentials refused"),
        "{}",
        footer(&app)
    );
    app.now_ms = t0 + 3 * NOTICE_MS;
    app.set_snapshot(login_breaker(with_notices(
        demo_after(11),
        &[CHOICE, WARNING, REFUSED],
    )));
    assert!(
        !app.ticking() || app.notice().is_none(),
        "nothing shown twice"
    );
    assert!(app.notice().is_none());
}

#[test]
fn the_header_keeps_the_project_and_counts_beside_or_below_a_login_message_at_80x24() {
    let app = App::new(login_breaker(demo_after(10)));
    let text = screen(&app, 80, 24);
    let mut lines = text.lines().map(|l| l.trim_matches('"'));
    let first = lines.next().unwrap();
    let second = lines.next().unwrap();
    assert!(
        first.contains("corral shop") && first.contains("3/12"),
        "project and counts:\n{text}"
    );
    let both = format!("{first}\n{second}");
    assert!(
        both.contains("coding: login needed — run `claude` and type /login"),
        "the login message, whole:\n{text}"
    );
    // The panes are all still there.
    for pane in ["Agents", "Features", "Queue", "Log"] {
        assert!(text.contains(pane), "{pane}:\n{text}");
    }
    // Without a login to wait for the header is one line.
    let text = screen(&App::new(demo_after(10)), 80, 24);
    assert!(text.lines().nth(1).unwrap().contains("Agents"), "{text}");
}

#[test]
fn feature_names_keep_a_useful_width_with_a_login_breaker_at_80x24() {
    let mut snap = login_breaker(demo_after(10));
    for f in snap.features.iter_mut() {
        f.status = FeatureStatus::Failing;
        f.attempts = 2;
    }
    for focus in [Pane::Agents, Pane::Features, Pane::Queue] {
        let mut app = App::new(snap.clone());
        app.focus = focus;
        let text = screen(&app, 80, 24);
        assert!(
            text.contains("Product catalog") && text.contains("User accounts"),
            "{focus:?}: names at a useful width:\n{text}"
        );
    }
}

/// A model whose one feature's agent was refused credentials with Claude Code's words.
fn refused_by_claude() -> Snapshot {
    let feature = Feature {
        id: FeatureId(1),
        category: "Auth".into(),
        name: "User accounts".into(),
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
    };
    let (mut m, _) = Model::new(vec![feature], 1);
    m.profiles.insert(
        Role::Coding,
        scheduler::ProfileSlot {
            name: "claude".into(),
            max_parallel: None,
        },
    );
    m.now_ms = 100_000;
    m.handle(Input::Kick);
    m.handle(Input::Spawned(NewRun {
        id: RunId(1),
        job: JobId(1),
        feature: Some(FeatureId(1)),
        profile: "claude".into(),
        role: Role::Coding,
        pid: 4242,
        started_at_ms: 100_000,
        grace_ms: 1_000,
        timeout_ms: None,
        silence_ms: None,
    }));
    m.handle(Input::Exited {
        run: RunId(1),
        code: Some(1),
        signal: None,
        group_alive: false,
        at_ms: 101_000,
        verdict: None,
        failure: Some(Failure {
            class: Class::Auth,
            evidence: Some("Not logged in · Please run /login".into()),
        }),
        usage: None,
        random: 0,
        unjudged: None,
    });
    m.snapshot(std::path::Path::new("/home/dev/src/shop"), 1)
}

#[test]
fn the_queue_shows_the_tools_own_words_first_at_80x24() {
    let snap = refused_by_claude();
    let error = snap.jobs[0].last_error.clone().unwrap_or_default();
    assert_eq!(
        error, "Not logged in · Please run /login — credentials refused, exit 1",
        "composed by the core"
    );
    let mut app = App::new(snap);
    app.focus = Pane::Queue;
    let text = screen(&app, 80, 24);
    let row = text
        .lines()
        .find(|l| l.contains("#1 User accounts") && l.contains("queued"))
        .unwrap_or_else(|| panic!("the job's row:\n{text}"));
    assert!(row.contains("Not logged in"), "{row}\n{text}");
}
