//! The dashboard rendered on ratatui's TestBackend, and keys turned into commands.

use corral::api::*;
use corral::ui::app::{App, Confirm, Outcome, Overlay, Pane, View};
use corral::ui::keymap::Action;
use corral::ui::render;
use corral::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

/// 10 minutes after the first run started; every uptime below is relative to it.
const NOW: i64 = 1_000_000 + 600_000;

fn feature(
    id: i64,
    cat: &str,
    name: &str,
    status: FeatureStatus,
    deps: &[i64],
    blocked: &[i64],
) -> FeatureView {
    FeatureView {
        id: FeatureId(id),
        category: cat.into(),
        name: name.into(),
        priority: 0,
        status,
        dependencies: deps.iter().map(|d| FeatureId(*d)).collect(),
        blocked_by: blocked.iter().map(|d| FeatureId(*d)).collect(),
        attempts: 1,
        usage: Default::default(),
        merge: None,
    }
}

fn run(
    id: i64,
    feature: i64,
    name: &str,
    state: RunState,
    started: i64,
    finished: Option<i64>,
) -> RunView {
    RunView {
        id: RunId(id),
        job: JobId(id),
        feature: Some(FeatureId(feature)),
        feature_name: Some(name.into()),
        profile: "coding".into(),
        role: Role::Coding,
        state,
        pid: Some(4000 + id as u32),
        started_at_ms: started,
        finished_at_ms: finished,
        kill_requested: matches!(state, RunState::Killed { .. }),
        // Live runs carry a sample: 38.4% CPU, 210 MiB over 4 processes.
        stats: state.is_live().then_some(RunStats {
            cpu_tenths: 384,
            rss_bytes: 210 << 20,
            threads: 9,
            processes: 4,
            log_bytes: 1234,
        }),
        usage: None,
        activity: None,
        waiting: None,
        session: None,
    }
}

fn job(id: i64, feature: i64, state: JobState, err: Option<&str>) -> JobView {
    JobView {
        id: JobId(id),
        profile: "coding".into(),
        account: "coding".into(),
        role: Role::Coding,
        feature: Some(FeatureId(feature)),
        feature_name: None,
        priority: 0,
        state,
        attempt: 1,
        max_attempts: 1,
        transient_attempts: 0,
        transient_budget: 20,
        available_at_ms: None,
        last_error: err.map(Into::into),
        runs: vec![RunId(id)],
        usage: Default::default(),
    }
}

/// Spend with only a cost, in millionths of a dollar.
fn dollars(micros: u64) -> Usage {
    Usage {
        cost_micros: Some(micros),
        ..Usage::default()
    }
}

fn snapshot() -> Snapshot {
    use FeatureStatus::*;
    Snapshot {
        version: 7,
        project: "/home/dev/src/shop".into(),
        max_agents: 3,
        scheduler_paused: false,
        held: None,
        paused_reason: None,
        config_error: None,
        shut_down: false,
        totals: TotalsView {
            features: 6,
            passing: 2,
            live_agents: 2,
            cpu_tenths: 768,
            rss_bytes: 420 << 20,
            usage: dollars(1_580_000),
            budget_micros: None,
        },
        features: vec![
            feature(1, "Auth", "User accounts", Passing, &[], &[]),
            feature(2, "Auth", "Login form", Passing, &[1], &[]),
            feature(3, "Catalog", "Product catalog", InProgress, &[], &[]),
            feature(4, "Cart", "Cart totals", InProgress, &[2], &[]),
            feature(5, "Checkout", "Pay by card", Blocked, &[3, 4], &[3, 4]),
            FeatureView {
                usage: Usage {
                    input_tokens: 120_000,
                    output_tokens: 8_000,
                    ..dollars(1_580_000)
                },
                ..feature(6, "Search", "Product search", Failing, &[3], &[3])
            },
        ],
        runs: vec![
            run(12, 3, "Product catalog", RunState::Running, 1_000_000, None),
            run(
                13,
                4,
                "Cart totals",
                RunState::Paused,
                1_000_000 + 540_000,
                None,
            ),
            RunView {
                usage: Some(dollars(1_160_000)),
                ..run(
                    11,
                    6,
                    "Product search",
                    RunState::Failed { code: 1 },
                    1_000_000,
                    Some(1_000_000 + 95_000),
                )
            },
            // Tokens without a price, as Codex reports them.
            RunView {
                usage: Some(Usage {
                    input_tokens: 40_000,
                    output_tokens: 5_000,
                    ..Usage::default()
                }),
                ..run(
                    10,
                    2,
                    "Login form",
                    RunState::Exited,
                    1_000_000,
                    Some(1_000_000 + 42_000),
                )
            },
        ],
        jobs: vec![
            job(12, 3, JobState::Running, None),
            job(13, 4, JobState::Running, None),
            job(11, 6, JobState::Failed, Some("exit 1")),
        ],
        breakers: Vec::new(),
        notice: None,
        notices: Vec::new(),
        // The App takes its clock from here until the event loop sets it: every time drawn
        // below is measured from NOW.
        sampled_at_ms: NOW,
        profiles: vec![
            profile("coding", Role::Coding, true, 2),
            profile("review", Role::Testing, false, 0),
        ],
    }
}

fn profile(name: &str, role: Role, enabled: bool, live_runs: usize) -> ProfileView {
    let argv = [
        "claude",
        "-p",
        "--model",
        "{model}",
        "--permission-mode",
        "acceptEdits",
    ];
    ProfileView {
        name: name.into(),
        role,
        command: argv.iter().map(|a| a.to_string()).collect(),
        model: Some("sonnet".into()),
        enabled,
        live_runs,
    }
}

fn lines(run: i64) -> Vec<LogLine> {
    let texts = [
        (
            Stream::Stdout,
            "\x1b[1m● Reading feature #3: Product catalog\x1b[0m",
        ),
        (Stream::Stdout, "  \x1b[36mRead\x1b[0m src/catalog/mod.rs"),
        (
            Stream::Stderr,
            "\x1b[33mwarning\x1b[0m: unused variable `price`",
        ),
        (
            Stream::Stdout,
            "  \x1b[36mEdit\x1b[0m src/catalog/list.rs \x1b[32m+42\x1b[0m \x1b[31m-7\x1b[0m",
        ),
        (
            Stream::Stdout,
            "test catalog::lists_products ... \x1b[32mok\x1b[0m",
        ),
        // A cursor move and a screen clear must not reach the terminal.
        (Stream::Stdout, "evil\x1b[2J\x1b[Hline\x07 with bell"),
    ];
    texts
        .iter()
        .enumerate()
        .map(|(i, (stream, text))| LogLine {
            run: RunId(run),
            seq: i as u64,
            stream: *stream,
            at_ms: 0,
            text: (*text).into(),
        })
        .collect()
}

fn app() -> App {
    let mut app = App::new(snapshot());
    app.show_log(Some(RunId(12)), lines(12));
    app
}

fn draw(app: &App, theme: Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, app, &theme)).unwrap();
    term
}

#[test]
fn dashboard_120x40() {
    insta::assert_snapshot!(draw(&app(), Theme::default(), 120, 40).backend());
}

