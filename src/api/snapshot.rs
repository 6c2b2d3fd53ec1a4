use super::ids::{FeatureId, JobId, Role, RunId};
use super::queue::{BreakerView, JobView};
use super::usage::Usage;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where a feature stands. `Ready` and `Blocked` are derived from dependencies, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureStatus {
    /// Not started; dependencies decide whether it is ready or blocked.
    Pending,
    /// Pending with every dependency passing.
    Ready,
    /// Pending with at least one dependency not passing.
    Blocked,
    InProgress,
    Passing,
    /// The last attempt failed; it will be tried again (attempts remain).
    Failing,
    /// Every attempt failed; only a person (requeue) starts it again.
    Failed,
}

impl FeatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureStatus::Pending => "pending",
            FeatureStatus::Ready => "ready",
            FeatureStatus::Blocked => "blocked",
            FeatureStatus::InProgress => "in_progress",
            FeatureStatus::Passing => "passing",
            FeatureStatus::Failing => "failing",
            FeatureStatus::Failed => "failed",
        }
    }
}

/// Life of one run. Ended states carry what the process really did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RunState {
    /// Process spawned and not stopped by us.
    Running,
    /// Process group stopped with SIGSTOP.
    Paused,
    /// TERM sent, waiting for the group to go (KILL follows after the grace period).
    Stopping,
    /// Exited with code 0 on its own.
    Exited,
    /// Exited with a non-zero code on its own.
    Failed { code: i32 },
    /// Ended by a signal (ours or anyone's); `signal` is the one that ended it, if it died of one.
    Killed { signal: Option<i32> },
    /// Stopped by corral after the profile's wall-clock `timeout`.
    TimedOut,
    /// Stopped by corral after printing nothing for the profile's `silence`.
    Stalled,
    /// Could not be started (binary missing, permission denied).
    SpawnFailed,
    /// corral was not there to see how it ended.
    Lost,
}

impl RunState {
    /// True while the run's process group may still hold processes.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            RunState::Running | RunState::Paused | RunState::Stopping
        )
    }

    /// The word stored in the database and shown in the Agents pane.
    pub fn label(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Stopping => "stopping",
            RunState::Exited => "exited",
            RunState::Failed { .. } => "failed",
            RunState::Killed { .. } => "killed",
            RunState::TimedOut => "timed_out",
            RunState::Stalled => "stalled",
            RunState::SpawnFailed => "spawn_failed",
            RunState::Lost => "lost",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureView {
    pub id: FeatureId,
    pub category: String,
    pub name: String,
    pub priority: i64,
    pub status: FeatureStatus,
    pub dependencies: Vec<FeatureId>,
    /// Dependencies that are not passing yet.
    pub blocked_by: Vec<FeatureId>,
    pub attempts: u32,
    /// Tokens and cost of every run on this feature this session and before.
    pub usage: Usage,
    /// Where its merge into the base stands while it waits (see `[git] merge`).
    #[serde(default)]
    pub merge: Option<String>,
}

/// What the sampler measured of a live run's whole process tree (the leader and every
/// descendant), about once a second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStats {
    /// CPU use in tenths of a percent of one core (1000 = one core busy).
    pub cpu_tenths: u32,
    pub rss_bytes: u64,
    pub threads: u32,
    pub processes: u32,
    /// Bytes of output captured so far.
    pub log_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: RunId,
    pub job: JobId,
    pub feature: Option<FeatureId>,
    pub feature_name: Option<String>,
    pub profile: String,
    pub role: Role,
    pub state: RunState,
    pub pid: Option<u32>,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    /// Set when a person asked to stop this run (so an exit by signal reads as "killed", not a crash).
    pub kill_requested: bool,
    /// The latest sample, while the run is live.
    pub stats: Option<RunStats>,
    /// What the agent reported spending, once it has ended.
    pub usage: Option<Usage>,
    /// What the live run is doing now, as its event stream tells it (the running tool call
    /// or its last message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// What the run waits for a person to give, if anything (`needs_input`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<super::Waiting>,
    /// The agent's session id (Claude's `session_id`, Codex's `thread_id`), once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// A profile as the Profiles view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub name: String,
    pub role: Role,
    pub command: Vec<String>,
    pub model: Option<String>,
    pub enabled: bool,
    pub live_runs: usize,
}

/// One run in a feature's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: RunId,
    pub profile: String,
    pub role: Role,
    pub state: RunState,
    pub exit_code: Option<i32>,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub usage: Option<Usage>,
}

/// Everything about one feature, for the detail view (asked for on demand, not in snapshots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureDetail {
    pub id: FeatureId,
    pub category: String,
    pub name: String,
    pub description: String,
    pub steps: Vec<String>,
    pub priority: i64,
    pub status: FeatureStatus,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Every feature this one waits on, directly or not, nearest first.
    pub dependency_chain: Vec<FeatureId>,
    /// Newest first.
    pub runs: Vec<RunSummary>,
}

/// Counts shown in the header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TotalsView {
    pub features: usize,
    pub passing: usize,
    pub live_agents: usize,
    /// Sum over live runs of [`RunStats::cpu_tenths`].
    pub cpu_tenths: u32,
    /// Sum over live runs of [`RunStats::rss_bytes`].
    pub rss_bytes: u64,
    /// Everything every run of the project reported spending, ever.
    pub usage: Usage,
    /// `[budget] usd`, in millionths of a dollar.
    pub budget_micros: Option<u64>,
}

/// One notice and its number (they count up from 1 in a runtime's life).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    pub seq: u64,
    pub text: String,
}

/// Everything the UI draws, owned and self-contained. A new one replaces the old one whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Grows by one with every published snapshot; lets a client skip ones it has seen.
    pub version: u64,
    pub project: PathBuf,
    pub max_agents: u32,
    pub scheduler_paused: bool,
    /// Why corral's own resources hold the scheduler (a full disk, a state file it cannot
    /// write); `scheduler_paused` is true meanwhile. It lifts by itself once writes succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    /// Why corral paused the scheduler by itself (after it was killed with work running or
    /// queued), until a person resumes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_reason: Option<String>,
    /// Why the latest corral.toml was not taken into use (the config before it still is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
    /// Set once the runtime has stopped every agent after a Shutdown.
    pub shut_down: bool,
    pub totals: TotalsView,
    /// Backlog order: by id.
    pub features: Vec<FeatureView>,
    /// Live runs first (oldest first), then ended runs, newest first.
    pub runs: Vec<RunView>,
    /// Running jobs, then waiting ones in the order they will start, then the most recent
    /// finished ones, newest first.
    pub jobs: Vec<JobView>,
    /// One per account that has a profile, by account name.
    pub breakers: Vec<BreakerView>,
    /// Profiles from corral.toml, by name.
    pub profiles: Vec<ProfileView>,
    /// A one-line message for the status area (last error or notice), if any.
    pub notice: Option<String>,
    /// The latest notices, oldest first (`notice` is the last of them): a dashboard shows
    /// each it has not shown yet in turn, so one cannot hide another that came just before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<NoticeView>,
    /// When the latest stats sample was taken (ms since the epoch); moves once a second while
    /// runs are live, which is what refreshes uptimes on screen.
    pub sampled_at_ms: i64,
}
