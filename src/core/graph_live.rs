//! The feature graph kept up to date as features change, so that a scheduling step or a
//! snapshot asks it for the ready features in start order without rebuilding anything.
//!
//! What each change costs, with d the dependencies and dependents it touches:
//!
//! - a feature starting, failing, coming back to pending, or its priority changing: O(d log n);
//!   the ready set and the ready order are updated in place;
//! - a feature that waited on nothing passing (the end of a successful run): O(n + m) once,
//!   with no sketch made again (see [`ScoredGraph::passed`]), and the order rebuilt;
//! - a feature no longer passing, a dependency edited, a feature added or removed (a person's
//!   edit): O(d log n) for the ready set, and the scores go stale. They depend on everything
//!   downstream (see [`super::graph`]), so the next question about the order recomputes them
//!   once, in O(K·(n + m)), however many such changes came before it.
//!
//! The answers are those of [`Graph`] built from scratch on the same features (the property
//! test in `graph_live_tests.rs` holds it to that).

use super::graph::{Graph, Node, ScoredGraph};
use crate::api::{FeatureId, FeatureStatus};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

/// A ready feature's place in the start order, smallest first: most downstream work
/// unblocked, then lower priority value, then lower id (a ready feature's depth is always 0).
pub type ReadyKey = (Reverse<u64>, i64, FeatureId);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    status: FeatureStatus,
    priority: i64,
    deps: Vec<FeatureId>,
    /// Whether its dependents may start ([`Node::settled`]: passing and, with worktrees,
    /// merged).
    settled: bool,
    /// How many entries of `deps` are not settled or missing.
    waiting: u32,
}

impl Node for Slot {
    fn status(&self) -> FeatureStatus {
        self.status
    }
    fn dependencies(&self) -> &[FeatureId] {
        &self.deps
    }
    fn priority(&self) -> i64 {
        self.priority
    }
    fn settled(&self) -> bool {
        self.settled
    }
}

/// The scores and the order they give; stale after a change of the edges, or of what passes
/// other than a feature that waited on nothing passing (see [`ScoredGraph::passed`]).
#[derive(Debug, Clone)]
struct Ranked {
    scored: ScoredGraph,
    order: BTreeSet<ReadyKey>,
}

impl Ranked {
    fn unblocks(&self, id: FeatureId) -> u64 {
        self.scored.score(id).map_or(0, |s| s.unblocks)
    }
}

/// The graph of one backlog, changed one feature at a time with [`LiveGraph::set`] and
/// [`LiveGraph::remove`].
#[derive(Debug, Clone, Default)]
pub struct LiveGraph {
    slots: BTreeMap<FeatureId, Slot>,
    /// Who lists each id as a dependency (once per listing), whether the id exists or not:
    /// a missing dependency blocks until a feature with its id is added.
    dependents: HashMap<FeatureId, Vec<FeatureId>>,
    /// Pending and nothing to wait for.
    ready: BTreeSet<FeatureId>,
    /// Failing and nothing to wait for: what the scheduler may retry.
    retryable: BTreeSet<FeatureId>,
    ranked: OnceLock<Ranked>,
}

