//! The feature dependency graph: which features can start, what blocks the rest, and in which
//! order ready features should start.
//!
//! # Scheduling score
//!
//! Ready features start best first by [`Score`]: the most downstream work unblocked, then the
//! shallower, then the lower priority value, then the lower id.
//!
//! The downstream work of a feature is the set of not-passing features that depend on it,
//! directly or through other not-passing ones (a passing feature in between has done its part,
//! so the chain stops there). Exact counts need transitive closures, quadratic at worst;
//! summing over dependents counts a diamond's bottom twice. So the count is a bottom-k sketch
//! estimate (Cohen), in O(K·(n + m)) time with K = 32:
//!
//! - every feature has a fixed pseudo-random rank (a bijective hash of its id: stable from call
//!   to call, never two alike for ids below 2^32) and keeps the K smallest ranks of its
//!   downstream set, merged from its dependents' sketches. Merging sketches gives the sketch
//!   of the union, so a feature reached along several paths counts once;
//! - below K members the sketch is the whole set and the count is exact; beyond, the estimate
//!   (K - 1) / r_K (r_K the K-th smallest rank scaled to (0, 1]) is unbiased with a relative
//!   standard error near 1 / sqrt(K - 2), 18%: enough to tell big fan-outs from small ones,
//!   which is what the ranking needs;
//! - it is clamped between two exact linear bounds: the subtree size in a spanning forest that
//!   charges every feature to one dependency only (its deepest, the likely last to finish),
//!   which never double counts, and the number of downstream paths, which never undercounts.
//!   On trees the bounds meet, so the count is exact.
//!
//! Cycles (a corrupt backlog) are collapsed first into strongly connected components (Tarjan),
//! so every pass stays linear.

use crate::api::{FeatureId, FeatureStatus};
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

/// The parts of a feature the graph needs.
pub trait Node {
    /// The stored status (never `Ready` or `Blocked`, which are derived here).
    fn status(&self) -> FeatureStatus;
    /// Features this one waits on; an id missing from the map blocks it.
    fn dependencies(&self) -> &[FeatureId];
    /// Lower starts first, among features of equal downstream work.
    fn priority(&self) -> i64;
    /// Whether features that depend on this one may start: it passes, and (with worktrees)
    /// its work is merged into the base their branches start from.
    fn settled(&self) -> bool {
        self.status() == FeatureStatus::Passing
    }
}

/// Dependencies of `id` that are not passing (a dependency missing from the map counts as blocking).
pub fn blocked_by<N: Node>(nodes: &BTreeMap<FeatureId, N>, id: FeatureId) -> Vec<FeatureId> {
    let Some(node) = nodes.get(&id) else {
        return Vec::new();
    };
    node.dependencies()
        .iter()
        .copied()
        .filter(|dep| nodes.get(dep).is_none_or(|d| !d.settled()))
        .collect()
}

/// The status to show: a stored `Pending` becomes `Ready` or `Blocked`.
pub fn effective_status<N: Node>(nodes: &BTreeMap<FeatureId, N>, id: FeatureId) -> FeatureStatus {
    match nodes.get(&id).map(Node::status) {
        Some(FeatureStatus::Pending) if blocked_by(nodes, id).is_empty() => FeatureStatus::Ready,
        Some(FeatureStatus::Pending) => FeatureStatus::Blocked,
        Some(other) => other,
        None => FeatureStatus::Blocked,
    }
}

/// Ready features in the order they should start: best [`Score`] first (see the module docs).
/// Builds a [`Graph`]; callers that need more than one answer should build it once themselves.
pub fn ready_in_order<N: Node>(nodes: &BTreeMap<FeatureId, N>) -> Vec<FeatureId> {
    Graph::new(nodes).ready_by_score()
}

/// One dependency cycle, if there is any: see [`Graph::topological_order`] for its layout.
pub fn find_cycle<N: Node>(nodes: &BTreeMap<FeatureId, N>) -> Option<Vec<FeatureId>> {
    Graph::new(nodes).topological_order().err()
}

/// The [`Score::depth`] of a feature that sits on a dependency cycle or waits on one: it cannot
/// start until a person breaks the cycle.
pub const NEVER: u32 = u32::MAX;