#[test]
fn dashboard_80x24() {
    insta::assert_snapshot!(draw(&app(), Theme::default(), 80, 24).backend());
}

#[test]
fn dashboard_ascii_80x24() {
    let theme = Theme {
        color: false,
        ascii: true,
    };
    let term = draw(&app(), theme, 80, 24);
    let text = term.backend().to_string();
    // Everything corral draws is ASCII; only the agent's own output (the ● in the log) is not.
    let ours: String = text.lines().filter(|l| !l.contains('●')).collect();
    assert!(ours.is_ascii(), "{ours}");
    insta::assert_snapshot!(term.backend());
}

#[test]
fn help_overlay_80x24_lists_every_binding() {
    let mut app = app();
    app.act(Action::Help);
    let term = draw(&app, Theme::default(), 80, 24);
    let text = term.backend().to_string();
    for word in [
        "pause",
        "resume",
        "kill",
        "restart",
        "scheduler",
        "follow",
        "quit",
    ] {
        assert!(text.contains(word), "help lacks {word}");
    }
    insta::assert_snapshot!(term.backend());
}

#[test]
fn kill_confirmation_120x40() {
    let mut app = app();
    app.act(Action::Kill);
    assert_eq!(
        app.overlay,
        Some(Overlay::Confirm(Confirm::Kill(RunId(12))))
    );
    insta::assert_snapshot!(draw(&app, Theme::default(), 120, 40).backend());
}

#[test]
fn colours_follow_state_and_no_color_removes_them() {
    let term = draw(&app(), Theme::default(), 120, 40);
    let buf = term.backend().buffer();
    // Row 3 (0 header, 1 border, 2 column titles) is run 12, running: its glyph is green.
    assert_eq!(buf[(1, 3)].symbol(), "▶");
    assert_eq!(buf[(1, 3)].fg, Color::Green);
    assert_eq!(buf[(1, 4)].symbol(), "⏸");
    assert_eq!(buf[(1, 4)].fg, Color::Yellow);
    let plain = draw(
        &app(),
        Theme {
            color: false,
            ascii: false,
        },
        120,
        40,
    );
    let any_colour = plain
        .backend()
        .buffer()
        .content
        .iter()
        .any(|c| c.fg != Color::Reset || c.bg != Color::Reset);
    assert!(!any_colour, "NO_COLOR draws no colour at all");
}

#[test]
fn control_sequences_in_agent_output_never_reach_the_screen() {
    let term = draw(&app(), Theme::default(), 120, 40);
    let text = term.backend().to_string();
    assert!(text.contains("evil"), "the line is shown");
    assert!(!text.contains('\x1b') && !text.contains('\x07'));
}

#[test]
fn keys_turn_into_commands_for_the_focused_selection() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Agents);
    assert_eq!(
        app.selected_run,
        Some(RunId(12)),
        "first row selected at start"
    );
    assert_eq!(
        app.act(Action::Pause).commands,
        vec![Command::Pause { run: RunId(12) }]
    );
    app.act(Action::Down);
    assert_eq!(
        app.act(Action::Resume).commands,
        vec![Command::Resume { run: RunId(13) }]
    );
    assert_eq!(
        app.act(Action::KillNow).commands,
        vec![Command::Kill {
            run: RunId(13),
            force: true
        }]
    );
    // x asks first; y sends a kill with grace.
    assert!(app.act(Action::Kill).commands.is_empty());
    assert_eq!(
        app.answer(true).commands,
        vec![Command::Kill {
            run: RunId(13),
            force: false
        }]
    );
    // Restart on an ended run starts its feature again.
    app.act(Action::Bottom);
    assert_eq!(
        app.act(Action::Restart).commands,
        vec![Command::Restart { run: RunId(10) }]
    );
    // In the Features pane, s starts the selected feature.
    app.act(Action::NextPane);
    app.act(Action::Down);
    app.act(Action::Down);
    assert_eq!(
        app.act(Action::Start).commands,
        vec![Command::StartFeature {
            feature: FeatureId(3)
        }]
    );
    assert_eq!(
        app.log_run(),
        Some(RunId(12)),
        "the log follows the feature's run"
    );
    app.act(Action::PrevPane);
    assert_eq!(app.focus, Pane::Agents);
    assert_eq!(
        app.act(Action::ToggleScheduler).commands,
        vec![Command::SetSchedulerPaused { paused: true }]
    );
    assert_eq!(
        app.act(Action::MoreAgents).commands,
        vec![Command::SetMaxAgents { max_agents: 4 }]
    );
}

#[test]
fn quit_asks_while_agents_are_live_and_not_otherwise() {
    let mut app = app();
    assert!(app.act(Action::Quit).commands.is_empty());
    assert_eq!(
        app.overlay,
        Some(Overlay::Confirm(Confirm::Quit { live: 2 }))
    );
    assert!(
        app.answer(false).commands.is_empty(),
        "n keeps corral running"
    );
    assert!(!app.quitting);
    app.act(Action::Quit);
    assert_eq!(app.answer(true).commands, vec![Command::Shutdown]);
    assert!(app.quitting);

    let mut idle = snapshot();
    idle.runs.retain(|r| !r.state.is_live());
    let mut app = App::new(idle);
    assert_eq!(app.act(Action::Quit).commands, vec![Command::Shutdown]);
}

#[test]
fn selection_stays_on_the_same_run_when_rows_move() {
    let mut app = app();
    app.act(Action::Down);
    assert_eq!(app.selected_run, Some(RunId(13)));
    let mut next = snapshot();
    next.runs.swap(0, 1);
    app.set_snapshot(next);
    assert_eq!(app.selected_run, Some(RunId(13)));
    let mut gone = snapshot();
    gone.runs.retain(|r| r.id != RunId(13));
    app.set_snapshot(gone);
    assert_eq!(
        app.selected_run,
        Some(RunId(12)),
        "falls back to the first row"
    );
}

#[test]
fn log_view_follows_scrolls_and_ignores_other_runs() {
    let mut app = app();
    let n = app.log.lines.len();
    let other = LogLine {
        run: RunId(99),
        seq: 50,
        stream: Stream::Stdout,
        at_ms: 0,
        text: "x".into(),
    };
    assert!(!app.log.push(other));
    app.focus = Pane::Log;
    app.act(Action::Up);
    assert!(!app.log.follow);
    let next = LogLine {
        run: RunId(12),
        seq: n as u64,
        stream: Stream::Stdout,
        at_ms: 0,
        text: "new".into(),
    };
    assert!(app.log.push(next.clone()));
    assert!(
        !app.log.push(next),
        "a line already held is not added twice"
    );
    assert_eq!(
        app.log.scroll_back, 2,
        "the view stays on the lines being read"
    );
    app.act(Action::Bottom);
    assert!(app.log.follow);
}

#[test]
fn the_log_follows_the_agents_selection() {
    let mut app = app();
    assert_eq!(app.log_run(), Some(RunId(12)));
    app.act(Action::Down);
    assert_eq!(
        app.log_run(),
        Some(RunId(13)),
        "the log shows the selected agent"
    );
    app.show_log(Some(RunId(13)), Vec::new());
    app.act(Action::NextPane); // Features
    app.act(Action::NextPane); // Queue
    app.act(Action::NextPane); // Log keeps what it showed
    assert_eq!(app.log_run(), Some(RunId(13)));
}

