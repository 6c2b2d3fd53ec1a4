//! The dashboard after the demo has run for a while: more ended runs and jobs than the panes
//! have rows, long names, long dependency lists and wide ids. Rendered on TestBackend.

use corral::api::*;
use corral::ui::app::{App, Pane};
use corral::ui::render;
use corral::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The demo's start; the demo then runs one step every 20 seconds.
const START: i64 = 1_000_000;
const STEP: i64 = 20_000;

/// The demo backlog: (id, category, name, dependencies).
const BACKLOG: [(i64, &str, &str, &[i64]); 12] = [
    (1, "Auth", "User accounts", &[]),
    (2, "Auth", "Login form", &[1]),
    (3, "Catalog", "Product catalog", &[]),
    (4, "Catalog", "Product pages", &[3]),
    (5, "Catalog", "Categories", &[3]),
    (6, "Search", "Product search", &[4, 5]),
    (7, "Cart", "Shopping cart", &[3]),
    (8, "Cart", "Cart totals", &[7]),
    (9, "Checkout", "Checkout flow", &[2, 8, 10]),
    (10, "Checkout", "Payment stub", &[]),
    (11, "Admin", "Admin dashboard", &[2, 4]),
    (12, "Admin", "Inventory admin", &[11]),
];

/// How the demo's runs end, in turn.
const ENDINGS: [RunState; 6] = [
    RunState::Exited,
    RunState::Failed { code: 1 },
    RunState::SpawnFailed,
    RunState::Killed { signal: Some(15) },
    RunState::Exited,
    RunState::TimedOut,
];

fn name_of(feature: i64) -> String {
    BACKLOG[(feature as usize - 1) % BACKLOG.len()]
        .2
        .to_string()
}

/// The demo after `step` steps: run `n` (on feature `n % 12 + 1`) starts at step `n` and
/// ends at step `n + 2`, so two runs are live at any time and every earlier one has ended.
/// Jobs follow their runs, and two more wait in the queue.
fn demo_after(step: i64) -> Snapshot {
    let now = START + step * STEP;
    let feature_of = |n: i64| n % 12 + 1;
    let status = |id: i64| {
        let live = (step - 1..=step).any(|n| n >= 1 && feature_of(n) == id);
        match id {
            _ if live => FeatureStatus::InProgress,
            1 | 3 | 10 => FeatureStatus::Passing,
            9 | 11 | 12 => FeatureStatus::Blocked,
            6 => FeatureStatus::Failing,
            _ => FeatureStatus::Ready,
        }
    };
    let features: Vec<FeatureView> = BACKLOG
        .iter()
        .map(|(id, cat, name, deps)| FeatureView {
            id: FeatureId(*id),
            category: (*cat).into(),
            name: (*name).into(),
            priority: 0,
            status: status(*id),
            dependencies: deps.iter().map(|d| FeatureId(*d)).collect(),
            blocked_by: deps
                .iter()
                .filter(|d| status(**d) != FeatureStatus::Passing)
                .map(|d| FeatureId(*d))
                .collect(),
            attempts: 1,
            usage: Usage::default(),
            merge: None,
        })
        .collect();
    let run = |n: i64| {
        let live = n >= step - 1;
        let state = if live {
            RunState::Running
        } else {
            ENDINGS[n as usize % ENDINGS.len()]
        };
        RunView {
            id: RunId(n),
            job: JobId(n),
            feature: Some(FeatureId(feature_of(n))),
            feature_name: Some(name_of(feature_of(n))),
            profile: "coding".into(),
            role: Role::Coding,
            state,
            pid: Some(40_000 + n as u32),
            started_at_ms: START + n * STEP,
            finished_at_ms: (!live).then_some(START + (n + 2) * STEP),
            kill_requested: matches!(state, RunState::Killed { .. }),
            stats: live.then_some(RunStats {
                cpu_tenths: 120,
                rss_bytes: 30 << 20,
                threads: 2,
                processes: 2,
                log_bytes: 2_000,
            }),
            usage: None,
            activity: None,
            waiting: None,
            session: None,
        }
    };
    // As the core lists them: live runs oldest first, then ended ones newest first.
    let mut runs: Vec<RunView> = (1..=step).filter(|n| *n >= step - 1).map(run).collect();
    runs.extend((1..step - 1).rev().map(run));
    let job = |n: i64, state: JobState| JobView {
        id: JobId(n),
        profile: "coding".into(),
        account: "coding".into(),
        role: Role::Coding,
        feature: Some(FeatureId(feature_of(n))),
        feature_name: Some(name_of(feature_of(n))),
        priority: 0,
        state,
        attempt: 1,
        max_attempts: 3,
        transient_attempts: 0,
        transient_budget: 20,
        available_at_ms: None,
        last_error: (state == JobState::Failed).then(|| "exit 1".into()),
        runs: vec![RunId(n)],
        usage: Usage::default(),
    };
    let mut jobs: Vec<JobView> = runs
        .iter()
        .filter(|r| r.state.is_live())
        .map(|r| job(r.id.0, JobState::Running))
        .collect();
    jobs.extend([
        job(step + 1, JobState::Queued),
        job(step + 2, JobState::Queued),
    ]);
    jobs.extend(
        runs.iter()
            .filter(|r| !r.state.is_live())
            .map(|r| match r.state {
                RunState::Exited => job(r.id.0, JobState::Done),
                _ => job(r.id.0, JobState::Failed),
            }),
    );
    Snapshot {
        version: step as u64,
        project: "/home/dev/src/shop".into(),
        max_agents: 2,
        totals: TotalsView {
            features: 12,
            passing: 3,
            live_agents: 2,
            ..TotalsView::default()
        },
        features,
        runs,
        jobs,
        sampled_at_ms: now,
        ..Snapshot::default()
    }
}

