//! The feature dependency graph: which features can start and what blocks the rest.

use crate::api::{FeatureId, FeatureStatus};
use std::collections::BTreeMap;

/// The parts of a feature the graph needs.
pub trait Node {
    fn status(&self) -> FeatureStatus;
    fn dependencies(&self) -> &[FeatureId];
    fn priority(&self) -> i64;
}

/// Dependencies of `id` that are not passing (a dependency missing from the map counts as blocking).
pub fn blocked_by<N: Node>(nodes: &BTreeMap<FeatureId, N>, id: FeatureId) -> Vec<FeatureId> {
    let Some(node) = nodes.get(&id) else {
        return Vec::new();
    };
    node.dependencies()
        .iter()
        .copied()
        .filter(|dep| {
            nodes
                .get(dep)
                .is_none_or(|d| d.status() != FeatureStatus::Passing)
        })
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

/// Ready features in the order they should start: lower priority first, then lower id.
pub fn ready_in_order<N: Node>(nodes: &BTreeMap<FeatureId, N>) -> Vec<FeatureId> {
    let mut ready: Vec<(i64, FeatureId)> = nodes
        .iter()
        .filter(|(id, _)| effective_status(nodes, **id) == FeatureStatus::Ready)
        .map(|(id, n)| (n.priority(), *id))
        .collect();
    ready.sort();
    ready.into_iter().map(|(_, id)| id).collect()
}