#[test]
fn top_of_the_log_still_fills_the_pane() {
    let mut app = app();
    let many: Vec<LogLine> = (0..100)
        .map(|i| LogLine {
            run: RunId(12),
            seq: i,
            stream: Stream::Stdout,
            at_ms: 0,
            text: format!("line {i}"),
        })
        .collect();
    app.show_log(Some(RunId(12)), many);
    app.focus = Pane::Log;
    app.act(Action::Top);
    let text = draw(&app, Theme::default(), 120, 40).backend().to_string();
    assert!(
        text.contains("line 0 ") && text.contains("line 10 "),
        "a full page from the top:\n{text}"
    );
}

#[test]
fn a_long_notice_gets_room_in_the_footer_and_is_cut_visibly() {
    let mut snap = snapshot();
    snap.notice = Some(format!(
        "could not start feature 1: program `{}` not found",
        "x".repeat(80)
    ));
    let app = App::new(snap);
    let text = draw(&app, Theme::default(), 80, 24).backend().to_string();
    let footer = text.lines().last().unwrap();
    assert!(
        footer.contains("could not start feature 1") && footer.contains("…"),
        "{footer}"
    );
    assert!(
        footer.contains("help") && footer.contains("quit"),
        "{footer}"
    );
}

fn press(app: &mut App, code: KeyCode) -> Outcome {
    app.key(&KeyEvent::new(code, KeyModifiers::NONE))
}

/// Types `text` into whatever has the keys; returns every command the keys produced.
fn type_text(app: &mut App, text: &str) -> Vec<Command> {
    text.chars()
        .flat_map(|c| press(app, KeyCode::Char(c)).commands)
        .collect()
}

fn search(app: &mut App, query: &str) {
    type_text(app, "/");
    type_text(app, query);
    press(app, KeyCode::Enter);
}

/// The cells where `needle` is drawn, from the first place it occurs on screen.
fn cells_of(term: &Terminal<TestBackend>, needle: &str) -> Vec<ratatui::buffer::Cell> {
    let buf = term.backend().buffer();
    let n = needle.chars().count() as u16;
    for y in 0..buf.area.height {
        for x in 0..=buf.area.width.saturating_sub(n) {
            let cells: Vec<_> = (x..x + n).map(|i| buf[(i, y)].clone()).collect();
            if cells.iter().map(|c| c.symbol()).collect::<String>() == needle {
                return cells;
            }
        }
    }
    panic!("{needle} is not on screen:\n{}", term.backend());
}

fn log_title(term: &Terminal<TestBackend>) -> String {
    let text = term.backend().to_string();
    let title = text.lines().find(|l| l.contains(" Log ")).unwrap_or("");
    title.to_string()
}

#[test]
fn search_highlights_every_match_and_counts_in_the_title() {
    let mut app = app();
    search(&mut app, "CATALOG");
    assert!(app.overlay.is_none(), "enter closes the prompt");
    let term = draw(&app, Theme::default(), 120, 40);
    // Four lines match; the current one is the newest at or above the bottom of the view.
    assert!(
        log_title(&term).contains("/CATALOG 4/4"),
        "{}",
        log_title(&term)
    );
    let older = cells_of(&term, "src/catalog/list.rs");
    assert!(older[4..11].iter().all(|c| c.bg == Color::Yellow));
    assert!(older[..4].iter().all(|c| c.bg == Color::Reset));
    let current = cells_of(&term, "test catalog::");
    assert!(current[5..12].iter().all(|c| c.bg == Color::LightRed));
    assert_eq!(current[12].bg, Color::Reset);
    // Without colour, matches are reversed, the current one bold as well.
    let plain = Theme {
        color: false,
        ascii: false,
    };
    let term = draw(&app, plain, 120, 40);
    let older = cells_of(&term, "src/catalog/list.rs");
    assert!(older[4].modifier.contains(Modifier::REVERSED));
    assert!(!older[4].modifier.contains(Modifier::BOLD));
    let current = cells_of(&term, "test catalog::");
    assert!(
        current[5]
            .modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
    // A new line that matches counts at once.
    let n = app.log.lines.len() as u64;
    app.log.push(LogLine {
        run: RunId(12),
        seq: n,
        stream: Stream::Stdout,
        at_ms: 0,
        text: "catalog done".into(),
    });
    let term = draw(&app, Theme::default(), 120, 40);
    assert!(
        log_title(&term).contains("/CATALOG 4/5"),
        "{}",
        log_title(&term)
    );
    // Esc with nothing open clears the search.
    press(&mut app, KeyCode::Esc);
    assert!(!log_title(&draw(&app, Theme::default(), 120, 40)).contains("CATALOG"));
}

#[test]
fn n_and_shift_n_move_between_matches_wrap_and_scroll_to_them() {
    let mut app = app();
    let many: Vec<LogLine> = (0..200)
        .map(|i| LogLine {
            run: RunId(12),
            seq: i,
            stream: Stream::Stdout,
            at_ms: 0,
            text: if i % 60 == 10 {
                format!("line {i} needle")
            } else {
                format!("line {i}")
            },
        })
        .collect();
    app.show_log(Some(RunId(12)), many);
    draw(&app, Theme::default(), 120, 40); // the pane's size is known after a draw
    search(&mut app, "needle");
    let shows = |app: &App, what: &str| {
        let term = draw(app, Theme::default(), 120, 40);
        let text = term.backend().to_string();
        let title = log_title(&term);
        (text.contains(what), title)
    };
    // Matches on lines 10, 70, 130 and 190; following, the view ends at 199.
    let (seen, title) = shows(&app, "line 190 needle");
    assert!(seen && title.contains("4/4"), "{title}");
    assert!(!app.log.follow, "a match pins the view");
    type_text(&mut app, "n");
    let (seen, title) = shows(&app, "line 10 needle");
    assert!(seen && title.contains("1/4"), "{title}");
    assert_eq!(app.message.as_deref(), Some("search wrapped to the top"));
    type_text(&mut app, "n");
    let (seen, title) = shows(&app, "line 70 needle");
    assert!(seen && title.contains("2/4"), "{title}");
    type_text(&mut app, "NN");
    let (seen, title) = shows(&app, "line 190 needle");
    assert!(seen && title.contains("4/4"), "{title}");
    assert_eq!(app.message.as_deref(), Some("search wrapped to the bottom"));
}

#[test]
fn a_search_without_match_says_so_and_does_not_move() {
    let mut app = app();
    search(&mut app, "zebra");
    type_text(&mut app, "nN");
    assert!(app.log.follow && app.log.scroll_back == 0);
    let term = draw(&app, Theme::default(), 120, 40);
    assert!(
        log_title(&term).contains("/zebra no match"),
        "{}",
        log_title(&term)
    );
}

#[test]
fn the_search_prompt_edits_at_the_bottom_of_the_log_with_a_cursor() {
    let mut app = app();
    type_text(&mut app, "/catx");
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Home);
    let mut term = draw(&app, Theme::default(), 80, 24);
    let text = term.backend().to_string();
    let bottom = text.lines().rev().nth(2).unwrap().trim_matches('"');
    assert!(bottom.starts_with("│/cat "), "{bottom}");
    assert!(text.lines().last().unwrap().contains("enter search"));
    // The terminal's cursor sits on the prompt, after the slash (Home moved it to the start).
    assert_eq!(
        term.get_cursor_position().unwrap(),
        ratatui::layout::Position::new(2, 21)
    );
}

