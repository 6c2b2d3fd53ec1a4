//! What reading steps costs per output line: capture feeds every line an agent prints to a
//! run's `StepBuilder`, so a plain-text line must cost next to nothing and an event line one
//! JSON parse. Run with `cargo bench --bench steps`.

use corral::core::steps::StepBuilder;
use divan::black_box;

fn main() {
    divan::main();
}

const PLAIN: &str = "   Compiling serde_json v1.0.154 (registry+https://github.com/rust-lang/crates.io-index) in 3.2 s";

const CLAUDE: &str = include_str!("../tests/fixtures/steps/claude_documented.jsonl");

/// A plain-text agent's line, once the run is known to print no events.
#[divan::bench]
fn plain_line(bencher: divan::Bencher) {
    let mut b = StepBuilder::default();
    for seq in 0..300 {
        b.line(seq, 0, PLAIN, false);
    }
    let mut seq = 300;
    bencher.bench_local(|| {
        seq += 1;
        b.line(seq, 0, black_box(PLAIN), false);
    });
}

/// A Claude Code stream-json line (the documented fixture's lines in turn: calls, results,
/// messages, a subagent); the builder stays at its bound of steps.
#[divan::bench]
fn claude_event_line(bencher: divan::Bencher) {
    let lines: Vec<&str> = CLAUDE.lines().collect();
    let mut b = StepBuilder::default();
    let mut seq = 0u64;
    bencher.bench_local(|| {
        let line = lines[seq as usize % lines.len()];
        seq += 1;
        b.line(seq, seq as i64, black_box(line), false);
    });
}