/// The dashboard as it is after the demo ran `steps` steps, watched from the start.
fn watched(steps: i64, focus: Pane) -> App {
    let mut app = App::new(demo_after(2));
    app.focus = focus;
    for step in 3..=steps {
        app.set_snapshot(demo_after(step));
    }
    app.now_ms = START + steps * STEP;
    let lines = (0..12)
        .map(|i| LogLine {
            run: app.log_run().unwrap_or(RunId(0)),
            seq: i,
            text: format!("step {i}: working on it"),
            stream: Stream::Stdout,
            at_ms: app.now_ms,
        })
        .collect();
    app.show_log(app.log_run(), lines);
    app
}

fn draw(app: &App, theme: Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, app, &theme)).unwrap();
    term
}

fn screen(app: &App, w: u16, h: u16) -> String {
    draw(app, Theme::default(), w, h).backend().to_string()
}

/// The part of each line between `from` and `to` columns (a pane), one String per line.
fn pane_text(text: &str, from: usize, to: usize) -> Vec<String> {
    text.lines()
        .map(|l| {
            let l = l.trim_matches('"');
            l.chars().skip(from).take(to - from).collect()
        })
        .collect()
}

/// Rows of the screen whose first cell inside a pane holds `glyph`.
fn rows_with(lines: &[String], glyph: &str) -> usize {
    lines
        .iter()
        .filter(|l| l.chars().nth(1).is_some_and(|c| c.to_string() == glyph))
        .count()
}

#[test]
fn live_runs_and_running_jobs_stay_in_view_after_minutes_of_the_demo() {
    // 40 steps: 38 ended runs, far more than either pane has rows.
    for (w, h) in [(80, 24), (120, 40)] {
        for focus in [Pane::Agents, Pane::Queue] {
            let app = watched(40, focus);
            let text = screen(&app, w, h);
            let agents_w = if w < 100 { 48 } else { 67 };
            let queue_top = text.lines().position(|l| l.contains("Queue")).unwrap();
            let agents = pane_text(&text, 0, agents_w)[..queue_top].to_vec();
            assert_eq!(
                rows_with(&agents, "▶"),
                2,
                "{w}x{h}, {focus:?}: both live runs in the Agents pane:\n{text}"
            );
            let queue: Vec<String> = pane_text(&text, 0, w as usize)[queue_top..].to_vec();
            let queue: Vec<String> = queue
                .into_iter()
                .take_while(|l| !l.contains(" Log "))
                .collect();
            assert_eq!(rows_with(&queue, "▶"), 2, "{w}x{h} {focus:?}:\n{text}");
            assert_eq!(rows_with(&queue, "○"), 2, "waiting jobs too:\n{text}");
        }
    }
}

