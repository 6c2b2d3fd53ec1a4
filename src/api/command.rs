use super::ids::{FeatureId, JobId, RunId};
use serde::{Deserialize, Serialize};

/// Everything a client (the UI, a CLI, later a remote daemon client) can ask the runtime to do.
///
/// Commands are requests, not facts: the runtime may ignore one that no longer applies
/// (pausing a run that already ended, for example) and logs why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Command {
    /// Start an agent on this feature now, even past `max_agents` (a person asked for it).
    StartFeature { feature: FeatureId },
    /// Start an agent on the best ready feature, if there is one.
    StartNext,
    /// SIGSTOP the run's whole process group.
    Pause { run: RunId },
    /// SIGCONT the run's whole process group.
    Resume { run: RunId },
    /// TERM to the group, the profile's grace period, then KILL; `force` sends KILL at once.
    Kill { run: RunId, force: bool },
    /// Kill the run if it is live, then start its feature again once it has ended.
    Restart { run: RunId },
    /// Write `text` and a newline to the run's stdin (for agents that ask questions).
    SendInput { run: RunId, text: String },
    /// Answer what the run waits for (a permission request): allow it, allow its tool for
    /// the rest of the run, or deny it (with a reason the agent is told).
    Answer { run: RunId, answer: super::Answer },
    /// Stop or restart automatic scheduling; live agents are not touched.
    SetSchedulerPaused { paused: bool },
    /// Change how many coding agents the scheduler keeps running.
    SetMaxAgents { max_agents: u32 },
    /// Put a feature back to pending with its attempts reset (e.g. after it `failed`).
    RequeueFeature { feature: FeatureId },
    /// Mark a feature passing or failing by hand.
    MarkFeature { feature: FeatureId, passing: bool },
    /// Change a feature's priority (lower starts sooner).
    SetPriority { feature: FeatureId, priority: i64 },
    /// Turn a profile on or off for scheduling; written back to corral.toml.
    SetProfileEnabled { profile: String, enabled: bool },
    /// The backlog changed in the database (another process added or edited features):
    /// read it again.
    Reload,
    /// Read corral.toml again and take it into use; when it does not load, the old config
    /// stays and the error is shown (`corral daemon reload`, or corral.toml changed).
    ReloadConfig,
    /// Start a waiting job now (ending its backoff), or give a failed or cancelled job a fresh
    /// set of attempts.
    RetryJob { job: JobId },
    /// Drop a waiting job, or kill a running one; its feature waits for a person.
    CancelJob { job: JobId },
    /// Change a job's priority (lower starts sooner).
    SetJobPriority { job: JobId, priority: i64 },
    /// Close an account's circuit breaker by hand (after logging in again, say).
    CloseBreaker { account: String },
    /// Stop every live agent (as Kill) and end the runtime once all are gone.
    Shutdown,
    /// Merge a passing feature's worktree branch into the base now (a person approving it
    /// under `[git] merge = "review"`, or retrying a merge that waited).
    MergeFeature { feature: FeatureId },
    /// Reject a passing feature's change: it goes back to the queue and the next coding run's
    /// prompt carries `reason`.
    RejectFeature { feature: FeatureId, reason: String },
}

/// Which pipe a line of agent output arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One line of agent output, as kept in the ring and sent to subscribers.
///
/// `text` still holds the agent's SGR colour codes; renderers must treat it as untrusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub run: RunId,
    /// Position of the line within its run, from 0; lets a client splice a fetched tail with live lines.
    pub seq: u64,
    pub stream: Stream,
    /// Milliseconds since the Unix epoch when the line was read.
    pub at_ms: i64,
    pub text: String,
}
