//! Tables and properties of the dependency graph.

use super::*;
use FeatureStatus::{Blocked, Failed, Failing, InProgress, Passing, Pending, Ready};
use proptest::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
struct F(FeatureStatus, Vec<FeatureId>, i64);

impl Node for F {
    fn status(&self) -> FeatureStatus {
        self.0
    }
    fn dependencies(&self) -> &[FeatureId] {
        &self.1
    }
    fn priority(&self) -> i64 {
        self.2
    }
}

type Map = BTreeMap<FeatureId, F>;

fn add(map: &mut Map, id: i64, deps: &[i64], status: FeatureStatus) {
    map.insert(FeatureId(id), F(status, ids(deps), 0));
}

fn graph(spec: &[(i64, &[i64], FeatureStatus)]) -> Map {
    let mut map = Map::new();
    for &(id, deps, status) in spec {
        add(&mut map, id, deps, status);
    }
    map
}

/// A map of pending features: (id, dependencies).
fn pending(spec: &[(i64, &[i64])]) -> Map {
    graph(
        &spec
            .iter()
            .map(|&(id, deps)| (id, deps, Pending))
            .collect::<Vec<_>>(),
    )
}

fn set_priority(map: &mut Map, id: i64, priority: i64) {
    map.get_mut(&FeatureId(id)).expect("added").2 = priority;
}

fn ids(list: &[i64]) -> Vec<FeatureId> {
    list.iter().map(|&i| FeatureId(i)).collect()
}

fn score_of(map: &Map, id: i64) -> Score {
    let scores = Graph::new(map).scores();
    let found = scores.iter().find(|(f, _)| *f == FeatureId(id));
    found.map(|(_, s)| *s).expect("feature is in the map")
}

/// Each feature of `cycle` depends on the next, the last on the first, none twice.
fn assert_real_cycle(map: &Map, cycle: &[FeatureId]) {
    assert!(!cycle.is_empty());
    let distinct: BTreeSet<_> = cycle.iter().collect();
    assert_eq!(distinct.len(), cycle.len(), "{cycle:?} repeats an id");
    for (k, a) in cycle.iter().enumerate() {
        let b = cycle[(k + 1) % cycle.len()];
        assert!(map[a].1.contains(&b), "{a} doesn't depend on {b}");
    }
}

#[test]
fn readiness_table() {
    type Row = (
        i64,
        &'static [i64],
        FeatureStatus,
        FeatureStatus,
        &'static [i64],
    );
    // id, dependencies, stored status, effective status, blocked by
    let table: [Row; 11] = [
        (1, &[], Pending, Ready, &[]),
        (2, &[], Passing, Passing, &[]),
        (3, &[2], Pending, Ready, &[]),
        (4, &[1], Pending, Blocked, &[1]),
        (5, &[2, 6], Pending, Blocked, &[6]),
        (6, &[], InProgress, InProgress, &[]),
        (7, &[99], Pending, Blocked, &[99]),
        (8, &[2], Failing, Failing, &[]),
        (9, &[2], Failed, Failed, &[]),
        (10, &[9], Pending, Blocked, &[9]),
        (11, &[2, 2], Pending, Ready, &[]),
    ];
    let map = graph(&table.map(|(id, deps, stored, ..)| (id, deps, stored)));
    for (id, _, _, shown, blockers) in table {
        let got = (
            effective_status(&map, FeatureId(id)),
            blocked_by(&map, FeatureId(id)),
        );
        assert_eq!(got, (shown, ids(blockers)), "feature {id}");
    }
    assert_eq!(effective_status(&map, FeatureId(42)), Blocked);
    assert_eq!(Graph::new(&map).ready(), ids(&[1, 3, 11]));
    assert_eq!(Graph::new(&Map::new()).ready(), vec![]);
}

#[test]
fn sparse_ids_resolve_like_dense_ones() {
    let big = 1_000_000_000_000;
    let map = graph(&[
        (-big, &[], Passing),
        (0, &[-big], Pending),
        (big, &[0, i64::MAX], Pending),
        (i64::MIN, &[big], Pending),
    ]);
    let g = Graph::new(&map);
    assert_eq!(g.ready(), ids(&[0]));
    assert_eq!(g.topological_order().map(|o| o.len()), Ok(4));
    assert_eq!(score_of(&map, 0).unblocks, 2);
}

#[test]
fn acyclic_graphs_have_no_cycle() {
    let map = graph(&[(1, &[], Pending), (2, &[1], Pending), (3, &[1, 2], Passing)]);
    assert_eq!(find_cycle(&map), None);
    assert_eq!(Graph::new(&map).topological_order(), Ok(ids(&[1, 2, 3])));
}

