//! How [`Score`]s are computed; the module docs of `graph` say what they mean and why.

use super::{Csr, Graph, NEVER, NONE, Score};
use crate::api::FeatureId;

/// How many smallest ranks a sketch keeps. Sets smaller than this are counted exactly.
pub(super) const K: usize = 32;

/// The costly part of the scores, from the sketches: per component of open features its
/// estimate (and whether it is exact), per feature its downstream path count. A feature with
/// no open dependency is in no open feature's downstream set, so when it passes none of this
/// changes for the others: [`Graph::scores_from`] scores again without sketches.
#[derive(Debug, Clone)]
pub(super) struct Downstream {
    sccs: Sccs,
    estimates: Vec<(u64, bool)>,
    paths: Vec<u64>,
}

impl Graph {
    /// The score of every feature, by id (so in node order). O(K·(n + m)).
    pub(super) fn score_all(&self) -> Vec<(FeatureId, Score)> {
        self.scores_from(&self.downstream())
    }

    /// Components, sketch estimates and path counts. O(K·(n + m)).
    pub(super) fn downstream(&self) -> Downstream {
        let n = self.ids.len();
        let sccs = self.open_sccs();
        let (comp, members, cyclic) = (&sccs.comp, &sccs.members, &sccs.cyclic);
        let mut estimates = Vec::with_capacity(cyclic.len());
        let mut paths = vec![0u64; n]; // downstream path counts, the upper bound
        // The sketch of each component; reserved whole so it never moves (untouched pages cost
        // nothing).
        let mut sketches = Csr {
            at: Vec::with_capacity(cyclic.len() + 1),
            to: Vec::with_capacity(cyclic.len().saturating_mul(K)),
        };
        sketches.at.push(0);
        for (c, &cyclic) in cyclic.iter().enumerate() {
            let mut sketch = Sketch::new();
            let mut downstream_paths = 0u64;
            for &u in members.of(c) {
                if cyclic {
                    sketch.merge(&[rank(self.ids[u])]);
                }
                for &d in self.dependents.of(u) {
                    if self.open(d) && comp[d] != c {
                        sketch.merge(sketches.of(comp[d]));
                        let via = paths[d].saturating_add(1);
                        downstream_paths = downstream_paths.saturating_add(via);
                    }
                }
            }
            estimates.push(sketch.estimate());
            for &u in members.of(c) {
                if cyclic {
                    // The sketch holds the whole cycle, this feature included.
                    paths[u] = u64::MAX;
                } else {
                    paths[u] = downstream_paths;
                    sketch.merge(&[rank(self.ids[u])]);
                }
            }
            // Only a component with an open dependency outside it is ever read back.
            let outside = |&u: &usize| {
                self.deps
                    .of(u)
                    .iter()
                    .any(|&d| self.open(d) && comp[d] != c)
            };
            if members.of(c).iter().any(outside) {
                sketches.to.extend_from_slice(sketch.ranks());
            }
            sketches.at.push(sketches.to.len());
        }
        Downstream {
            sccs,
            estimates,
            paths,
        }
    }

    /// Depths, the spanning forest and the scores, from `d`: O(n + m). Features that pass
    /// (also those that passed since `d` was made) keep the empty score.
    pub(super) fn scores_from(&self, d: &Downstream) -> Vec<(FeatureId, Score)> {
        let n = self.ids.len();
        let Sccs {
            comp,
            members,
            cyclic,
        } = &d.sccs;
        let open_members = |c: usize| members.of(c).iter().copied().filter(|&u| self.open(u));

        // Depth, and the dependency each feature is charged to in the spanning forest: its
        // deepest open one outside its component (the one likely to finish last; the first
        // listed on a tie). Dependencies first: the reverse of the order components came in.
        let (mut depth, mut parent) = (vec![0u32; n], vec![NONE; n]);
        for c in (0..cyclic.len()).rev() {
            for u in open_members(c) {
                let mut deepest: Option<u32> = None;
                for &d in self.deps.of(u) {
                    let outside = self.open(d) && comp[d] != c;
                    if outside && deepest.is_none_or(|best| depth[d] > best) {
                        (deepest, parent[u]) = (Some(depth[d]), d);
                    }
                }
                let below = deepest.map_or(0, |d| d.saturating_add(1));
                let below = below.max(u32::from(self.missing[u]));
                depth[u] = if cyclic[c] { NEVER } else { below };
            }
        }

        // Counts, dependents first: the order components came in.
        let mut scores: Vec<(FeatureId, Score)> = (0..n)
            .map(|i| {
                let depth = depth[i];
                let priority = self.priority[i];
                let score = Score {
                    unblocks: 0,
                    exact: true,
                    depth,
                    priority,
                };
                (self.ids[i], score)
            })
            .collect();
        let mut forest = vec![0u64; n]; // spanning-forest subtree sizes, the lower bound
        for (c, &cyclic) in cyclic.iter().enumerate() {
            let (estimate, exact) = d.estimates[c];
            for u in open_members(c) {
                let score = &mut scores[u].1;
                if cyclic {
                    score.unblocks = estimate.saturating_sub(1).max(forest[u]);
                    score.exact = exact;
                } else {
                    let paths = d.paths[u];
                    score.unblocks = estimate.min(paths).max(forest[u]);
                    score.exact = exact || forest[u] == paths;
                }
                if parent[u] != NONE {
                    forest[parent[u]] += 1 + forest[u];
                }
            }
        }
        scores
    }

