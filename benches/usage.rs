//! What recognising usage reports costs per output line: capture feeds every line an agent
//! prints to a `UsageScanner`, so ordinary lines must cost next to nothing.
//! Run with `cargo bench --bench usage`. The goal is a few nanoseconds for a line that is no
//! report, which is noise next to capture's ~150 ns per line.

use corral::core::usage::UsageScanner;
use divan::black_box;

fn main() {
    divan::main();
}

/// Lines of the kinds agents print, each 100 bytes or so.
const ORDINARY: &[&str] = &[
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "   Compiling serde_json v1.0.154 (registry+https://github.com/rust-lang/crates.io-index) in 3.2 s",
    "the cart totals now include tax; I will run the tests next and then check the tokens in config",
    "[INFO] 2025-08-01T10:00:00Z worker 3 picked job 41 (coding #17) after 2 retries, backoff 30 s",
    "\x1b[32m✓\x1b[0m cart::totals::sums_line_items_with_tax ... \x1b[32mok\x1b[0m (0.02 s, 3 assertions)",
];

/// A stream-json assistant message: starts with `{` and names tokens, but is no report.
const ASSISTANT: &str = r#"{"type":"assistant","message":{"id":"msg_01XyZ","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Let me look at the cart module."}],"stop_reason":null,"usage":{"input_tokens":4,"cache_creation_input_tokens":6120,"cache_read_input_tokens":13442,"output_tokens":2,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"7c0f1b2e-3d4a-4e5f-9a8b-1c2d3e4f5a6b"}"#;

const RESULT: &str = include_str!("../tests/fixtures/claude_result.json");

#[divan::bench]
fn ordinary_line(bencher: divan::Bencher) {
    let mut scanner = UsageScanner::default();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % ORDINARY.len();
        scanner.line(black_box(ORDINARY[i]));
    });
}

#[divan::bench]
fn stream_json_assistant_line(bencher: divan::Bencher) {
    let mut scanner = UsageScanner::default();
    bencher.bench_local(|| scanner.line(black_box(ASSISTANT)));
}

#[divan::bench]
fn claude_result_line(bencher: divan::Bencher) {
    let mut scanner = UsageScanner::default();
    bencher.bench_local(|| scanner.line(black_box(RESULT)));
}