#[test]
fn two_cycle_is_found() {
    let map = pending(&[(1, &[2]), (2, &[1]), (3, &[])]);
    let cycle = find_cycle(&map).expect("a cycle");
    assert_eq!(cycle.iter().collect::<BTreeSet<_>>().len(), 2);
    assert_real_cycle(&map, &cycle);
    assert_eq!(Graph::new(&map).topological_order(), Err(cycle));
}

#[test]
fn three_cycle_inside_a_larger_graph_is_reported_alone() {
    // 1 <- 2 <- 3 <- 4 <- 2 is the cycle (2, 3, 4); 5 hangs below it, 6 above.
    let map = graph(&[
        (1, &[], Passing),
        (2, &[1, 4], Pending),
        (3, &[2], Pending),
        (4, &[3], Pending),
        (5, &[4], Pending),
        (6, &[], Pending),
        (7, &[6], Pending),
    ]);
    let cycle = find_cycle(&map).expect("a cycle");
    assert_eq!(
        cycle.iter().copied().collect::<BTreeSet<_>>(),
        ids(&[2, 3, 4]).into_iter().collect()
    );
    assert_real_cycle(&map, &cycle);
    // The cycle and what waits on it can never start.
    for id in [2, 3, 4, 5] {
        assert_eq!(score_of(&map, id).depth, NEVER, "feature {id}");
    }
    assert_eq!(score_of(&map, 3).unblocks, 3); // 4, 2 and 5
    assert_eq!(Graph::new(&map).ready_by_score(), ids(&[6]));
}

#[test]
fn two_disjoint_cycles_report_one() {
    let map = pending(&[(1, &[2]), (2, &[1]), (3, &[5]), (4, &[3]), (5, &[4])]);
    let cycle = find_cycle(&map).expect("a cycle");
    assert!(cycle.len() == 2 || cycle.len() == 3, "{cycle:?}");
    assert_real_cycle(&map, &cycle);
}

#[test]
fn a_ready_feature_upstream_of_a_cycle_still_scores() {
    let map = pending(&[(1, &[]), (2, &[1, 3]), (3, &[2])]);
    let s = score_of(&map, 1);
    assert_eq!((s.unblocks, s.exact, s.depth), (2, true, 0));
}

#[test]
fn diamond_counts_its_bottom_once() {
    // B and C depend on A, D on both.
    let map = pending(&[(1, &[]), (2, &[1]), (3, &[1]), (4, &[2, 3])]);
    let s = score_of(&map, 1);
    assert_eq!((s.unblocks, s.exact, s.depth), (3, true, 0));
    assert_eq!(score_of(&map, 4).depth, 2);
}

#[test]
fn both_roots_of_a_join_unblock_it() {
    // 1 and 2 both feed 3, and 4 waits on 3: neither root is charged less than the other.
    let map = pending(&[(1, &[]), (2, &[]), (3, &[1, 2]), (4, &[3])]);
    assert_eq!(score_of(&map, 1).unblocks, 2);
    assert_eq!(score_of(&map, 2).unblocks, 2);
    assert_eq!(ready_in_order(&map), ids(&[1, 2]));
}

#[test]
fn wide_fan_out_wins_and_is_counted_exactly() {
    // 1 fans out to 1000, 2 to 999 with a better priority, 3 is alone with the best.
    let mut map = pending(&[(1, &[]), (2, &[]), (3, &[])]);
    set_priority(&mut map, 2, -5);
    set_priority(&mut map, 3, -10);
    for (id, root) in (100..1100)
        .map(|i| (i, 1))
        .chain((2000..2999).map(|i| (i, 2)))
    {
        add(&mut map, id, &[root], Pending);
    }
    let s = score_of(&map, 1);
    assert_eq!((s.unblocks, s.exact), (1000, true));
    assert_eq!(score_of(&map, 2).unblocks, 999);
    assert_eq!(Graph::new(&map).ready_by_score(), ids(&[1, 2, 3]));
}

#[test]
fn long_chain_beats_short_chain_and_is_exact() {
    // 1 heads a chain of 199 more, 1000 a chain of 3.
    let mut map = pending(&[(1, &[]), (1000, &[])]);
    for id in (2..=200).chain(1001..=1003) {
        add(&mut map, id, &[id - 1], Pending);
    }
    let s = score_of(&map, 1);
    assert_eq!((s.unblocks, s.exact), (199, true));
    assert_eq!(score_of(&map, 200).depth, 199);
    assert_eq!(Graph::new(&map).ready_by_score(), ids(&[1, 1000]));
}

