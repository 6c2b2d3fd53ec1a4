//! The records the core keeps about features, jobs and new runs.

use super::failure::Class;
use super::graph::Node;
use crate::api::{FeatureId, FeatureStatus, JobId, JobState, JobView, Role, RunId, Usage};

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
    /// The profile the feature asks for, if any (used when it is an enabled one of the role).
    pub profile: Option<String>,
    /// What every run on it reported spending.
    pub usage: Usage,
    /// Passing, but its worktree branch is not merged into the base yet: features that
    /// depend on it wait (their branches would start without its work).
    pub unmerged: bool,
    /// Where its merge stands while it is not merged (waiting for a clean checkout, a
    /// conflict, review, the PR's URL), shown beside it.
    pub merge: Option<String>,
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
    fn settled(&self) -> bool {
        self.status == FeatureStatus::Passing && !self.unmerged
    }
}

/// A unit of work in the queue: one feature (or none, for the initializer) for one role, run
/// as many times as its retries allow. Every run belongs to exactly one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub profile: String,
    /// Whose circuit breaker guards its starts.
    pub account: String,
    pub role: Role,
    pub feature: Option<FeatureId>,
    /// Lower starts sooner.
    pub priority: i64,
    pub state: JobState,
    /// Attempts counted against `max_attempts`; transient failures and interruptions give
    /// theirs back.
    pub attempts: u32,
    pub max_attempts: u32,
    pub transient_attempts: u32,
    pub transient_budget: u32,
    /// While in backoff: when it may start again (ms since the epoch).
    pub available_at_ms: Option<i64>,
    pub last_error: Option<String>,
    /// Oldest first.
    pub runs: Vec<RunId>,
    pub usage: Usage,
    pub created_at_ms: i64,
    /// Bumped whenever a backoff timer is set or cancelled; wakes with another epoch are stale.
    pub epoch: u64,
}

impl Job {
    /// The job as the Queue pane and `corral job list` show it; `feature_name` is the name of
    /// its feature, looked up by the caller.
    pub fn view(&self, feature_name: Option<String>) -> JobView {
        JobView {
            id: self.id,
            profile: self.profile.clone(),
            account: self.account.clone(),
            role: self.role,
            feature: self.feature,
            feature_name,
            priority: self.priority,
            state: self.state,
            attempt: self.attempts,
            max_attempts: self.max_attempts,
            transient_attempts: self.transient_attempts,
            transient_budget: self.transient_budget,
            available_at_ms: self.available_at_ms,
            last_error: self.last_error.clone(),
            runs: self.runs.clone(),
            usage: self.usage,
        }
    }
}

/// How a run's work was judged when its exit code alone does not decide (a profile with
/// `success = "report"` or a `verify` command). Each says what really happened, so a job's
/// last error never claims a report or a verify that did not take place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The agent reported that the work passes (and `verify`, if any, passed).
    Passed,
    /// The agent reported that the work fails (`corral feature fail --run`).
    ReportedFailing,
    /// `success = "report"`, and the agent ended without reporting pass or fail.
    NotReported,
    /// The work would have passed, but the profile's `verify` command failed.
    VerifyFailed,
}

impl Verdict {
    /// What a failing verdict adds to how the run ended (`end`, e.g. `exited 0`).
    pub fn describe(self, end: &str) -> String {
        match self {
            Verdict::Passed => end.to_string(),
            Verdict::ReportedFailing => format!("the agent reported failing ({end})"),
            Verdict::NotReported => format!("{end} without reporting pass or fail"),
            Verdict::VerifyFailed => format!("verify failed (the agent {end})"),
        }
    }
}

/// Why a run failed, as read from the end of its log by [`super::failure::Classifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub class: Class,
    /// The log line that decided it, if one did (already redacted).
    pub evidence: Option<String>,
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