#[test]
fn i_sends_one_line_to_the_running_agent_and_esc_sends_nothing() {
    let mut app = app();
    type_text(&mut app, "i");
    let text = draw(&app, Theme::default(), 80, 24).backend().to_string();
    assert!(text.contains("Send to run 12 (stdin)"), "{text}");
    assert!(
        type_text(&mut app, "yes, quit").is_empty(),
        "q and x type letters"
    );
    assert!(!app.quitting);
    assert_eq!(
        press(&mut app, KeyCode::Enter).commands,
        vec![Command::SendInput {
            run: RunId(12),
            text: "yes, quit".into()
        }]
    );
    assert!(app.overlay.is_none());
    type_text(&mut app, "ixq");
    assert!(press(&mut app, KeyCode::Esc).commands.is_empty());
    assert!(app.overlay.is_none() && !app.quitting);
}

#[test]
fn i_on_an_agent_that_is_not_running_says_so_and_swallows_what_is_typed_next() {
    let mut app = app();
    app.act(Action::Down); // run 13, paused
    // A person types `i`, then the line meant for the agent: none of it may act as a key.
    assert!(type_text(&mut app, "i quit now").is_empty());
    assert_eq!(
        app.overlay,
        Some(Overlay::Notice(
            "run 13 is paused: only a running agent takes input".into()
        ))
    );
    assert!(!app.quitting && !matches!(app.overlay, Some(Overlay::Confirm(_))));
    let text = draw(&app, Theme::default(), 80, 24).backend().to_string();
    assert!(text.contains("only a running agent takes input"), "{text}");
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    app.key(&esc);
    assert!(app.overlay.is_none());
}

#[test]
fn q_in_the_search_prompt_is_a_letter() {
    let mut app = app();
    assert!(type_text(&mut app, "/q").is_empty());
    assert!(!app.quitting);
    assert!(matches!(app.overlay, Some(Overlay::Prompt(_))));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert!(
        app.key(&ctrl_c).commands.is_empty(),
        "ctrl-c cancels the prompt"
    );
    assert!(app.overlay.is_none() && !app.quitting);
}

#[test]
fn escape_sequences_other_than_colour_never_reach_the_screen() {
    let mut app = app();
    let nasty = [
        "title\x1b]0;pwned\x07 after", // OSC window title, BEL-terminated
        "link \x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\ end", // OSC 8 hyperlink, ST-terminated
        "move\x1b[10;10Hcursor\x1b[?25l hidden", // cursor position, hide cursor
        "clear\x1b[2J\x1bc reset",     // erase display, full reset
        "\x1b[31mred\x1b[0m stays coloured",
    ];
    let lines = nasty
        .iter()
        .enumerate()
        .map(|(i, t)| LogLine {
            run: RunId(12),
            seq: i as u64,
            stream: Stream::Stdout,
            at_ms: 0,
            text: (*t).into(),
        })
        .collect();
    app.show_log(Some(RunId(12)), lines);
    let term = draw(&app, Theme::default(), 120, 40);
    let text = term.backend().to_string();
    for ch in ['\x1b', '\x07'] {
        assert!(!text.contains(ch), "a control character reached the screen");
    }
    assert!(
        !text.contains("pwned") && !text.contains("]0;") && !text.contains("]8;"),
        "{text}"
    );
    assert!(
        text.contains("title") && text.contains(" after") && text.contains("here"),
        "{text}"
    );
    let buf = term.backend().buffer();
    let red = buf
        .content
        .iter()
        .any(|c| c.symbol() == "r" && c.fg == Color::Red);
    assert!(red, "SGR colour survives");
}

/// Feature 6 as the runtime would read it: a wrapped description, steps, one dependency and
/// two runs (newest first).
fn search_detail() -> FeatureDetail {
    let run = |id: i64, state: RunState, code: Option<i32>, start: i64, end: i64| RunSummary {
        id: RunId(id),
        profile: "coding".into(),
        role: Role::Coding,
        state,
        exit_code: code,
        started_at_ms: start,
        finished_at_ms: Some(end),
        usage: Some(dollars(if id == 11 { 1_160_000 } else { 420_000 })),
    };
    FeatureDetail {
        id: FeatureId(6),
        category: "Search".into(),
        name: "Product search".into(),
        description: "Customers search the catalog by name and tag. Results are ranked by \
            relevance, then by price; an empty query lists nothing.\n\
            Typing stays responsive with 10,000 products."
            .into(),
        steps: vec![
            "Add a search box to the header".into(),
            "GET /search?q= returns matching products, best first, as JSON".into(),
            "Show \"no results\" for an empty match".into(),
        ],
        priority: 0,
        status: FeatureStatus::Failing,
        attempts: 1,
        last_error: Some("exit 1: test search::ranks_by_relevance failed".into()),
        dependency_chain: vec![FeatureId(3)],
        runs: vec![
            run(
                11,
                RunState::Failed { code: 1 },
                Some(1),
                1_000_000,
                1_095_000,
            ),
            run(
                7,
                RunState::Killed { signal: Some(15) },
                None,
                400_000,
                460_000,
            ),
        ],
    }
}

fn screen(app: &App, w: u16, h: u16) -> String {
    draw(app, Theme::default(), w, h).backend().to_string()
}

/// The title row of the Features pane (the second line on screen).
fn features_title(app: &App) -> String {
    let text = screen(app, 120, 40);
    let row = text.lines().nth(1).unwrap_or("");
    row.split('┌')
        .nth(1)
        .or(row.split('┏').nth(2))
        .unwrap_or(row)
        .to_string()
}

/// The app with the Features pane focused, on its last feature (6, failing).
fn on_features() -> App {
    let mut app = app();
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Features);
    type_text(&mut app, "G");
    assert_eq!(app.selected_feature, Some(FeatureId(6)));
    app
}

#[test]
fn number_keys_filter_the_features_pane_by_status_and_the_title_says_so() {
    let mut app = on_features();
    type_text(&mut app, "3");
    assert!(
        features_title(&app).contains("Features · in progress 2/6"),
        "{}",
        features_title(&app)
    );
    assert_eq!(
        app.selected_feature,
        Some(FeatureId(3)),
        "moved onto a listed row"
    );
    type_text(&mut app, "j");
    assert_eq!(app.selected_feature, Some(FeatureId(4)));
    type_text(&mut app, "j");
    assert_eq!(app.selected_feature, Some(FeatureId(4)), "only listed rows");
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("Cart totals") && !text.contains("User accounts"),
        "{text}"
    );
    for (key, shown) in [
        ("1", "ready 0/6"),
        ("2", "blocked 1/6"),
        ("4", "passing 2/6"),
    ] {
        type_text(&mut app, key);
        assert!(
            features_title(&app).contains(shown),
            "{key}: {}",
            features_title(&app)
        );
    }
    type_text(&mut app, "5");
    assert_eq!(app.selected_feature, Some(FeatureId(6)));
    type_text(&mut app, "6");
    assert_eq!(app.selected_feature, None, "nothing has failed for good");
    assert!(features_title(&app).contains("failed 0/6"));
    type_text(&mut app, "0");
    assert!(features_title(&app).contains("Features 2/6 passing"));
    assert_eq!(app.selected_feature, Some(FeatureId(1)));
    // Digits mean nothing in the other panes.
    press(&mut app, KeyCode::BackTab);
    type_text(&mut app, "5");
    assert_eq!(app.filter.status, None);
}

