//! The records the core keeps about features, jobs and new runs.

use super::graph::Node;
use crate::api::{FeatureId, FeatureStatus, JobId, JobState, Role, RunId};

/// A backlog feature as the core tracks it. `status` is the stored status (never Ready/Blocked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub id: FeatureId,
    pub category: String,
    pub name: String,
    pub priority: i64,
    pub dependencies: Vec<FeatureId>,
    pub status: FeatureStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// When a testing agent last re-checked it (ms since the epoch).
    pub last_tested_at: Option<i64>,
}

impl Node for Feature {
    fn status(&self) -> FeatureStatus {
        self.status
    }
    fn dependencies(&self) -> &[FeatureId] {
        &self.dependencies
    }
    fn priority(&self) -> i64 {
        self.priority
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub profile: String,
    pub feature: Option<FeatureId>,
    pub state: JobState,
    pub attempt: u32,
    pub max_attempts: u32,
    pub last_error: Option<String>,
}

/// What the runtime reports after it spawned a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub id: RunId,
    pub job: JobId,
    pub feature: Option<FeatureId>,
    pub profile: String,
    pub role: Role,
    pub pid: u32,
    pub started_at_ms: i64,
    pub grace_ms: u64,
    pub timeout_ms: Option<u64>,
    pub silence_ms: Option<u64>,
}