impl LiveGraph {
    /// The graph of `nodes`, in O(n + m) (the scores wait for the first question).
    pub fn new<'a, N: Node + 'a>(nodes: impl IntoIterator<Item = (FeatureId, &'a N)>) -> Self {
        let mut slots: Vec<(FeatureId, Slot)> = nodes
            .into_iter()
            .map(|(id, node)| {
                let slot = Slot {
                    status: node.status(),
                    priority: node.priority(),
                    deps: node.dependencies().to_vec(),
                    settled: node.settled(),
                    waiting: 0,
                };
                (id, slot)
            })
            .collect();
        let mut dependents: HashMap<FeatureId, Vec<FeatureId>> = HashMap::new();
        for (id, slot) in &slots {
            for &dep in &slot.deps {
                dependents.entry(dep).or_default().push(*id);
            }
        }
        // Whether each id is settled, looked up by binary search in the sorted slots.
        slots.sort_unstable_by_key(|(id, _)| *id);
        let passing = |slots: &[(FeatureId, Slot)], d: &FeatureId| {
            slots
                .binary_search_by_key(d, |(id, _)| *id)
                .is_ok_and(|at| slots[at].1.settled)
        };
        let waiting: Vec<u32> = slots
            .iter()
            .map(|(_, s)| s.deps.iter().filter(|d| !passing(&slots, d)).count() as u32)
            .collect();
        let (mut ready, mut retryable) = (Vec::new(), Vec::new());
        for ((id, slot), waiting) in slots.iter_mut().zip(waiting) {
            slot.waiting = waiting;
            match slot.status {
                FeatureStatus::Pending if waiting == 0 => ready.push(*id),
                FeatureStatus::Failing if waiting == 0 => retryable.push(*id),
                _ => {}
            }
        }
        // Sorted input: the collections are built in bulk.
        LiveGraph {
            slots: slots.into_iter().collect(),
            dependents,
            ready: ready.into_iter().collect(),
            retryable: retryable.into_iter().collect(),
            ranked: OnceLock::new(),
        }
    }

    /// Takes the feature `id` as it is now (added if new), settled when it passes. Cheap
    /// when nothing the graph keeps changed.
    pub fn set(&mut self, id: FeatureId, status: FeatureStatus, priority: i64, deps: &[FeatureId]) {
        let settled = status == FeatureStatus::Passing;
        self.set_node(id, status, settled, priority, deps);
    }

    /// [`LiveGraph::set`] for a feature whose dependents may start only when `settled` (a
    /// passing feature whose worktree branch is not merged yet is not).
    pub fn set_node(
        &mut self,
        id: FeatureId,
        status: FeatureStatus,
        settled: bool,
        priority: i64,
        deps: &[FeatureId],
    ) {
        let Some(old) = self.slots.get(&id) else {
            self.add(id, status, settled, priority, deps);
            return;
        };
        let (old_status, old_settled, old_priority) = (old.status, old.settled, old.priority);
        if old.deps != deps {
            let old_deps = std::mem::replace(&mut self.slot(id).deps, deps.to_vec());
            for dep in old_deps {
                self.unlist(dep, id);
            }
            for &dep in deps {
                self.dependents.entry(dep).or_default().push(id);
            }
            self.recount(id);
            self.stale();
        }
        if old_status != status || old_settled != settled {
            self.slot(id).status = status;
            self.slot(id).settled = settled;
            let passing = FeatureStatus::Passing;
            let passes_now = (old_status == passing) != (status == passing);
            if old_settled != settled {
                // The scores survive a feature that waited on nothing passing and settling at
                // once: rescored without sketches. Anything else makes them stale.
                let kept = self.ranked.take().filter(|_| settled && passes_now);
                self.passing_changed(id, settled);
                if let Some(mut ranked) = kept
                    && ranked.scored.passed(id)
                {
                    ranked.order = self.order_by(&ranked.scored);
                    self.ranked = OnceLock::from(ranked);
                }
            } else if passes_now {
                // Passing but not settled (or the reverse): what counts as open changed.
                self.stale();
            }
        }
        if old_priority != priority {
            // Out of the order under the old key, back in under the new one.
            self.unplace(id);
            self.slot(id).priority = priority;
        }
        self.place(id);
    }

    /// Forgets the feature `id`; features that depend on it now wait on a missing one.
    pub fn remove(&mut self, id: FeatureId) {
        self.unplace(id);
        let Some(old) = self.slots.remove(&id) else {
            return;
        };
        if old.settled {
            self.passing_changed(id, false);
        }
        for dep in old.deps {
            self.unlist(dep, id);
        }
        self.place(id);
        self.stale();
    }

    /// Pending features with every dependency passing, in start order (best score first):
    /// what [`Graph::ready_by_score`] gives on the same features.
    pub fn ready_in_order(&self) -> impl Iterator<Item = FeatureId> + '_ {
        self.ranked().order.iter().map(|key| key.2)
    }