#[test]
fn chain_plus_fan_ranks_by_total_downstream_work() {
    // 1 heads a chain of 5; 10 fans out to 4; 20 fans out to 5 with a lower priority value;
    // 30 is alone. Passing work upstream does not count.
    let mut map = pending(&[(1, &[]), (10, &[]), (20, &[]), (30, &[])]);
    let chain = (2..=6).map(|id| (id, id - 1));
    let fans = (11..=14)
        .map(|id| (id, 10))
        .chain((21..=25).map(|id| (id, 20)));
    for (id, dep) in chain.chain(fans) {
        add(&mut map, id, &[dep], Pending);
    }
    set_priority(&mut map, 20, -1);
    add(&mut map, 40, &[], Passing);
    add(&mut map, 41, &[40], Pending);
    assert_eq!(Graph::new(&map).ready_by_score(), ids(&[20, 1, 10, 30, 41]));
}

#[test]
fn estimates_stay_close_on_a_big_lattice() {
    // Layers of 50, each feature depending on 3 of the layer below: heavy path overlap.
    let mut map = Map::new();
    let width = 50;
    for id in 0..40 * width {
        let (layer, k) = (id / width, id % width);
        let below = (0..3).filter(|_| layer > 0);
        let deps: Vec<i64> = below
            .map(|j| (layer - 1) * width + (k * 7 + j * 13) % width)
            .collect();
        add(&mut map, id, &deps, Pending);
    }
    let scores = Graph::new(&map).scores();
    let truths = all_downstream(&map);
    // The bitsets agree with the search, checked on a spread of features.
    for (id, _) in scores.iter().step_by(97) {
        assert_eq!(truths[id], downstream(&map, *id), "feature {id}");
    }
    let mut total_error = 0.0;
    for (id, s) in &scores {
        let truth = truths[id];
        let error = (s.unblocks as f64 - truth as f64).abs() / truth.max(1) as f64;
        assert!(error < 1.0, "feature {id}: {} for {truth}", s.unblocks);
        assert!(!s.exact || s.unblocks == truth);
        total_error += error;
    }
    assert!(total_error / (scores.len() as f64) < 0.15);
}

/// The exact downstream count by brute force: not-passing features reaching `id` through
/// not-passing features.
fn downstream(map: &Map, id: FeatureId) -> u64 {
    downstream_in(&dependents(map), id)
}

/// Each feature's not-passing dependents: made once for a test that asks about every feature
/// (made again per feature, it was most of a 14 s debug-build test).
fn dependents(map: &Map) -> BTreeMap<FeatureId, Vec<FeatureId>> {
    let mut dependents: BTreeMap<FeatureId, Vec<FeatureId>> = BTreeMap::new();
    for (d, f) in map.iter().filter(|(_, f)| f.0 != Passing) {
        for dep in &f.1 {
            dependents.entry(*dep).or_default().push(*d);
        }
    }
    dependents
}

/// [`downstream`] of every feature of an acyclic `map` at once: each feature's downstream set
/// as a bitset, the union of its dependents' and the dependents themselves. The same counts
/// as a search per feature, which made this a 10 s test in a debug build.
fn all_downstream(map: &Map) -> BTreeMap<FeatureId, u64> {
    let dependents = dependents(map);
    let ids: Vec<FeatureId> = map.keys().copied().collect();
    let index: BTreeMap<FeatureId, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut sets: Vec<Option<Vec<u64>>> = vec![None; ids.len()];
    fn fill(
        i: usize,
        ids: &[FeatureId],
        index: &BTreeMap<FeatureId, usize>,
        dependents: &BTreeMap<FeatureId, Vec<FeatureId>>,
        sets: &mut Vec<Option<Vec<u64>>>,
    ) {
        if sets[i].is_some() {
            return;
        }
        let mut set = vec![0u64; ids.len().div_ceil(64)];
        for d in dependents.get(&ids[i]).into_iter().flatten() {
            let j = index[d];
            fill(j, ids, index, dependents, sets);
            set[j / 64] |= 1 << (j % 64);
            for (w, x) in set.iter_mut().zip(sets[j].iter().flatten()) {
                *w |= x;
            }
        }
        sets[i] = Some(set);
    }
    (0..ids.len())
        .map(|i| {
            fill(i, &ids, &index, &dependents, &mut sets);
            let count = sets[i]
                .iter()
                .flatten()
                .map(|w| w.count_ones() as u64)
                .sum();
            (ids[i], count)
        })
        .collect()
}

