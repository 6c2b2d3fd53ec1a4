//! The feature graph on big backlogs: indexing, readiness and scheduling scores.
//! Run with `cargo bench --bench graph`. The goal is under 50 ms for 100,000 features and
//! 300,000 dependencies, index + ready + scores together.

use corral::api::{FeatureId, FeatureStatus};
use corral::core::graph::{Graph, Node};
use std::collections::BTreeMap;

fn main() {
    divan::main();
}

struct Item {
    status: FeatureStatus,
    deps: Vec<FeatureId>,
    priority: i64,
}

impl Node for Item {
    fn status(&self) -> FeatureStatus {
        self.status
    }
    fn dependencies(&self) -> &[FeatureId] {
        &self.deps
    }
    fn priority(&self) -> i64 {
        self.priority
    }
}

/// A fixed-seed generator (splitmix64), so every run measures the same backlog.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `n` features and `3n` dependencies, each from a feature to a lower id (so acyclic): most
/// on a recent feature, some on anything older. The oldest 30% are mostly passing; the rest
/// are mostly pending, with some in progress, failing or failed. Features are built in id
/// order, as loading them from the store does.
fn backlog(n: usize) -> BTreeMap<FeatureId, Item> {
    let mut rng = Rng(0x5EED);
    let mut dep_count = vec![0usize; n];
    for _ in 0..3 * n {
        dep_count[1 + rng.below(n - 1)] += 1;
    }
    (0..n)
        .map(|i| {
            let roll = rng.below(1000);
            let status = if i < n * 3 / 10 {
                if roll < 20 {
                    FeatureStatus::Pending
                } else {
                    FeatureStatus::Passing
                }
            } else {
                match roll {
                    0..10 => FeatureStatus::InProgress,
                    10..20 => FeatureStatus::Failing,
                    20..25 => FeatureStatus::Failed,
                    _ => FeatureStatus::Pending,
                }
            };
            let deps = (0..dep_count[i])
                .map(|_| {
                    let to = if rng.below(10) < 7 {
                        i - 1 - rng.below(i.min(200))
                    } else {
                        rng.below(i)
                    };
                    FeatureId(to as i64 + 1)
                })
                .collect();
            let item = Item {
                status,
                deps,
                priority: rng.below(5) as i64,
            };
            (FeatureId(i as i64 + 1), item)
        })
        .collect()
}

const SIZES: [usize; 2] = [10_000, 100_000];

/// What the scheduler pays per decision: index the backlog, find the ready set, score it all.
#[divan::bench(args = SIZES, sample_count = 30)]
fn new_ready_scores(bencher: divan::Bencher, n: usize) {
    let nodes = backlog(n);
    bencher.bench(|| {
        let graph = Graph::new(divan::black_box(&nodes));
        (graph.ready(), graph.scores())
    });
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn new_only(bencher: divan::Bencher, n: usize) {
    let nodes = backlog(n);
    bencher.bench(|| Graph::new(divan::black_box(&nodes)));
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn scores_only(bencher: divan::Bencher, n: usize) {
    let graph = Graph::new(&backlog(n));
    bencher.bench(|| divan::black_box(&graph).scores());
}

#[divan::bench(args = SIZES, sample_count = 30)]
fn topological_order(bencher: divan::Bencher, n: usize) {
    let graph = Graph::new(&backlog(n));
    bencher.bench(|| divan::black_box(&graph).topological_order());
}
