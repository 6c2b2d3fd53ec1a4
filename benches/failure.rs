//! What deciding why a run failed costs: once per failed run, the last 40 lines of its log go
//! through the classifier. Run with `cargo bench --bench failure`.

use corral::core::failure::Classifier;
use divan::black_box;

fn main() {
    divan::main();
}

/// 40 lines of a failed coding run: test output, then (for the transient case) a rate limit.
fn tail(transient: bool) -> Vec<String> {
    let mut lines: Vec<String> = (0..38)
        .map(|i| {
            format!(
                "  test cart::totals::case_{i} ... ok (0.0{} s) in src/cart/totals.rs:{}",
                i % 9,
                100 + i
            )
        })
        .collect();
    if transient {
        lines.push(
            "API Error: 429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\"}}".into(),
        );
        lines.push("retry-after: 30".into());
    } else {
        lines.push("test result: FAILED. 37 passed; 1 failed; 0 ignored".into());
        lines.push("error: test failed, to rerun pass `--test cart`".into());
    }
    lines
}

#[divan::bench(args = [false, true])]
fn classify_a_40_line_tail(bencher: divan::Bencher, transient: bool) {
    let classifier = Classifier::new(&[]).expect("built-in rules compile");
    let lines = tail(transient);
    let tail: Vec<&str> = lines.iter().map(String::as_str).collect();
    bencher.bench_local(|| {
        let class = classifier.classify(black_box(&tail), 1_700_000_000_000, 60);
        (class, classifier.evidence(black_box(&tail)))
    });
}

#[divan::bench]
fn build_a_classifier_with_two_patterns() -> Classifier {
    Classifier::new(&["upstream hiccup".into(), r"code=E\d{3}".into()]).expect("patterns compile")
}
