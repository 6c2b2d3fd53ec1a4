//! The feature graph on big backlogs: indexing, readiness and scheduling scores, built from
//! scratch and kept up to date as features change (what the scheduler uses).
//! Run with `cargo bench --bench graph`. The goals, for 100,000 features and 300,000
//! dependencies: under 50 ms for index + ready + scores from scratch; a scheduling step that
//! changes no feature's passing, in microseconds.

use corral::api::{FeatureId, FeatureStatus, JobId, JobState, Role, RunId};
use corral::core::graph::{Graph, Node};
use corral::core::graph_live::LiveGraph;
use corral::core::{Feature, Input, Model, NewRun};
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

/// Indexing the backlog for the live graph: once at start and on every reload.
#[divan::bench(args = SIZES, sample_count = 10)]
fn live_new(bencher: divan::Bencher, n: usize) {
    let nodes = backlog(n);
    bencher.bench(|| LiveGraph::new(divan::black_box(&nodes).iter().map(|(id, f)| (*id, f))));
}

/// The first ready feature (by id) whose dependencies are all there.
fn a_ready_feature(nodes: &BTreeMap<FeatureId, Item>) -> (FeatureId, &Item) {
    let graph = LiveGraph::new(nodes.iter().map(|(id, f)| (*id, f)));
    let id = graph
        .ready()
        .next()
        .expect("the backlog has ready features");
    (id, &nodes[&id])
}

/// A feature starts (or comes back to pending) and the scheduler reads the first 100 of the
/// ready order: what a scheduling step costs when no feature's passing changed.
#[divan::bench(args = SIZES, sample_count = 30)]
fn live_start_then_order(bencher: divan::Bencher, n: usize) {
    let nodes = backlog(n);
    let (id, item) = a_ready_feature(&nodes);
    let mut graph = LiveGraph::new(nodes.iter().map(|(id, f)| (*id, f)));
    let _ = graph.ready_in_order().count();
    let mut started = false;
    bencher.bench_local(|| {
        started = !started;
        let status = if started {
            FeatureStatus::InProgress
        } else {
            FeatureStatus::Pending
        };
        graph.set(id, status, item.priority, &item.deps);
        graph.ready_in_order().take(100).count()
    });
}

/// A graph with its order looked at once (the scores fresh), and a ready feature of it.
fn ranked_graph(n: usize) -> (LiveGraph, FeatureId, Item) {
    let nodes = backlog(n);
    let (id, item) = a_ready_feature(&nodes);
    let item = Item {
        status: item.status,
        deps: item.deps.clone(),
        priority: item.priority,
    };
    let graph = LiveGraph::new(nodes.iter().map(|(id, f)| (*id, f)));
    let _ = graph.ready_in_order().count();
    (graph, id, item)
}

/// A ready feature passes and the scheduler reads the first 100 of the ready order: the
/// scores are redone without the sketches (the end of every successful run).
#[divan::bench(args = SIZES, sample_count = 10)]
fn live_pass_then_order(bencher: divan::Bencher, n: usize) {
    let (graph, id, item) = ranked_graph(n);
    bencher
        .with_inputs(|| graph.clone())
        .bench_local_values(|mut graph| {
            graph.set(id, FeatureStatus::Passing, item.priority, &item.deps);
            let first = graph.ready_in_order().take(100).count();
            (graph, first)
        });
}

/// A passing feature goes back to pending (a person's requeue) and the scheduler reads the
/// first 100 of the ready order: every score is made again, as from scratch.
#[divan::bench(args = SIZES, sample_count = 10)]
fn live_unpass_then_order(bencher: divan::Bencher, n: usize) {
    let (mut graph, id, item) = ranked_graph(n);
    graph.set(id, FeatureStatus::Passing, item.priority, &item.deps);
    let _ = graph.ready_in_order().count();
    bencher
        .with_inputs(|| graph.clone())
        .bench_local_values(|mut graph| {
            graph.set(id, FeatureStatus::Pending, item.priority, &item.deps);
            let first = graph.ready_in_order().take(100).count();
            (graph, first)
        });
}

/// A model on the bench backlog with a coding profile, 8 live runs and its queue filled.
fn busy_model(n: usize) -> Model {
    let features: Vec<Feature> = backlog(n)
        .into_iter()
        .map(|(id, item)| Feature {
            id,
            category: String::new(),
            name: format!("Feature {id}"),
            priority: item.priority,
            dependencies: item.deps,
            status: item.status,
            attempts: 0,
            last_error: None,
            last_tested_at: None,
            profile: None,
            usage: Default::default(),
            unmerged: false,
            merge: None,
        })
        .collect();
    let (mut model, _) = Model::new(features, 8);
    let slot = corral::core::scheduler::ProfileSlot {
        name: "coding".into(),
        max_parallel: None,
    };
    model.profiles.insert(Role::Coding, slot);
    model.handle(Input::Kick);
    // The kick started 8 jobs; their spawns succeed.
    let started: Vec<(JobId, Option<FeatureId>)> = model
        .jobs
        .values()
        .filter(|j| j.state == JobState::Running)
        .map(|j| (j.id, j.feature))
        .collect();
    assert_eq!(started.len(), 8);
    for (i, (job, feature)) in started.into_iter().enumerate() {
        let i = i as i64;
        model.handle(Input::Spawned(NewRun {
            id: RunId(i + 1),
            job,
            feature,
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

/// One core step with scheduling (a stats sample) on a busy model: what every input costs.
/// Before the live graph, each one rebuilt the graph and every score.
#[divan::bench(args = SIZES, sample_count = 30)]
fn model_step(bencher: divan::Bencher, n: usize) {
    let mut model = busy_model(n);
    bencher.bench_local(|| {
        model.handle(Input::Sample {
            at_ms: 0,
            stats: Vec::new(),
        })
    });
}