/// How much a feature matters to the schedule. Ready features start in this order: higher
/// `unblocks`, then lower `depth`, then lower `priority`, then lower id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    /// How many not-passing features wait on this one, directly or not (0 for a passing one).
    /// Exact when `exact` is set, otherwise an estimate (see the module docs).
    pub unblocks: u64,
    /// Whether `unblocks` is an exact count: always for counts below 31, and on trees.
    pub exact: bool,
    /// The longest chain of not-passing dependencies below it, a missing dependency counting as
    /// one: how many rounds of work must finish before it can start, so shallower means startable
    /// sooner. Always 0 for a ready feature, so it never reorders [`Graph::ready_by_score`]; it
    /// ranks blocked features for look-ahead. [`NEVER`] on or behind a cycle; 0 when passing.
    pub depth: u32,
    /// The feature's own priority (lower starts first).
    pub priority: i64,
}

const NONE: usize = usize::MAX;

/// The dependency graph of one backlog, indexed once so every query is linear. Node `i` is the
/// `i`-th feature in id order.
#[derive(Debug, Clone)]
pub struct Graph {
    ids: Vec<FeatureId>,
    status: Vec<FeatureStatus>,
    /// [`Node::settled`] of each node.
    settled: Vec<bool>,
    priority: Vec<i64>,
    /// Whether the node names a dependency missing from the map (it blocks forever).
    missing: Vec<bool>,
    /// Dependencies present in the map.
    deps: Csr,
    /// The same edges reversed.
    dependents: Csr,
}

impl Graph {
    /// Indexes `nodes` in O(n + m). Duplicate dependencies are harmless.
    pub fn new<N: Node>(nodes: &BTreeMap<FeatureId, N>) -> Graph {
        let n = nodes.len();
        let ids: Vec<FeatureId> = nodes.keys().copied().collect();
        let index = IdIndex::new(&ids);
        let m = nodes.values().map(|f| f.dependencies().len()).sum();
        let (mut status, mut priority) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut missing = vec![false; n];
        let mut settled = Vec::with_capacity(n);
        let mut deps = Csr {
            at: Vec::with_capacity(n + 1),
            to: Vec::with_capacity(m),
        };
        deps.at.push(0);
        for (i, node) in nodes.values().enumerate() {
            status.push(node.status());
            settled.push(node.settled());
            priority.push(node.priority());
            for dep in node.dependencies() {
                match index.get(*dep) {
                    Some(j) => deps.to.push(j),
                    None => missing[i] = true,
                }
            }
            deps.at.push(deps.to.len());
        }
        let dependents = deps.reversed();
        Graph {
            ids,
            status,
            settled,
            priority,
            missing,
            deps,
            dependents,
        }
    }

    fn open(&self, i: usize) -> bool {
        self.status[i] != FeatureStatus::Passing
    }

    /// Every feature after all its dependencies (dependencies missing from the map are ignored).
    /// On a cycle, `Err` holds the ids around one cycle: each depends on the next and the last
    /// on the first, no id repeated. With several cycles, which one is reported is unspecified
    /// but stable for the same graph.
    pub fn topological_order(&self) -> Result<Vec<FeatureId>, Vec<FeatureId>> {
        let n = self.ids.len();
        // Kahn: a feature is placed once its last dependency is.
        let mut waiting: Vec<usize> = (0..n).map(|i| self.deps.of(i).len()).collect();
        let mut order: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
        let mut head = 0;
        while let Some(&u) = order.get(head) {
            head += 1;
            for &d in self.dependents.of(u) {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    order.push(d);
                }
            }
        }
        if order.len() == n {
            return Ok(order.into_iter().map(|i| self.ids[i]).collect());
        }
        // Every feature left waiting has a dependency left waiting, so following such
        // dependencies from any of them must come back to a feature already on the path.
        let (mut on_path, mut path) = (vec![NONE; n], Vec::new());
        let mut at = (0..n).find(|&i| waiting[i] > 0);
        while let Some(u) = at {
            if on_path[u] != NONE {
                path.drain(..on_path[u]);
                break;
            }
            on_path[u] = path.len();
            path.push(u);
            at = self.deps.of(u).iter().copied().find(|&d| waiting[d] > 0);
        }
        Err(path.into_iter().map(|i| self.ids[i]).collect())
    }

    /// Pending features whose dependencies all pass (a missing dependency blocks), by id.
    pub fn ready(&self) -> Vec<FeatureId> {
        let ready = (0..self.ids.len()).filter(|&i| self.is_ready(i));
        ready.map(|i| self.ids[i]).collect()
    }

    fn is_ready(&self, i: usize) -> bool {
        let passing = |&d: &usize| self.settled[d];
        self.status[i] == FeatureStatus::Pending
            && !self.missing[i]
            && self.deps.of(i).iter().all(passing)
    }

    /// The score of every feature, by id. O(K·(n + m)).
    pub fn scores(&self) -> Vec<(FeatureId, Score)> {
        self.score_all()
    }

    /// The ready features, best [`Score`] first.
    pub fn ready_by_score(&self) -> Vec<FeatureId> {
        let mut ready: Vec<usize> = (0..self.ids.len()).filter(|&i| self.is_ready(i)).collect();
        if ready.len() < 2 {
            return ready.into_iter().map(|i| self.ids[i]).collect();
        }
        let scores = self.score_all();
        ready.sort_unstable_by_key(|&i| {
            let (id, s) = &scores[i];
            (Reverse(s.unblocks), s.depth, s.priority, *id)
        });
        ready.into_iter().map(|i| self.ids[i]).collect()
    }
}