/// [`downstream`] with the dependents already made.
fn downstream_in(dependents: &BTreeMap<FeatureId, Vec<FeatureId>>, id: FeatureId) -> u64 {
    let mut seen = BTreeSet::new();
    let mut todo = vec![id];
    while let Some(u) = todo.pop() {
        for d in dependents.get(&u).into_iter().flatten() {
            if seen.insert(*d) {
                todo.push(*d);
            }
        }
    }
    seen.remove(&id);
    seen.len() as u64
}

fn status() -> impl Strategy<Value = FeatureStatus> {
    prop_oneof![
        4 => Just(Pending),
        3 => Just(Passing),
        1 => Just(InProgress),
        1 => Just(Failing),
        1 => Just(Failed),
    ]
}

/// A random DAG: feature `i` depends only on lower indices (or, rarely, a missing id). Ids
/// are spaced densely or sparsely to exercise both indexes.
fn dag() -> impl Strategy<Value = Map> {
    (1usize..40, prop_oneof![Just(1i64), Just(1_000_003)])
        .prop_flat_map(|(n, step)| {
            let deps = prop::collection::vec(any::<prop::sample::Index>(), 0..4);
            let row = (deps, status(), -2i64..3, prop::bool::weighted(0.05));
            (prop::collection::vec(row, n), Just(step))
        })
        .prop_map(|(rows, step)| {
            let id = |i: usize| FeatureId(i as i64 * step - 7);
            let mut map = Map::new();
            for (i, (picks, status, priority, missing)) in rows.into_iter().enumerate() {
                let mut deps: Vec<FeatureId> = picks
                    .iter()
                    .filter(|_| i > 0)
                    .map(|p| id(p.index(i)))
                    .collect();
                if missing {
                    deps.push(FeatureId(-1_000_000_000_000));
                }
                map.insert(id(i), F(status, deps, priority));
            }
            map
        })
}

proptest! {
    #[test]
    fn topological_order_puts_dependencies_first(map in dag()) {
        let order = Graph::new(&map).topological_order().expect("a DAG has no cycle");
        prop_assert_eq!(order.len(), map.len());
        let position: BTreeMap<FeatureId, usize> =
            order.iter().enumerate().map(|(k, id)| (*id, k)).collect();
        for (id, f) in &map {
            for dep in f.1.iter().filter(|d| map.contains_key(d)) {
                prop_assert!(position[dep] < position[id], "{} before its dependency {}", id, dep);
            }
        }
        prop_assert_eq!(find_cycle(&map), None);
    }

    #[test]
    fn ready_is_pending_with_every_dependency_passing(map in dag()) {
        let expected: Vec<FeatureId> = map
            .iter()
            .filter(|(_, f)| f.0 == Pending)
            .filter(|(_, f)| f.1.iter().all(|d| map.get(d).is_some_and(|d| d.0 == Passing)))
            .map(|(id, _)| *id)
            .collect();
        let g = Graph::new(&map);
        prop_assert_eq!(g.ready(), expected.clone());
        let by_score: BTreeSet<FeatureId> = g.ready_by_score().into_iter().collect();
        prop_assert_eq!(by_score, expected.iter().copied().collect::<BTreeSet<_>>());
        for id in &expected {
            prop_assert_eq!(effective_status(&map, *id), Ready);
        }
    }

    #[test]
    fn scores_match_brute_force_when_marked_exact(map in dag()) {
        for (id, s) in Graph::new(&map).scores() {
            let truth = if map[&id].0 == Passing { 0 } else { downstream(&map, id) };
            if s.exact || truth < score::K as u64 - 1 {
                prop_assert_eq!(s.unblocks, truth, "feature {}", id);
            }
        }
    }

    #[test]
    fn a_back_edge_makes_a_real_cycle(map in dag(), pick in any::<prop::sample::Index>()) {
        // Close a loop: some feature below `top` in the dependency order comes to depend on it.
        let with_deps: Vec<FeatureId> = map
            .iter()
            .filter(|(_, f)| f.1.iter().any(|d| map.contains_key(d)))
            .map(|(id, _)| *id)
            .collect();
        prop_assume!(!with_deps.is_empty());
        let top = with_deps[pick.index(with_deps.len())];
        let mut below = vec![top];
        let mut at = top;
        while let Some(next) = map[&at].1.iter().copied().find(|d| map.contains_key(d)) {
            below.push(next);
            at = next;
        }
        let bottom = below[pick.index(below.len() - 1) + 1];
        let mut map = map;
        map.get_mut(&bottom).expect("in the map").1.push(top);
        let cycle = find_cycle(&map);
        prop_assert!(cycle.is_some());
        let cycle = cycle.unwrap_or_default();
        assert_real_cycle(&map, &cycle);
        prop_assert_eq!(Graph::new(&map).topological_order(), Err(cycle));
    }
}
