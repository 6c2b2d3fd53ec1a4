//! What corral does on every change: a core step, the snapshot projection, one full frame.
//! Run with `cargo bench`.

use corral::api::{FeatureId, FeatureStatus, JobId, LogLine, Role, RunId, Stream};
use corral::core::{Feature, Input, Model, NewRun};
use corral::ui::{app::App, render, theme::Theme};
use ratatui::{Terminal, backend::TestBackend};
use std::path::Path;

fn main() {
    divan::main();
}

/// A backlog of `n` features in layers of 10: each depends on two of the layer before.
fn backlog(n: i64) -> Vec<Feature> {
    (1..=n)
        .map(|id| Feature {
            id: FeatureId(id),
            category: format!("Cat{}", id % 7),
            name: format!("Feature number {id}"),
            priority: id % 5,
            dependencies: if id > 10 {
                vec![FeatureId(id - 10), FeatureId(id - 9)]
            } else {
                vec![]
            },
            status: if id <= n / 2 {
                FeatureStatus::Passing
            } else {
                FeatureStatus::Pending
            },
            attempts: 1,
            last_error: None,
            last_tested_at: None,
            profile: None,
            usage: Default::default(),
            unmerged: false,
            merge: None,
        })
        .collect()
}

/// A model with `n` features and 8 live runs.
fn busy_model(n: i64) -> Model {
    let (mut model, _) = Model::new(backlog(n), 8);
    model.profiles.insert(
        Role::Coding,
        corral::core::scheduler::ProfileSlot {
            name: "coding".into(),
            max_parallel: None,
        },
    );
    for i in 0..8 {
        let feature = n / 2 + 1 + i;
        model.handle(Input::Spawned(NewRun {
            id: RunId(i + 1),
            job: JobId(i + 1),
            feature: Some(FeatureId(feature)),
            profile: "coding".into(),
            role: Role::Coding,
            pid: 1000 + i as u32,
            started_at_ms: 0,
            grace_ms: 5000,
            timeout_ms: None,
            silence_ms: None,
        }));
    }
    model
}

#[divan::bench(args = [100, 1_000, 10_000])]
fn core_step_with_scheduling(bencher: divan::Bencher, n: i64) {
    bencher
        .with_inputs(|| busy_model(n))
        .bench_local_values(|mut model| model.handle(Input::Kick));
}

#[divan::bench(args = [100, 1_000, 10_000])]
fn snapshot_projection(bencher: divan::Bencher, n: i64) {
    let model = busy_model(n);
    bencher.bench_local(|| model.snapshot(Path::new("/p"), 1));
}

#[divan::bench(args = [(80, 24), (120, 40), (250, 70)])]
fn draw_full_frame(bencher: divan::Bencher, (w, h): (u16, u16)) {
    let model = busy_model(1_000);
    let mut app = App::new(model.snapshot(Path::new("/home/dev/src/shop"), 1));
    app.now_ms = 600_000;
    let lines = (0..2_000)
        .map(|i| LogLine {
            run: RunId(1),
            seq: i,
            stream: if i % 9 == 0 { Stream::Stderr } else { Stream::Stdout },
            at_ms: 0,
            text: format!("\x1b[36mEdit\x1b[0m src/module_{i}.rs \x1b[32m+{i}\x1b[0m \x1b[31m-3\x1b[0m and some more words"),
        })
        .collect();
    app.show_log(Some(RunId(1)), lines);
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    let theme = Theme::default();
    bencher.bench_local(|| term.draw(|f| render::draw(f, &app, &theme)).map(|_| ()));
}
