//! The model's features with their [`LiveGraph`] kept in step: every change goes through
//! [`FeatureMap::get_mut`] (or `insert`, `remove`), which notes the feature, and
//! [`FeatureMap::sync`] hands the noted ones to the graph.

use super::graph_live::LiveGraph;
use super::records::Feature;
use crate::api::FeatureId;
use std::collections::BTreeMap;
use std::ops::Deref;

/// Features by id, read like a map (through `Deref`), changed through
/// [`FeatureMap::get_mut`], with the dependency graph of them.
#[derive(Debug, Clone, Default)]
pub struct FeatureMap {
    map: BTreeMap<FeatureId, Feature>,
    live: LiveGraph,
    /// Features lent out for change since the last [`FeatureMap::sync`].
    dirty: Vec<FeatureId>,
}

impl FeatureMap {
    /// The dependency graph as of the last [`FeatureMap::sync`]. [`super::Model::handle`]
    /// syncs before it schedules and before it returns, so between inputs it is current.
    pub fn graph(&self) -> &LiveGraph {
        &self.live
    }

    /// The dependency graph with every change made so far.
    pub fn synced_graph(&mut self) -> &LiveGraph {
        self.sync();
        &self.live
    }

    /// Hands the features changed since the last call to the graph: O(d log n) each for a
    /// status or priority change (see [`LiveGraph`] for the rest).
    pub fn sync(&mut self) {
        for id in self.dirty.drain(..) {
            match self.map.get(&id) {
                Some(f) => {
                    let settled = super::graph::Node::settled(f);
                    self.live
                        .set_node(id, f.status, settled, f.priority, &f.dependencies)
                }
                None => self.live.remove(id),
            }
        }
    }

    /// The feature `id`, to change in place; the graph takes the change at the next sync.
    pub fn get_mut(&mut self, id: &FeatureId) -> Option<&mut Feature> {
        let feature = self.map.get_mut(id)?;
        self.dirty.push(*id);
        Some(feature)
    }

    /// Adds or replaces a feature; returns the one it replaced.
    pub fn insert(&mut self, feature: Feature) -> Option<Feature> {
        self.dirty.push(feature.id);
        self.map.insert(feature.id, feature)
    }

    pub fn remove(&mut self, id: &FeatureId) -> Option<Feature> {
        self.dirty.push(*id);
        self.map.remove(id)
    }
}

impl Deref for FeatureMap {
    type Target = BTreeMap<FeatureId, Feature>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl FromIterator<(FeatureId, Feature)> for FeatureMap {
    /// Indexes the whole backlog at once, in O(n + m).
    fn from_iter<T: IntoIterator<Item = (FeatureId, Feature)>>(iter: T) -> Self {
        let map: BTreeMap<FeatureId, Feature> = iter.into_iter().collect();
        let live = LiveGraph::new(map.iter().map(|(id, f)| (*id, f)));
        FeatureMap {
            map,
            live,
            dirty: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::FeatureStatus;

    fn feature(id: i64, deps: &[i64]) -> Feature {
        Feature {
            id: FeatureId(id),
            category: String::new(),
            name: format!("f{id}"),
            priority: 0,
            dependencies: deps.iter().copied().map(FeatureId).collect(),
            status: FeatureStatus::Pending,
            attempts: 0,
            last_error: None,
            last_tested_at: None,
            profile: None,
            usage: Default::default(),
            unmerged: false,
            merge: None,
        }
    }

    #[test]
    fn the_graph_follows_every_change_made_through_the_map() {
        let mut m: FeatureMap = [
            (FeatureId(1), feature(1, &[])),
            (FeatureId(2), feature(2, &[1])),
        ]
        .into_iter()
        .collect();
        let ready = |m: &mut FeatureMap| m.synced_graph().ready_in_order().collect::<Vec<_>>();
        assert_eq!(ready(&mut m), vec![FeatureId(1)]);
        m.get_mut(&FeatureId(1)).unwrap().status = FeatureStatus::Passing;
        // Not seen before the sync.
        assert_eq!(m.graph().ready().collect::<Vec<_>>(), vec![FeatureId(1)]);
        assert_eq!(ready(&mut m), vec![FeatureId(2)]);
        m.get_mut(&FeatureId(2)).unwrap().dependencies = vec![FeatureId(3)];
        assert_eq!(ready(&mut m), vec![]);
        m.insert(feature(3, &[]));
        assert_eq!(ready(&mut m), vec![FeatureId(3)]);
        m.remove(&FeatureId(3));
        assert_eq!(ready(&mut m), vec![]);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&FeatureId(1)].status, FeatureStatus::Passing);
    }

    #[test]
    fn a_passing_feature_not_merged_yet_keeps_its_dependents_waiting() {
        let mut m: FeatureMap = [
            (FeatureId(1), feature(1, &[])),
            (FeatureId(2), feature(2, &[1])),
            (FeatureId(3), feature(3, &[])),
        ]
        .into_iter()
        .collect();
        let ready = |m: &mut FeatureMap| m.synced_graph().ready_in_order().collect::<Vec<_>>();
        let f1 = m.get_mut(&FeatureId(1)).unwrap();
        f1.status = FeatureStatus::Passing;
        f1.unmerged = true;
        assert_eq!(ready(&mut m), vec![FeatureId(3)]);
        assert!(!m.graph().unblocked(FeatureId(2)));
        // What a graph built from scratch says too.
        let fresh = super::super::graph::Graph::new(&*m).ready_by_score();
        assert_eq!(fresh, vec![FeatureId(3)]);
        m.get_mut(&FeatureId(1)).unwrap().unmerged = false;
        assert_eq!(ready(&mut m), vec![FeatureId(2), FeatureId(3)]);
        m.get_mut(&FeatureId(1)).unwrap().unmerged = true;
        assert_eq!(ready(&mut m), vec![FeatureId(3)]);
    }

    mod model {
        //! Whatever the model does to its features, its graph answers what a graph built
        //! from scratch on them answers.
        use super::feature;
        use crate::api::{Command, FeatureId, FeatureStatus, JobState, Role, RunId};
        use crate::core::graph;
        use crate::core::scheduler::ProfileSlot;
        use crate::core::{Effect, Input, Model, NewRun};
        use proptest::prelude::*;

        #[derive(Debug, Clone)]
        enum Step {
            Mark(i64, bool),
            Priority(i64, i64),
            Requeue(i64),
            Start(i64),
            /// The runtime answers the oldest spawn it was asked for.
            Spawned,
            /// The oldest live run ends with this exit code.
            Exited(i32),
            /// The backlog is read back from the store with one feature gone.
            Reload {
                without: i64,
            },
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                2 => (1i64..=8, any::<bool>()).prop_map(|(f, p)| Step::Mark(f, p)),
                1 => (1i64..=8, -2i64..3).prop_map(|(f, p)| Step::Priority(f, p)),
                1 => (1i64..=8).prop_map(Step::Requeue),
                1 => (1i64..=8).prop_map(Step::Start),
                3 => Just(Step::Spawned),
                3 => (0i32..2).prop_map(Step::Exited),
                1 => (1i64..=8).prop_map(|without| Step::Reload { without }),
            ]
        }

        fn check(m: &Model) -> Result<(), TestCaseError> {
            let live: Vec<FeatureId> = m.features.graph().ready_in_order().collect();
            prop_assert_eq!(live, graph::ready_in_order(&*m.features));
            let retryable: Vec<FeatureId> = m
                .features
                .values()
                .filter(|f| f.status == FeatureStatus::Failing)
                .filter(|f| graph::blocked_by(&*m.features, f.id).is_empty())
                .map(|f| f.id)
                .collect();
            prop_assert_eq!(
                m.features.graph().retryable().collect::<Vec<_>>(),
                retryable
            );
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(120))]