#[test]
fn the_filter_prompt_matches_name_or_category_in_any_case() {
    let mut app = on_features();
    type_text(&mut app, "Fproduct");
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("filter: product"),
        "the prompt sits in the pane:\n{text}"
    );
    assert!(text.lines().last().unwrap().contains("enter filter"));
    press(&mut app, KeyCode::Enter);
    assert!(features_title(&app).contains("Features · \"product\" 2/6"));
    assert_eq!(
        app.selected_feature,
        Some(FeatureId(6)),
        "still listed: kept"
    );
    // A category matches too, and the text combines with a status.
    type_text(&mut app, "F");
    app.key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    type_text(&mut app, "AUTH");
    press(&mut app, KeyCode::Enter);
    assert!(
        features_title(&app).contains("\"AUTH\" 2/6"),
        "{}",
        features_title(&app)
    );
    assert_eq!(app.selected_feature, Some(FeatureId(1)));
    type_text(&mut app, "5");
    assert!(features_title(&app).contains("failing \"AUTH\" 0/6"));
    // Esc leaves the filter as it was; an empty one removes the text.
    type_text(&mut app, "0Fxyz");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.filter.text, "AUTH");
    type_text(&mut app, "F");
    app.key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    press(&mut app, KeyCode::Enter);
    assert!(features_title(&app).contains("Features 2/6 passing"));
}

#[test]
fn enter_asks_for_the_detail_and_shows_it_when_it_comes() {
    let mut app = on_features();
    let out = press(&mut app, KeyCode::Enter);
    assert_eq!(out.want_detail, Some(FeatureId(6)));
    assert!(out.commands.is_empty());
    assert!(screen(&app, 80, 24).contains("reading the feature..."));
    // An answer for another feature (a late one) is dropped.
    app.set_detail(FeatureId(3), None);
    assert!(screen(&app, 80, 24).contains("reading the feature..."));
    app.set_detail(FeatureId(6), Some(search_detail()));
    let text = screen(&app, 120, 40);
    for part in [
        "#6 Product search",
        "last error exit 1: test search::ranks_by_relevance failed",
        "ranked by relevance",
        "  1. Add a search box to the header",
        "  3. Show \"no results\" for an empty match",
        "▶ #3 Product catalog  in progress",
        "  11    coding     failed 1     1     10m00s ago  1m35s",
        "  7     coding     killed TERM  -     20m00s ago  1m00s",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    let t = text.find("  11 ").unwrap();
    assert!(t < text.find("  7 ").unwrap(), "newest first");
    // Esc goes back to the panes, with the selection where it was.
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Dashboard);
    assert_eq!(app.selected_feature, Some(FeatureId(6)));
}

fn detail_app() -> App {
    let mut app = on_features();
    press(&mut app, KeyCode::Enter);
    app.set_detail(FeatureId(6), Some(search_detail()));
    app
}

#[test]
fn feature_detail_120x40() {
    insta::assert_snapshot!(draw(&detail_app(), Theme::default(), 120, 40).backend());
}

#[test]
fn feature_detail_80x24() {
    insta::assert_snapshot!(draw(&detail_app(), Theme::default(), 80, 24).backend());
}

#[test]
fn the_detail_scrolls_with_j_and_k_when_taller_than_the_screen() {
    let mut app = detail_app();
    let text = screen(&app, 80, 24);
    assert!(text.contains("j/k scroll") && !text.contains("Runs, newest first"));
    type_text(&mut app, "G");
    let text = screen(&app, 80, 24);
    assert!(
        text.contains("killed TERM") && !text.contains("category"),
        "{text}"
    );
    type_text(&mut app, "kg");
    assert!(screen(&app, 80, 24).contains("category"));
}

#[test]
fn a_snapshot_that_changes_the_feature_asks_for_its_detail_again() {
    let mut app = detail_app();
    assert_eq!(
        app.set_snapshot(snapshot()).want_detail,
        None,
        "nothing changed"
    );
    let mut next = snapshot();
    next.features[5].attempts = 2;
    assert_eq!(app.set_snapshot(next).want_detail, Some(FeatureId(6)));
    let mut next = snapshot();
    next.features[5].attempts = 2;
    next.runs[2].state = RunState::Killed { signal: None };
    assert_eq!(
        app.set_snapshot(next).want_detail,
        Some(FeatureId(6)),
        "its run changed"
    );
    app.escape();
    assert_eq!(
        app.set_snapshot(snapshot()).want_detail,
        None,
        "closed: nothing to read"
    );
}

#[test]
fn feature_keys_ask_then_send_exactly_one_command() {
    let six = FeatureId(6);
    for mut app in [on_features(), detail_app()] {
        assert!(type_text(&mut app, "u").is_empty());
        assert_eq!(app.overlay, Some(Overlay::Confirm(Confirm::Requeue(six))));
        assert!(screen(&app, 120, 40).contains("Requeue #6 Product search?"));
        assert_eq!(
            type_text(&mut app, "y"),
            [Command::RequeueFeature { feature: six }]
        );
        assert!(type_text(&mut app, "an").is_empty(), "n: nothing sent");
        assert!(type_text(&mut app, "A").is_empty());
        assert!(screen(&app, 120, 40).contains("Mark #6 Product search failing by hand?"));
        let failing = Command::MarkFeature {
            feature: six,
            passing: false,
        };
        assert_eq!(type_text(&mut app, "y"), [failing]);
        let passing = Command::MarkFeature {
            feature: six,
            passing: true,
        };
        assert_eq!(type_text(&mut app, "ay"), [passing]);
        assert!(press(&mut app, KeyCode::Char('u')).commands.is_empty());
        assert!(
            press(&mut app, KeyCode::Esc).commands.is_empty(),
            "esc is no"
        );
        assert_eq!(app.overlay, None);
        // Priority goes at once, from the snapshot's value (0), and presses add up.
        let prio = |priority| Command::SetPriority {
            feature: six,
            priority,
        };
        assert_eq!(type_text(&mut app, "["), [prio(-1)]);
        assert_eq!(type_text(&mut app, "]]"), [prio(0), prio(1)]);
    }
    // The runtime would refuse to requeue a feature in progress: nothing is asked.
    let mut app = on_features();
    type_text(&mut app, "gjj");
    assert!(type_text(&mut app, "uy").is_empty());
    assert_eq!(
        app.message.as_deref(),
        Some("#3 is in progress: not requeued")
    );
    // In the Agents pane these keys mean nothing.
    let mut agents = self::app();
    assert!(type_text(&mut agents, "uaA[]").is_empty());
    assert_eq!(agents.overlay, None);
}