    /// Pending features with every dependency passing, by id.
    pub fn ready(&self) -> impl Iterator<Item = FeatureId> + '_ {
        self.ready.iter().copied()
    }

    /// Failing features with every dependency passing, by id.
    pub fn retryable(&self) -> impl Iterator<Item = FeatureId> + '_ {
        self.retryable.iter().copied()
    }

    /// The place of `id` in [`LiveGraph::ready_in_order`], if it is ready.
    pub fn ready_key(&self, id: FeatureId) -> Option<ReadyKey> {
        if !self.ready.contains(&id) {
            return None;
        }
        let slot = self.slots.get(&id)?;
        Some((Reverse(self.ranked().unblocks(id)), slot.priority, id))
    }

    /// Whether `id` exists and waits on nothing (every dependency present and passing).
    pub fn unblocked(&self, id: FeatureId) -> bool {
        self.slots.get(&id).is_some_and(|s| s.waiting == 0)
    }

    fn ranked(&self) -> &Ranked {
        self.ranked.get_or_init(|| {
            let scored = ScoredGraph::new(Graph::new(&self.slots));
            let order = self.order_by(&scored);
            Ranked { scored, order }
        })
    }

    /// The ready features keyed by `scored`.
    fn order_by(&self, scored: &ScoredGraph) -> BTreeSet<ReadyKey> {
        let mut order: Vec<ReadyKey> = self
            .ready
            .iter()
            .filter_map(|id| {
                let unblocks = scored.score(*id)?.unblocks;
                Some((Reverse(unblocks), self.slots.get(id)?.priority, *id))
            })
            .collect();
        // Sorted, the set is built in bulk.
        order.sort_unstable();
        order.into_iter().collect()
    }

    fn add(
        &mut self,
        id: FeatureId,
        status: FeatureStatus,
        settled: bool,
        priority: i64,
        deps: &[FeatureId],
    ) {
        let slot = Slot {
            status,
            priority,
            deps: deps.to_vec(),
            settled,
            waiting: 0,
        };
        self.slots.insert(id, slot);
        // Those that waited on it as a missing feature now wait on it as it is (before its
        // own edges go in, so a feature that depends on itself is counted once, below).
        if settled {
            self.passing_changed(id, true);
        }
        for &dep in deps {
            self.dependents.entry(dep).or_default().push(id);
        }
        self.recount(id);
        self.stale();
        self.place(id);
    }

    /// `id` is now settled (or no longer is): its dependents wait on one fewer (or one more).
    fn passing_changed(&mut self, id: FeatureId, passes: bool) {
        let users = self.dependents.get(&id).cloned().unwrap_or_default();
        for user in users {
            if let Some(slot) = self.slots.get_mut(&user) {
                if passes {
                    slot.waiting -= 1;
                } else {
                    slot.waiting += 1;
                }
            }
            self.place(user);
        }
        self.stale();
    }

    /// Counts again what `id` waits on.
    fn recount(&mut self, id: FeatureId) {
        let Some(slot) = self.slots.get(&id) else {
            return;
        };
        let waiting = slot
            .deps
            .iter()
            .filter(|d| self.slots.get(d).is_none_or(|s| !s.settled))
            .count();
        self.slot(id).waiting = waiting as u32;
    }

    /// Puts `id` into the sets (and the order, when it is fresh) it now belongs to, and out of
    /// the others.
    fn place(&mut self, id: FeatureId) {
        let (ready, retryable, priority) = match self.slots.get(&id) {
            Some(s) => (
                s.waiting == 0 && s.status == FeatureStatus::Pending,
                s.waiting == 0 && s.status == FeatureStatus::Failing,
                s.priority,
            ),
            None => (false, false, 0),
        };
        set_member(&mut self.retryable, id, retryable);
        if ready == self.ready.contains(&id) {
            return;
        }
        set_member(&mut self.ready, id, ready);
        if let Some(ranked) = self.ranked.get_mut() {
            let key = (Reverse(ranked.unblocks(id)), priority, id);
            set_member(&mut ranked.order, key, ready);
        }
    }

    /// Takes `id` out of the ready set and order (to be placed again after a change).
    fn unplace(&mut self, id: FeatureId) {
        if !self.ready.remove(&id) {
            return;
        }
        let priority = self.slots.get(&id).map_or(0, |s| s.priority);
        if let Some(ranked) = self.ranked.get_mut() {
            ranked
                .order
                .remove(&(Reverse(ranked.unblocks(id)), priority, id));
        }
    }

    /// Removes one listing of `user` among the dependents of `dep`.
    fn unlist(&mut self, dep: FeatureId, user: FeatureId) {
        if let Some(users) = self.dependents.get_mut(&dep) {
            if let Some(at) = users.iter().position(|u| *u == user) {
                users.swap_remove(at);
            }
            if users.is_empty() {
                self.dependents.remove(&dep);
            }
        }
    }

    fn slot(&mut self, id: FeatureId) -> &mut Slot {
        self.slots
            .get_mut(&id)
            .expect("callers check the slot exists")
    }

    fn stale(&mut self) {
        self.ranked = OnceLock::new();
    }
}

fn set_member<T: Ord>(set: &mut BTreeSet<T>, item: T, member: bool) {
    if member {
        set.insert(item);
    } else {
        set.remove(&item);
    }
}

#[cfg(test)]
#[path = "graph_live_tests.rs"]
mod tests;