            #[test]
            fn the_models_graph_follows_every_input(
                deps in prop::collection::vec(prop::collection::vec(1i64..=8, 0..3), 8),
                steps in prop::collection::vec(step(), 1..40),
            ) {
                let features = deps
                    .iter()
                    .enumerate()
                    .map(|(i, d)| feature(i as i64 + 1, d))
                    .collect();
                let (mut m, _) = Model::new(features, 2);
                m.profiles.insert(Role::Coding, ProfileSlot { name: "coding".into(), max_parallel: None });
                let mut spawns: Vec<(crate::api::JobId, Option<FeatureId>)> = Vec::new();
                let mut next_run = 1;
                let mut effects = m.handle(Input::Kick);
                for step in steps {
                    spawns.extend(effects.iter().filter_map(|e| match e {
                        Effect::Spawn { job, feature, role: Role::Coding, .. } => Some((*job, *feature)),
                        _ => None,
                    }));
                    let input = match step {
                        Step::Mark(f, passing) => Input::Command(Command::MarkFeature { feature: FeatureId(f), passing }),
                        Step::Priority(f, priority) => Input::Command(Command::SetPriority { feature: FeatureId(f), priority }),
                        Step::Requeue(f) => Input::Command(Command::RequeueFeature { feature: FeatureId(f) }),
                        Step::Start(f) => Input::Command(Command::StartFeature { feature: FeatureId(f) }),
                        Step::Spawned if spawns.is_empty() => Input::Kick,
                        Step::Spawned => {
                            let (job, feature) = spawns.remove(0);
                            next_run += 1;
                            Input::Spawned(NewRun {
                                id: RunId(next_run),
                                job,
                                feature,
                                profile: "coding".into(),
                                role: Role::Coding,
                                pid: 1000,
                                started_at_ms: 0,
                                grace_ms: 5000,
                                timeout_ms: None,
                                silence_ms: None,
                            })
                        }
                        Step::Exited(code) => {
                            let live = m.runs.values().find(|r| r.state.is_live()).map(|r| r.id);
                            match live {
                                Some(run) => Input::Exited {
                                    run,
                                    code: Some(code),
                                    signal: None,
                                    group_alive: false,
                                    at_ms: 0,
                                    verdict: None,
                                    failure: None,
                                    usage: None,
                                    random: 0,
                                    unjudged: None,
                                },
                                None => Input::Kick,
                            }
                        }
                        Step::Reload { without } => Input::Backlog(
                            m.features.values().filter(|f| f.id.0 != without).cloned().collect(),
                        ),
                    };
                    effects = m.handle(input);
                    check(&m)?;
                }
                prop_assert!(m.jobs.values().all(|j| j.state != JobState::Running || j.feature.is_some()));
            }
        }
    }
}
