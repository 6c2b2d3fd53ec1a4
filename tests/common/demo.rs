//! The demo's dashboard as a test fixture: a snapshot after any number of steps, an App that
//! watched it from the start, and the screen it draws on TestBackend.

use corral::api::*;
use corral::ui::app::{App, Pane};
use corral::ui::render;
use corral::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// The demo's start; the demo then runs one step every 20 seconds.
pub const START: i64 = 1_000_000;
pub const STEP: i64 = 20_000;

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
pub fn demo_after(step: i64) -> Snapshot {
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
pub fn watched(steps: i64, focus: Pane) -> App {
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

pub fn draw(app: &App, theme: Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, app, &theme)).unwrap();
    term
}

pub fn screen(app: &App, w: u16, h: u16) -> String {
    draw(app, Theme::default(), w, h).backend().to_string()
}