#[test]
fn profiles_view_lists_profiles_and_e_toggles_the_selected_one() {
    let mut app = app();
    type_text(&mut app, "P");
    assert_eq!(app.view, View::Profiles);
    let text = screen(&app, 80, 24);
    for part in [
        "name",
        "command",
        "coding",
        "claude -p --model",
        "sonnet",
        "yes",
        "no",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    assert!(
        text.contains("…") && !text.contains("acceptEdits"),
        "long commands are cut"
    );
    assert!(text.lines().last().unwrap().contains("e on/off"));
    let enable = |profile: &str, enabled| Command::SetProfileEnabled {
        profile: profile.into(),
        enabled,
    };
    assert_eq!(type_text(&mut app, "e"), [enable("coding", false)]);
    assert_eq!(type_text(&mut app, "je"), [enable("review", true)]);
    assert_eq!(
        type_text(&mut app, "je"),
        [enable("review", true)],
        "j stops at the end"
    );
    assert!(
        type_text(&mut app, "sxp").is_empty(),
        "pane keys do nothing here"
    );
    type_text(&mut app, "P");
    assert_eq!(app.view, View::Dashboard);
    type_text(&mut app, "P");
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Dashboard);
    assert!(
        type_text(&mut app, "e").is_empty(),
        "e is for the Profiles view"
    );
}

#[test]
fn profiles_view_120x40() {
    let mut app = app();
    type_text(&mut app, "Pj");
    insta::assert_snapshot!(draw(&app, Theme::default(), 120, 40).backend());
}

#[test]
fn the_features_pane_shows_attempts_from_120_columns() {
    let mut snap = snapshot();
    snap.features[5].attempts = 3;
    let app = App::new(snap);
    let text = screen(&app, 160, 40);
    assert!(text.contains(" try deps"), "{text}");
    assert!(text.contains("failing       3 deps 3"), "{text}");
    // At 120x40 the name has the room first: the attempts give way.
    let at_120 = screen(&app, 120, 40);
    assert!(at_120.contains("Product search    failing"), "{at_120}");
    let narrow = screen(&app, 80, 24);
    let titles = narrow.lines().find(|l| l.contains(" name ")).unwrap();
    let features_titles = titles.split(" name ").nth(1).unwrap();
    assert!(
        !features_titles.contains("try"),
        "not when narrow: {titles}"
    );
}

#[test]
fn help_at_80x24_leaves_the_header_and_hint_bar_in_view() {
    let mut app = app();
    type_text(&mut app, "?");
    let text = screen(&app, 80, 24);
    assert!(text.lines().next().unwrap().contains("corral shop"));
    assert!(text.lines().last().unwrap().contains("? help"));
    assert!(!text.contains("j/k scroll"), "everything fits");
    // Smaller, it scrolls.
    let small = screen(&app, 80, 16);
    assert!(small.contains("j/k scroll") && !small.contains("enable/disable"));
    type_text(&mut app, "G");
    assert!(screen(&app, 80, 16).contains("enable/disable"));
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);
}

