use super::*;
use crate::api::FeatureStatus::{Failed, Failing, InProgress, Passing, Pending};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Item {
    status: FeatureStatus,
    priority: i64,
    deps: Vec<FeatureId>,
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

fn ids(raw: &[i64]) -> Vec<FeatureId> {
    raw.iter().copied().map(FeatureId).collect()
}

fn item(status: FeatureStatus, priority: i64, deps: &[i64]) -> Item {
    let deps = ids(deps);
    Item {
        status,
        priority,
        deps,
    }
}

/// Everything the live graph answers, computed from scratch on `map`.
fn from_scratch(
    map: &BTreeMap<FeatureId, Item>,
) -> (Vec<FeatureId>, Vec<FeatureId>, Vec<FeatureId>) {
    let graph = Graph::new(map);
    let retryable = map
        .values()
        .zip(map.keys())
        .filter(|(f, id)| {
            f.status == Failing && super::super::graph::blocked_by(map, **id).is_empty()
        })
        .map(|(_, id)| *id)
        .collect();
    (graph.ready_by_score(), graph.ready(), retryable)
}

fn live_answers(live: &LiveGraph) -> (Vec<FeatureId>, Vec<FeatureId>, Vec<FeatureId>) {
    (
        live.ready_in_order().collect(),
        live.ready().collect(),
        live.retryable().collect(),
    )
}

fn set(live: &mut LiveGraph, map: &mut BTreeMap<FeatureId, Item>, id: i64, it: Item) {
    live.set(FeatureId(id), it.status, it.priority, &it.deps);
    map.insert(FeatureId(id), it);
}

#[test]
fn a_chain_opens_one_feature_at_a_time() {
    // 1 <- 2 <- 3, and 4 on its own.
    let mut map = BTreeMap::new();
    map.insert(FeatureId(1), item(Pending, 0, &[]));
    map.insert(FeatureId(2), item(Pending, 0, &[1]));
    map.insert(FeatureId(3), item(Pending, 0, &[2]));
    map.insert(FeatureId(4), item(Pending, 0, &[]));
    let mut live = LiveGraph::new(map.iter().map(|(id, f)| (*id, f)));
    // 1 unblocks two features, 4 none.
    assert_eq!(live.ready_in_order().collect::<Vec<_>>(), ids(&[1, 4]));
    let steps: [(i64, FeatureStatus, &[i64]); 5] = [
        (1, InProgress, &[4]),
        (1, Passing, &[2, 4]),
        (2, Failing, &[4]),
        (2, Passing, &[3, 4]),
        (3, Failed, &[4]),
    ];
    for (id, status, ready) in steps {
        let mut it = map[&FeatureId(id)].clone();
        it.status = status;
        set(&mut live, &mut map, id, it);
        assert_eq!(
            live.ready_in_order().collect::<Vec<_>>(),
            ids(ready),
            "after {id} {status:?}"
        );
        assert_eq!(live_answers(&live), from_scratch(&map));
    }
}

#[test]
fn retryable_is_failing_with_nothing_to_wait_for() {
    let mut map = BTreeMap::new();
    map.insert(FeatureId(1), item(Failing, 0, &[]));
    map.insert(FeatureId(2), item(Failing, 0, &[1]));
    map.insert(FeatureId(3), item(Passing, 0, &[]));
    map.insert(FeatureId(4), item(Failing, 0, &[3]));
    let live = LiveGraph::new(map.iter().map(|(id, f)| (*id, f)));
    assert_eq!(live.retryable().collect::<Vec<_>>(), ids(&[1, 4]));
    assert!(live.unblocked(FeatureId(4)) && !live.unblocked(FeatureId(2)));
    assert!(!live.unblocked(FeatureId(9)));
}

#[test]
fn a_missing_dependency_blocks_until_it_is_added_and_passes() {
    let mut map = BTreeMap::new();
    let mut live = LiveGraph::default();
    set(&mut live, &mut map, 2, item(Pending, 0, &[1, 1]));
    assert_eq!(live.ready().count(), 0);
    set(&mut live, &mut map, 1, item(Pending, 0, &[]));
    assert_eq!(live.ready().collect::<Vec<_>>(), ids(&[1]));
    set(&mut live, &mut map, 1, item(Passing, 0, &[]));
    assert_eq!(live.ready().collect::<Vec<_>>(), ids(&[2]));
    live.remove(FeatureId(1));
    map.remove(&FeatureId(1));
    assert_eq!(live.ready().count(), 0);
    assert_eq!(live_answers(&live), from_scratch(&map));
}

#[test]
fn a_priority_change_moves_a_ready_feature_in_place() {
    let mut map = BTreeMap::new();
    let mut live = LiveGraph::default();
    for id in 1..=3 {
        set(&mut live, &mut map, id, item(Pending, id, &[]));
    }
    assert_eq!(live.ready_in_order().collect::<Vec<_>>(), ids(&[1, 2, 3]));
    set(&mut live, &mut map, 3, item(Pending, -1, &[]));
    assert_eq!(live.ready_in_order().collect::<Vec<_>>(), ids(&[3, 1, 2]));
    assert_eq!(
        live.ready_key(FeatureId(3)),
        Some((Reverse(0), -1, FeatureId(3)))
    );
    assert_eq!(live.ready_key(FeatureId(4)), None);
}

#[test]
fn a_feature_that_depends_on_itself_never_becomes_ready() {
    let mut map = BTreeMap::new();
    let mut live = LiveGraph::default();
    set(&mut live, &mut map, 1, item(Passing, 0, &[1]));
    set(&mut live, &mut map, 1, item(Pending, 0, &[1]));
    assert_eq!(live.ready().count(), 0);
    assert_eq!(live_answers(&live), from_scratch(&map));
}

#[derive(Debug, Clone)]
enum Op {
    Set(i64, Item),
    /// Only the status changes (the common case while agents run).
    Status(i64, FeatureStatus),
    Remove(i64),
    /// Ask nothing until the next operation, so several changes pile up on stale scores.
    Quiet,
}

fn status() -> impl Strategy<Value = FeatureStatus> {
    prop_oneof![
        3 => Just(Pending),
        1 => Just(InProgress),
        3 => Just(Passing),
        1 => Just(Failing),
        1 => Just(Failed),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    // Ids 1..=10 exist now and then; 11 and 12 only ever as missing dependencies.
    let deps = prop::collection::vec(1i64..=12, 0..4);
    let new = (1i64..=10, status(), 0i64..3, deps)
        .prop_map(|(id, status, priority, deps)| Op::Set(id, item(status, priority, &deps)));
    prop_oneof![
        3 => new,
        4 => (1i64..=10, status()).prop_map(|(id, s)| Op::Status(id, s)),
        1 => (1i64..=10).prop_map(Op::Remove),
        1 => Just(Op::Quiet),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// After any sequence of changes, the live graph answers what a graph built from scratch
    /// on the same features answers.
    #[test]
    fn the_live_graph_matches_the_graph_built_from_scratch(
        start in prop::collection::vec((1i64..=10, status(), 0i64..3, prop::collection::vec(1i64..=12, 0..4)), 0..10),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let mut map: BTreeMap<FeatureId, Item> = start
            .into_iter()
            .map(|(id, s, p, deps)| (FeatureId(id), item(s, p, &deps)))
            .collect();
        let mut live = LiveGraph::new(map.iter().map(|(id, f)| (*id, f)));
        prop_assert_eq!(live_answers(&live), from_scratch(&map));
        let mut quiet = false;
        for op in ops {
            match op {
                Op::Set(id, it) => set(&mut live, &mut map, id, it),
                Op::Status(id, status) => {
                    if let Some(mut it) = map.get(&FeatureId(id)).cloned() {
                        it.status = status;
                        set(&mut live, &mut map, id, it);
                    }
                }
                Op::Remove(id) => {
                    live.remove(FeatureId(id));
                    map.remove(&FeatureId(id));
                }
                Op::Quiet => {
                    quiet = true;
                    continue;
                }
            }
            if std::mem::take(&mut quiet) {
                continue;
            }
            prop_assert_eq!(live_answers(&live), from_scratch(&map));
            for id in 1..=12 {
                let id = FeatureId(id);
                let unblocked = map.contains_key(&id)
                    && super::super::graph::blocked_by(&map, id).is_empty();
                prop_assert_eq!(live.unblocked(id), unblocked);
            }
        }
        prop_assert_eq!(live_answers(&live), from_scratch(&map));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Passing features that wait on nothing, one after another, rescored without sketches,
    /// gives every score (not only the ready ones') that scoring from scratch gives.
    #[test]
    fn rescoring_a_pass_matches_scoring_from_scratch(
        start in prop::collection::vec((status(), 0i64..3, prop::collection::vec(1i64..=40, 0..4)), 40),
        passes in prop::collection::vec(1i64..=40, 1..10),
    ) {
        let mut map: BTreeMap<FeatureId, Item> = start
            .into_iter()
            .enumerate()
            .map(|(i, (s, p, deps))| (FeatureId(i as i64 + 1), item(s, p, &deps)))
            .collect();
        let mut scored = ScoredGraph::new(Graph::new(&map));
        for id in passes {
            let id = FeatureId(id);
            let waits = !super::super::graph::blocked_by(&map, id).is_empty();
            let open = map[&id].status != Passing;
            prop_assert_eq!(scored.passed(id), open && !waits);
            if open && !waits {
                map.get_mut(&id).unwrap().status = Passing;
                let fresh = Graph::new(&map).scores();
                prop_assert_eq!(scored.scores(), fresh.as_slice());
            }
        }
    }
}
