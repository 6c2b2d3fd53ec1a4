use super::ids::{FeatureId, JobId, Role, RunId};
use super::usage::Usage;
use serde::{Deserialize, Serialize};

/// A job's place in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a free slot (or for its account's breaker to close).
    Queued,
    Running,
    /// Failed for a passing reason; queued again at `available_at_ms`.
    Backoff,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Backoff => "backoff",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Reads the word [`JobState::as_str`] gives.
    pub fn parse(word: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Backoff,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    /// Queued, running or in backoff: the job still has work to do.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            JobState::Queued | JobState::Running | JobState::Backoff
        )
    }
}

/// One job as the Queue pane and `corral job list` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobView {
    pub id: JobId,
    pub profile: String,
    /// The account whose breaker the job waits on.
    pub account: String,
    pub role: Role,
    pub feature: Option<FeatureId>,
    pub feature_name: Option<String>,
    /// Lower starts sooner.
    pub priority: i64,
    pub state: JobState,
    /// Attempts counted against `max_attempts` (the running one included).
    pub attempt: u32,
    pub max_attempts: u32,
    /// Retries after transient failures so far, against `transient_budget`.
    pub transient_attempts: u32,
    pub transient_budget: u32,
    /// When a job in backoff may start again (ms since the epoch).
    pub available_at_ms: Option<i64>,
    /// One line.
    pub last_error: Option<String>,
    /// Every run of this job, oldest first.
    pub runs: Vec<RunId>,
    pub usage: Usage,
}

/// Where an account's circuit breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Jobs start normally.
    Closed,
    /// No job of the account starts before `until_ms`.
    Open,
    /// One probe job may run to test the account.
    HalfOpen,
}

impl BreakerState {
    /// The word stored in the database and printed by `corral breaker list --json`.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// One account's breaker, for the header and the Queue pane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerView {
    pub account: String,
    pub state: BreakerState,
    /// Consecutive transient failures while closed.
    pub failures: u32,
    /// When an open breaker lets a probe through; `None` when only a person can close it
    /// (credentials failed).
    pub until_ms: Option<i64>,
    /// Opened because the credentials were refused.
    pub auth: bool,
    /// How to log in again, when `auth` (e.g. "run `claude /login`").
    pub login_hint: Option<String>,
}