#[test]
fn the_kill_question_is_whole_at_80x24() {
    let mut app = app();
    app.act(Action::Kill);
    let text = draw(&app, Theme::default(), 80, 24).backend().to_string();
    let joined: String = text
        .lines()
        .map(|l| l.trim_matches(|c| c == '"' || c == '│' || c == '┃' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains("grace period."), "{text}");
    assert!(text.contains("y yes"), "{text}");
}

/// A breaker as the header and the Queue pane see it.
fn breaker(account: &str, state: BreakerState, until_ms: Option<i64>, auth: bool) -> BreakerView {
    BreakerView {
        account: account.into(),
        state,
        failures: 0,
        until_ms,
        auth,
        login_hint: auth.then(|| "run `claude` and type /login, then press b".into()),
    }
}

/// Jobs in every state, in the order the runtime lists them: running, waiting in start order
/// (one held by its account's open breaker, one backing off for another 65 s), then ended,
/// newest first.
fn queue_snapshot() -> Snapshot {
    let mut s = snapshot();
    let named = |j: JobView, name: &str, attempt: u32| JobView {
        feature_name: Some(name.into()),
        account: "anthropic-main".into(),
        attempt,
        max_attempts: 3,
        ..j
    };
    s.jobs = vec![
        named(job(12, 3, JobState::Running, None), "Product catalog", 1),
        JobView {
            profile: "review".into(),
            role: Role::Testing,
            priority: -1,
            ..named(job(17, 2, JobState::Queued, None), "Login form", 0)
        },
        JobView {
            profile: "codex".into(),
            account: "openai-team".into(),
            priority: 2,
            ..named(job(16, 5, JobState::Queued, None), "Pay by card", 0)
        },
        JobView {
            transient_attempts: 4,
            available_at_ms: Some(NOW + 65_000),
            ..named(
                job(
                    15,
                    4,
                    JobState::Backoff,
                    Some("429 Too Many Requests: rate limited (retry-after 60)"),
                ),
                "Cart totals",
                2,
            )
        },
        named(
            job(
                11,
                6,
                JobState::Failed,
                // Agent text: colours, a newline and a cursor move, all to be flattened.
                Some(
                    "exit 1: test search::ranks_by_relevance failed\n\x1b[31mpanicked\x1b[0m at src/search.rs:42\x1b[2J",
                ),
            ),
            "Product search",
            3,
        ),
        JobView {
            usage: dollars(420_000),
            ..named(job(10, 2, JobState::Done, None), "Login form", 1)
        },
        named(
            job(9, 1, JobState::Cancelled, Some("cancelled by request")),
            "User accounts",
            1,
        ),
    ];
    s.breakers = vec![
        breaker("anthropic-main", BreakerState::Closed, None, false),
        breaker("openai-team", BreakerState::Open, Some(NOW + 80_000), false),
    ];
    s
}

/// The queue app with the Queue pane focused, on its first job (12, running).
fn on_queue() -> App {
    let mut app = App::new(queue_snapshot());
    app.show_log(Some(RunId(12)), lines(12));
    type_text(&mut app, "\t");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    assert_eq!(app.focus, Pane::Queue);
    assert_eq!(app.selected_job, Some(JobId(12)));
    app
}

/// Moves the Queue pane's selection onto job `id`.
fn select_job(app: &mut App, id: i64) {
    type_text(app, "g");
    while app.selected_job != Some(JobId(id)) {
        let before = app.selected_job;
        type_text(app, "j");
        assert_ne!(before, app.selected_job, "job {id} is not listed");
    }
}

#[test]
fn queue_pane_120x40() {
    let term = draw(&on_queue(), Theme::default(), 120, 40);
    let text = term.backend().to_string();
    for part in [
        "running",
        "queued",
        "backoff",
        "done",
        "failed",
        "cancelled",
        "in 1m05s",
        "breaker 1m20s",
        "2/3 ~4/20",
        "#4 Cart totals",
        // One line, colours and the newline gone, cut to the column with an ellipsis.
        "exit 1: test search::ranks_by_relevance failed …",
        // A job's priority when not 0.
        "17 p-1",
        "16 p+2",
        // The Queue pane's own keys first in the hint bar, R labelled for what it does here.
        " R retry  c cancel  [ ] priority  b breaker  s start",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    assert!(!text.contains("12 p"), "no marker at priority 0");
    assert!(!text.contains("restart"), "R retries in the Queue pane");
    assert!(!text.contains('\x1b'));
    // Each state has its colour.
    assert_eq!(cells_of(&term, "backoff   2/3")[0].fg, Color::Yellow);
    assert_eq!(cells_of(&term, "↻ 15")[0].fg, Color::Yellow);
    assert_eq!(cells_of(&term, "failed    3/3")[0].fg, Color::Red);
    assert_eq!(cells_of(&term, "cancelled 1/3")[0].fg, Color::DarkGray);
    assert_eq!(cells_of(&term, "in 1m05s")[0].fg, Color::Yellow);
    insta::assert_snapshot!(term.backend());
}

#[test]
fn queue_pane_80x24() {
    let term = draw(&on_queue(), Theme::default(), 80, 24);
    let text = term.backend().to_string();
    for part in [
        "in 1m05s",
        "brk 1m20s",
        "2/3 ~4 ",
        "cancelled",
        "exit 1: test",
    ] {
        assert!(text.contains(part), "{part:?} missing:\n{text}");
    }
    assert!(
        !text.contains("profile"),
        "the profile goes first when narrow"
    );
    insta::assert_snapshot!(term.backend());
}

#[test]
fn countdowns_follow_the_apps_clock_and_say_when_they_tick() {
    let mut app = on_queue();
    assert!(app.counting_down());
    app.now_ms = NOW + 1_000;
    assert!(screen(&app, 120, 40).contains("in 1m04s"));
    app.now_ms = NOW + 64_001;
    assert!(
        screen(&app, 120, 40).contains("in 1s"),
        "rounded up, never 0s"
    );
    app.now_ms = NOW + 65_000;
    let text = screen(&app, 120, 40);
    assert!(
        text.contains(" now ") && text.contains("breaker 15s"),
        "{text}"
    );
    assert!(app.counting_down(), "the breaker still counts");
    app.now_ms = NOW + 80_000;
    assert!(
        !app.counting_down(),
        "both ran out: no tick until a snapshot comes"
    );
    app.now_ms = NOW;
    // A breaker that holds the account past the backoff is what the backoff waits for.
    let mut held = queue_snapshot();
    held.breakers[0] = breaker(
        "anthropic-main",
        BreakerState::Open,
        Some(NOW + 200_000),
        false,
    );
    app.set_snapshot(held);
    let text = screen(&app, 120, 40);
    assert!(text.contains("2/3 ~4/20 breaker 3m20s"), "{text}");
    assert!(!text.contains("in 1m05s"), "{text}");
    // Nothing counts down: no backoff, and a breaker that waits for a login has no time.
    let mut idle = queue_snapshot();
    idle.jobs.retain(|j| j.state != JobState::Backoff);
    idle.breakers[1] = breaker("openai-team", BreakerState::Open, None, true);
    app.set_snapshot(idle);
    assert!(!app.counting_down());
    assert!(screen(&app, 120, 40).contains("login"));
    assert!(!App::new(snapshot()).counting_down());
}

#[test]
fn header_shows_breakers_the_login_hint_and_spend_against_the_budget() {
    let mut snap = snapshot();
    snap.breakers = vec![
        breaker("anthropic-main", BreakerState::Open, None, true),
        breaker("openai-team", BreakerState::Open, Some(NOW + 80_000), false),
    ];
    snap.totals.usage = dollars(21_000_000);
    snap.totals.budget_micros = Some(25_000_000);
    let app = App::new(snap.clone());
    let term = draw(&app, Theme::default(), 120, 40);
    // Too much for one line: the counts keep theirs, the alerts go on a second one.
    let header = term
        .backend()
        .to_string()
        .lines()
        .take(2)
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(header);
    assert_eq!(cells_of(&term, "login needed")[0].fg, Color::Yellow);
    assert_eq!(
        cells_of(&term, "$21.00/$25.00")[0].fg,
        Color::Yellow,
        "past 80%"
    );
    // Narrow, the login hint still leads.
    let narrow = screen(&app, 80, 24);
    let top: Vec<&str> = narrow.lines().take(2).collect();
    assert!(top[0].contains("corral shop ─ 2/6"), "{narrow}");
    assert!(top[1].contains("anthropic-main: login needed"), "{narrow}");
    // A third breaker leaves no room for each: they are summed up.
    snap.breakers
        .push(breaker("gemini", BreakerState::HalfOpen, None, false));
    let text = screen(&App::new(snap.clone()), 160, 40);
    assert!(text.contains("⏸ gemini half-open"), "{text}");
    let text = screen(&App::new(snap.clone()), 120, 40);
    assert!(!text.contains("gemini"), "{text}");
    // Spent: the error colour.
    snap.totals.usage = dollars(25_000_000);
    snap.breakers.clear();
    let term = draw(&App::new(snap), Theme::default(), 120, 40);
    assert_eq!(cells_of(&term, "$25.00/$25.00")[0].fg, Color::Red);
}

#[test]
fn queue_keys_retry_cancel_reprioritise_and_close_breakers() {
    let mut app = on_queue();
    // R on a running job restarts its run, as in the other panes; on a waiting one it retries.
    assert_eq!(
        type_text(&mut app, "R"),
        [Command::Restart { run: RunId(12) }]
    );
    select_job(&mut app, 15);
    assert_eq!(
        type_text(&mut app, "R"),
        [Command::RetryJob { job: JobId(15) }]
    );
    let prio = |priority| Command::SetJobPriority {
        job: JobId(15),
        priority,
    };
    assert_eq!(type_text(&mut app, "["), [prio(-1)]);
    assert_eq!(type_text(&mut app, "]"), [prio(0)]);
    // A burst of presses, before any new snapshot, adds up.
    assert_eq!(type_text(&mut app, "[[["), [prio(-1), prio(-2), prio(-3)]);
    assert_eq!(type_text(&mut app, "]]]"), [prio(-2), prio(-1), prio(0)]);
    // c asks; n sends nothing, y cancels.
    assert!(type_text(&mut app, "c").is_empty());
    assert_eq!(
        app.overlay,
        Some(Overlay::Confirm(Confirm::CancelJob(JobId(15))))
    );
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("Cancel job 15 (coding #4 Cart totals)?"),
        "{text}"
    );
    assert!(type_text(&mut app, "n").is_empty());
    assert_eq!(
        type_text(&mut app, "cy"),
        [Command::CancelJob { job: JobId(15) }]
    );
    // An ended job: nothing to cancel or reorder, and it says so.
    select_job(&mut app, 10);
    assert!(type_text(&mut app, "c[").is_empty());
    assert_eq!(app.overlay, None);
    assert_eq!(
        app.message.as_deref(),
        Some("job 10 is done: priority unchanged")
    );
    // A failed job gets fresh attempts.
    select_job(&mut app, 11);
    assert_eq!(
        type_text(&mut app, "R"),
        [Command::RetryJob { job: JobId(11) }]
    );
    // b: the selected job's breaker when it is open, else the only open one, from anywhere.
    let close = |account: &str| Command::CloseBreaker {
        account: account.into(),
    };
    select_job(&mut app, 16);
    assert_eq!(type_text(&mut app, "b"), [close("openai-team")]);
    select_job(&mut app, 12);
    assert_eq!(type_text(&mut app, "b"), [close("openai-team")]);
    press(&mut app, KeyCode::Tab);
    assert_eq!(type_text(&mut app, "b"), [close("openai-team")]);
    type_text(&mut app, "P");
    assert_eq!(
        type_text(&mut app, "b"),
        [close("openai-team")],
        "in a view too"
    );
    // Two open, none picked: it says how to pick. None open: it says so.
    let mut two = queue_snapshot();
    two.breakers[0] = breaker("anthropic-main", BreakerState::HalfOpen, None, false);
    let mut app = App::new(two);
    assert!(type_text(&mut app, "b").is_empty());
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("2 breakers are open")
    );
    let mut app = self::app();
    assert!(type_text(&mut app, "b").is_empty());
    assert_eq!(app.message.as_deref(), Some("no breaker is open"));
    // The queue keys mean nothing in the Agents pane (and [ ] there are not the feature's).
    assert!(type_text(&mut app, "c[]").is_empty());
    assert_eq!(app.overlay, None);
}