fn key(app: &mut App, c: char) {
    app.key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

#[test]
fn a_selection_the_user_moved_stays_on_its_run_and_g_returns_to_the_live_rows() {
    let mut app = watched(10, Pane::Agents);
    assert_eq!(app.selected_run, Some(RunId(9)), "rides on the first row");
    key(&mut app, 'j');
    key(&mut app, 'j');
    let picked = app.selected_run;
    assert_eq!(picked, Some(RunId(8)));
    for step in 11..=20 {
        app.set_snapshot(demo_after(step));
    }
    assert_eq!(app.selected_run, picked, "moved on purpose: stays");
    key(&mut app, 'g');
    app.set_snapshot(demo_after(21));
    assert_eq!(
        app.selected_run,
        Some(RunId(20)),
        "g: back on the first row"
    );
}

#[test]
fn cut_text_always_shows_a_mark_and_names_get_the_room() {
    let app = watched(40, Pane::Agents);
    for (w, h) in [(80, 24), (120, 40)] {
        let text = screen(&app, w, h);
        // Every state is whole or ends in an ellipsis.
        for cut in ["spawn faile ", "killed TE ", "timed ou "] {
            assert!(
                !text.contains(cut),
                "{w}x{h}: {cut:?} cut without a mark:\n{text}"
            );
        }
        // The demo's names fit whole at both sizes, in every pane.
        assert!(!text.contains('…'), "{w}x{h}: something is cut:\n{text}");
        assert!(text.contains("#6 Product search "), "{text}");
    }
    // The 120x40 Features pane lists dependencies whole or cut between ids with a mark.
    let text = screen(&app, 120, 40);
    assert!(text.contains("by 2, 8"), "{text}");
    assert!(!text.contains("by 2, 8, 1 "), "an id is cut:\n{text}");
    // ASCII mode cuts with dots.
    let ascii = Theme {
        ascii: true,
        ..Theme::default()
    };
    let mut narrow = App::new(demo_after(40));
    narrow.snapshot.runs[0].feature_name = Some("A very long feature name indeed".repeat(3));
    let text = draw(&narrow, ascii, 80, 24).backend().to_string();
    assert!(text.contains("A very long featur..."), "{text}");
    assert!(!text.contains('…'), "{text}");
}

#[test]
fn the_unfocused_queue_shows_its_running_and_waiting_jobs_at_80x24() {
    let app = watched(40, Pane::Agents);
    let text = screen(&app, 80, 24);
    for id in ["39", "40", "41", "42"] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(" {id} #")) && !l.contains("coding")),
            "job {id} in the Queue pane:\n{text}"
        );
    }
}

#[test]
fn the_features_id_column_is_as_wide_as_the_widest_id() {
    let mut snap = demo_after(5);
    for (f, id) in snap.features.iter_mut().zip([1190, 1199, 99_990, 99_999]) {
        f.id = FeatureId(id);
    }
    let app = App::new(snap);
    for (w, h) in [(80, 24), (120, 40), (200, 50)] {
        let text = screen(&app, w, h);
        for id in ["1190", "1199", "99990", "99999"] {
            assert!(
                text.contains(&format!(" {id} ")),
                "{w}x{h}: id {id} whole:\n{text}"
            );
        }
    }
}

#[test]
fn dashboard_after_minutes_of_the_demo_80x24() {
    insta::assert_snapshot!(draw(&watched(40, Pane::Agents), Theme::default(), 80, 24).backend());
}

#[test]
fn dashboard_after_minutes_of_the_demo_120x40() {
    insta::assert_snapshot!(draw(&watched(40, Pane::Queue), Theme::default(), 120, 40).backend());
}

fn footer(app: &App, w: u16) -> String {
    screen(app, w, 24).lines().last().unwrap().to_string()
}

fn with_notice(mut snap: Snapshot, text: &str) -> Snapshot {
    snap.notice = Some(text.into());
    snap
}

#[test]
fn a_notice_goes_on_the_next_key_or_after_a_few_seconds() {
    let mut app = watched(10, Pane::Agents);
    let now = app.now_ms;
    app.set_snapshot(with_notice(demo_after(10), "job 12 already does that work"));
    assert!(
        footer(&app, 80).contains("job 12 already"),
        "shown when it comes"
    );
    assert!(app.ticking(), "the loop wakes to take it away");
    key(&mut app, 'j');
    assert!(
        !footer(&app, 80).contains("job 12"),
        "an unrelated key: gone"
    );
    // The same notice in the next snapshot stays gone; a new one shows.
    app.set_snapshot(with_notice(demo_after(11), "job 12 already does that work"));
    assert!(!footer(&app, 80).contains("job 12"));
    app.set_snapshot(with_notice(demo_after(11), "feature 3 requeued"));
    assert!(footer(&app, 80).contains("feature 3 requeued"));
    // No key: it goes after a few seconds.
    app.now_ms = now + corral::ui::app::NOTICE_MS - 1;
    assert!(footer(&app, 80).contains("feature 3 requeued"));
    app.now_ms = now + corral::ui::app::NOTICE_MS;
    assert!(
        !footer(&app, 80).contains("requeued"),
        "{}",
        footer(&app, 80)
    );
    assert!(!app.ticking());
}

