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
                Some(f) => self.live.set(id, f.status, f.priority, &f.dependencies),
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
}