#[test]
fn the_queue_pane_grows_to_show_its_jobs_when_focused() {
    let app = on_queue();
    let text = screen(&app, 80, 24);
    assert!(text.contains("#1 User") && text.contains("Log"), "{text}");
    let mut unfocused = App::new(queue_snapshot());
    unfocused.show_log(Some(RunId(12)), lines(12));
    assert!(!screen(&unfocused, 80, 24).contains("#1 User"));
}

/// The selected run ended and its job starts again (a retry after a rate limit, say): the
/// selection, and so the Log pane, follows the job to its new run, once.
#[test]
fn the_selection_follows_a_job_to_its_next_run() {
    let mut app = App::new(snapshot());
    type_text(&mut app, "jj");
    assert_eq!(app.selected_run, Some(RunId(11)));
    let mut next = snapshot();
    let mut retry = run(14, 6, "Product search", RunState::Running, 2_000_000, None);
    retry.job = JobId(11);
    next.runs.insert(0, retry);
    app.set_snapshot(next.clone());
    assert_eq!(app.selected_run, Some(RunId(14)));
    // A person going back to the old run stays there.
    type_text(&mut app, "jjj");
    assert_eq!(app.selected_run, Some(RunId(11)));
    app.set_snapshot(next);
    assert_eq!(app.selected_run, Some(RunId(11)));
}

#[test]
fn attached_the_app_log_view_shows_the_daemons_log_above_the_dashboards_own() {
    let mut app = app();
    app.attached = true;
    app.show_app_log = true;
    app.daemon_log = Some(vec![
        "2026-12-03 19:00:00 INFO run 12: started coding".into(),
        "2026-12-03 19:00:01 WARN a \u{1b}[2Jwarning".into(),
    ]);
    let text = screen(&app, 120, 40);
    assert!(text.contains("daemon log"), "{text}");
    assert!(text.contains("run 12: started coding"), "{text}");
    assert!(text.contains("this dashboard"), "{text}");
    // Escapes in the daemon's lines are shown, never obeyed.
    assert!(text.contains("\\u{1b}[2Jwarning"), "{text}");
    // In-process there is one log: this process's own.
    app.attached = false;
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("corral log") && !text.contains("daemon log"),
        "{text}"
    );
}

/// Attached to a daemon, `q` detaches at once and the hint bar says so; `Q` asks, then stops
/// the daemon's agents.
#[test]
fn attached_q_detaches_and_the_hint_bar_says_so() {
    let mut app = app();
    assert!(screen(&app, 120, 40).contains("q quit"));
    app.attached = true;
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("q detach"), "{shown}");
    assert!(app.act(Action::Quit).commands.is_empty());
    assert!(app.detached && app.overlay.is_none());

    let mut stopping = self::app();
    stopping.attached = true;
    stopping.act(Action::StopAll);
    assert_eq!(
        stopping.overlay,
        Some(Overlay::Confirm(Confirm::Quit { live: 2 }))
    );
    assert_eq!(stopping.answer(true).commands, vec![Command::Shutdown]);
}

/// The demo's `q` asks; Enter (like `y`) stops its daemon, `k` keeps it running.
#[test]
fn the_demos_q_asks_and_stops_by_default_or_keeps_it_running() {
    let demo = || {
        let mut app = app();
        app.attached = true;
        app.demo = true;
        app
    };
    let mut app = demo();
    assert!(press(&mut app, KeyCode::Char('q')).commands.is_empty());
    assert_eq!(
        app.overlay,
        Some(Overlay::Confirm(Confirm::QuitDemo { live: 2 }))
    );
    let shown = screen(&app, 120, 40);
    assert!(shown.contains("k keep it running"), "{shown}");
    assert_eq!(
        press(&mut app, KeyCode::Enter).commands,
        vec![Command::Shutdown]
    );
    assert!(app.quitting && !app.detached);

    let mut app = demo();
    press(&mut app, KeyCode::Char('q'));
    assert!(press(&mut app, KeyCode::Char('k')).commands.is_empty());
    assert!(app.detached && !app.quitting && app.overlay.is_none());

    let mut app = demo();
    press(&mut app, KeyCode::Char('q'));
    press(&mut app, KeyCode::Esc);
    assert!(!app.detached && !app.quitting && app.overlay.is_none());
}

/// A read-only dashboard moves and looks, but every key that would change something says so
/// and sends nothing.
#[test]
fn a_read_only_dashboard_sends_nothing_and_says_why() {
    let mut app = app();
    app.attached = true;
    app.read_only = true;
    for key in ['p', 'x', 'X', 's', ' ', '+', 'R', 'Q'] {
        let out = press(&mut app, KeyCode::Char(key));
        assert!(out.commands.is_empty(), "{key} sent {:?}", out.commands);
        assert!(app.overlay.is_none(), "{key} opened {:?}", app.overlay);
        assert!(
            app.message
                .as_deref()
                .is_some_and(|m| m.contains("read-only")),
            "{key}: {:?}",
            app.message
        );
    }
    let header = screen(&app, 120, 40)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(header.contains(" corral read-only shop"), "{header}");
    press(&mut app, KeyCode::Char('j'));
    assert_eq!(app.message, None, "moving is fine");
    assert!(press(&mut app, KeyCode::Char('q')).commands.is_empty());
    assert!(app.detached, "q still detaches");
}

/// Paused by corral itself after a crash: the header says why nothing starts.
#[test]
fn the_header_says_the_scheduler_waits_after_a_crash() {
    let mut snap = snapshot();
    snap.scheduler_paused = true;
    snap.paused_reason = Some("the last corral was killed with 2 run(s) live".into());
    let shown = screen(&App::new(snap), 160, 40);
    assert!(
        shown.contains("scheduler paused: corral was killed; space resumes"),
        "{shown}"
    );
    let mut snap = snapshot();
    snap.config_error = Some("corral.toml:3: scheduler.max_agent: unknown key".into());
    let shown = screen(&App::new(snap), 160, 40);
    assert!(shown.contains("corral.toml not applied"), "{shown}");
}