    /// Strongly connected components of the not-passing features, following edges from a
    /// dependency to its dependents (Tarjan, iterative so deep chains cannot overflow the
    /// stack). A component comes out after every component downstream of it.
    fn open_sccs(&self) -> Sccs {
        let n = self.ids.len();
        let mut sccs = Sccs {
            comp: vec![NONE; n],
            members: Csr {
                at: vec![0],
                to: Vec::with_capacity(n),
            },
            cyclic: Vec::new(),
        };
        // Per node: (visit number, lowest visit number reachable); NONE until visited. A visited
        // node without a component yet is on the stack.
        let mut visit = vec![(NONE, NONE); n];
        let (mut stack, mut call, mut next) = (Vec::new(), Vec::new(), 0);
        for root in 0..n {
            let mut enter = (self.open(root) && visit[root].0 == NONE).then_some(root);
            loop {
                if let Some(v) = enter.take() {
                    (visit[v], next) = ((next, next), next + 1);
                    stack.push(v);
                    call.push((v, 0));
                }
                let Some((u, edge)) = call.last_mut() else {
                    break;
                };
                let u = *u;
                if let Some(&v) = self.dependents.of(u).get(*edge) {
                    *edge += 1;
                    if self.open(v) && visit[v].0 == NONE {
                        enter = Some(v);
                    } else if self.open(v) && sccs.comp[v] == NONE {
                        visit[u].1 = visit[u].1.min(visit[v].0);
                    }
                    continue;
                }
                call.pop();
                let (index, low) = visit[u];
                if let Some(&(p, _)) = call.last() {
                    visit[p].1 = visit[p].1.min(low);
                }
                if low == index {
                    let (c, first) = (sccs.cyclic.len(), sccs.members.to.len());
                    while let Some(w) = stack.pop() {
                        sccs.comp[w] = c;
                        sccs.members.to.push(w);
                        if w == u {
                            break;
                        }
                    }
                    let size = sccs.members.to.len() - first;
                    sccs.cyclic
                        .push(size > 1 || self.dependents.of(u).contains(&u));
                    sccs.members.at.push(sccs.members.to.len());
                }
            }
        }
        sccs
    }
}

/// Components of the not-passing features; passing ones belong to none (`comp` is NONE).
#[derive(Debug, Clone)]
struct Sccs {
    comp: Vec<usize>,
    members: Csr,
    /// More than one member, or a feature that depends on itself.
    cyclic: Vec<bool>,
}

/// A feature's place in sketches. 32 bits halve the memory the sketches stream through.
type Rank = u32;

/// The K smallest ranks of a set, ascending.
struct Sketch {
    ranks: [Rank; K],
    len: usize,
}

impl Sketch {
    fn new() -> Sketch {
        let ranks = [0; K];
        Sketch { ranks, len: 0 }
    }

    fn ranks(&self) -> &[Rank] {
        &self.ranks[..self.len]
    }

    /// Becomes the sketch of the union with the set that `other` (ascending, at most K) sketches.
    fn merge(&mut self, other: &[Rank]) {
        if self.len == 0 {
            self.ranks[..other.len()].copy_from_slice(other);
            self.len = other.len();
            return;
        }
        // `other` ascends, so insertion points do too: one forward walk, which runs in lockstep
        // (and predictably) over the shared prefix of two overlapping sets.
        let mut at = 0;
        for &x in other {
            // Once full, nothing at or above the largest kept rank gets in, nor anything after.
            if self.len == K && x >= self.ranks[K - 1] {
                break;
            }
            while at < self.len && self.ranks[at] < x {
                at += 1;
            }
            // An equal rank is the same feature reached twice: keep one.
            if at == self.len || self.ranks[at] != x {
                let end = self.len.min(K - 1);
                self.ranks.copy_within(at..end, at + 1);
                self.ranks[at] = x;
                self.len = (self.len + 1).min(K);
            }
            at += 1;
        }
    }

    /// The size of the set, and whether it is exact.
    fn estimate(&self) -> (u64, bool) {
        if self.len < K {
            return (self.len as u64, true);
        }
        let kth = (f64::from(self.ranks[K - 1]) + 1.0) / (f64::from(Rank::MAX) + 1.0);
        let estimate = ((K - 1) as f64 / kth).round() as u64;
        (estimate.max(K as u64), false)
    }
}

/// A feature's rank: a bijective hash (Wellons' lowbias32) of the low 32 bits of its id, so it
/// stays put from call to call and no two features share one (store ids stay far below 2^32).
fn rank(id: FeatureId) -> Rank {
    let mut x = id.0 as u32;
    x = (x ^ (x >> 16)).wrapping_mul(0x7FEB_352D);
    x = (x ^ (x >> 15)).wrapping_mul(0x846C_A68B);
    x ^ (x >> 16)
}