fn login_wait(step: i64) -> Snapshot {
    let mut snap = with_notice(
        demo_after(step),
        "account coding: credentials refused; log in again, then close its breaker (b, or \
         `corral breaker close coding`)",
    );
    snap.breakers = vec![BreakerView {
        account: "coding".into(),
        state: BreakerState::Open,
        failures: 3,
        until_ms: None,
        auth: true,
        login_hint: Some("run `claude` and log in".into()),
    }];
    snap
}

#[test]
fn the_breaker_key_stays_in_the_hint_bar_while_a_login_is_awaited() {
    for focus in [Pane::Queue, Pane::Agents, Pane::Features, Pane::Log] {
        let mut app = App::new(login_wait(10));
        app.focus = focus;
        let bar = footer(&app, 80);
        assert!(bar.contains("b breaker"), "{focus:?}: {bar}");
        assert!(bar.contains("credentials refused"), "{focus:?}: {bar}");
        assert!(bar.contains("? help") && bar.contains("q quit"), "{bar}");
    }
    // Without a login to wait for, `b` is hinted in the Queue pane only.
    let mut app = App::new(demo_after(10));
    assert!(!footer(&app, 80).contains("breaker"));
    app.focus = Pane::Queue;
    assert!(footer(&app, 120).contains("b breaker"));
}

fn keymap(toml: &str) -> Vec<corral::ui::keymap::Binding> {
    let config = corral::config::Config::parse(toml, "corral.toml").expect("config");
    corral::ui::keys_config::build(&config.keys).expect("keymap")
}

#[test]
fn keys_from_corral_toml_drive_the_keys_the_hint_bar_and_the_help() {
    let mut app = App::new(login_wait(10));
    app.keymap = keymap(
        "[keys]\npause = \"z\"\nclose_breaker = \"B\"\nhelp = \"f1\"\n[keys.queue]\nretry_job = \"T\"\n",
    );
    let bar = footer(&app, 120);
    assert!(bar.contains("z pause") && !bar.contains("p pause"), "{bar}");
    assert!(bar.contains("B breaker"), "the login's key follows: {bar}");
    assert!(bar.contains("f1 help"), "{bar}");
    let out = app.key(&KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE));
    assert!(
        matches!(out.commands.as_slice(), [Command::Pause { .. }]),
        "{out:?}"
    );
    assert!(
        app.key(&KeyEvent::new(KeyCode::Char('p'), KeyModifiers::NONE))
            .commands
            .is_empty()
    );
    app.focus = Pane::Queue;
    assert!(
        footer(&app, 120).contains("T retry"),
        "{}",
        footer(&app, 120)
    );
    app.key(&KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE));
    let help = screen(&app, 120, 40);
    assert!(help.contains("s/z/r     start / pause / resume"), "{help}");
    assert!(help.contains("T/c       retry / cancel"), "{help}");
    assert!(help.contains("Keys · f1 or esc to close"), "{help}");
}

#[test]
fn the_finished_line_replaces_the_unfinished_one_in_the_log_pane() {
    let mut app = watched(10, Pane::Agents);
    let run = app.log.run.expect("a run is shown");
    let line = |seq: u64, text: &str| LogLine {
        run,
        seq,
        stream: Stream::Stdout,
        at_ms: 0,
        text: text.into(),
    };
    let held = app.log.lines.len();
    assert!(app.log.push(line(12, "Overwrite cart.rs? [y/N] ")));
    assert!(screen(&app, 80, 24).contains("Overwrite cart.rs? [y/N]"));
    assert!(
        !app.log.push(line(12, "Overwrite cart.rs? [y/N] ")),
        "same: no redraw"
    );
    assert!(app.log.push(line(12, "Overwrite cart.rs? [y/N] answer y")));
    assert!(app.log.push(line(13, "done")));
    assert!(
        !app.log.push(line(11, "old")),
        "older lines are still refused"
    );
    let texts: Vec<&str> = app.log.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts.len(), held + 2);
    assert_eq!(texts[held..], ["Overwrite cart.rs? [y/N] answer y", "done"]);
}