/// A [`Graph`] with its scores and what they were made from, so that a feature that waited on
/// nothing (every dependency present and passing) can pass without the sketches being made
/// again: O(n + m) instead of O(K·(n + m)), the same scores as from scratch.
#[derive(Debug, Clone)]
pub struct ScoredGraph {
    graph: Graph,
    downstream: score::Downstream,
    scores: Vec<(FeatureId, Score)>,
}

impl ScoredGraph {
    /// Scores `graph` in O(K·(n + m)).
    pub fn new(graph: Graph) -> ScoredGraph {
        let downstream = graph.downstream();
        let scores = graph.scores_from(&downstream);
        ScoredGraph {
            graph,
            downstream,
            scores,
        }
    }

    /// The score of every feature, by id.
    pub fn scores(&self) -> &[(FeatureId, Score)] {
        &self.scores
    }

    /// The score of `id`, if it is in the graph.
    pub fn score(&self, id: FeatureId) -> Option<Score> {
        let at = self.scores.binary_search_by_key(&id, |(f, _)| *f).ok()?;
        Some(self.scores[at].1)
    }

    /// `id` passes now. Done in O(n + m) and true when it was open and waited on nothing;
    /// otherwise false and nothing changed (build the graph again).
    pub fn passed(&mut self, id: FeatureId) -> bool {
        let g = &self.graph;
        let Ok(i) = g.ids.binary_search(&id) else {
            return false;
        };
        let waited = g.missing[i] || g.deps.of(i).iter().any(|&d| g.open(d));
        if !g.open(i) || waited {
            return false;
        }
        self.graph.status[i] = FeatureStatus::Passing;
        self.graph.settled[i] = true;
        self.scores = self.graph.scores_from(&self.downstream);
        true
    }
}

/// Rows of node indices (or of anything per node): row `i` is `to[at[i]..at[i + 1]]`.
#[derive(Debug, Clone)]
struct Csr<T = usize> {
    at: Vec<usize>,
    to: Vec<T>,
}

impl<T> Csr<T> {
    fn of(&self, i: usize) -> &[T] {
        &self.to[self.at[i]..self.at[i + 1]]
    }
}

impl Csr {
    /// The same edges reversed, each row ascending (a counting sort, O(n + m)).
    fn reversed(&self) -> Csr {
        let n = self.at.len().saturating_sub(1);
        let mut at = vec![0; n + 1];
        for &j in &self.to {
            at[j + 1] += 1;
        }
        for i in 0..n {
            at[i + 1] += at[i];
        }
        let (mut fill, mut to) = (at.clone(), vec![0; self.to.len()]);
        for i in 0..n {
            for &j in self.of(i) {
                to[fill[j]] = i;
                fill[j] += 1;
            }
        }
        Csr { at, to }
    }
}

/// Feature id to node index in O(1): a table when ids are dense (the store numbers them in
/// sequence), a hash map otherwise.
enum IdIndex {
    Dense(i64, Vec<usize>),
    Sparse(HashMap<i64, usize>),
}

impl IdIndex {
    fn new(ids: &[FeatureId]) -> IdIndex {
        let first = ids.first().map_or(0, |id| id.0);
        let span = ids.last().map_or(0, |id| id.0.abs_diff(first));
        if span > 4 * ids.len() as u64 + 64 {
            return IdIndex::Sparse(ids.iter().enumerate().map(|(i, id)| (id.0, i)).collect());
        }
        let mut slots = vec![NONE; span as usize + 1];
        for (i, id) in ids.iter().enumerate() {
            slots[id.0.abs_diff(first) as usize] = i;
        }
        IdIndex::Dense(first, slots)
    }

    fn get(&self, id: FeatureId) -> Option<usize> {
        match self {
            IdIndex::Dense(first, slots) => {
                let offset = usize::try_from(id.0.checked_sub(*first)?).ok()?;
                slots.get(offset).copied().filter(|&i| i != NONE)
            }
            IdIndex::Sparse(map) => map.get(&id.0).copied(),
        }
    }
}

#[path = "graph_score.rs"]
mod score;
#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
