use super::records::Job;
use crate::api::{FeatureId, FeatureStatus, JobId, RunId, RunState, Usage};

/// A signal the core asks the runtime to send to a run's whole process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Stop,
    Cont,
    Term,
    Kill,
}

impl Sig {
    /// The signal's usual name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Sig::Stop => "SIGSTOP",
            Sig::Cont => "SIGCONT",
            Sig::Term => "SIGTERM",
            Sig::Kill => "SIGKILL",
        }
    }
}

/// Why a timer was set; a timer whose epoch no longer matches its run is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    /// The grace period after TERM is over: KILL whatever is left of the group.
    KillGrace,
    /// The profile's wall-clock timeout.
    Timeout,
    /// Time to check whether the run has printed anything within the profile's `silence`.
    Silence,
    /// A permission request nobody answered in the profile's `deny_after`; the epoch is the
    /// run's count of waits ([`super::attention::RunAttention::asks`]).
    AskDeadline,
}

/// Something a person should hear about even when not looking (see `[notify]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// `needs_input`, `feature_failed`, `backlog_done`, `login_needed`, `budget_reached`.
    pub event: String,
    pub title: String,
    pub body: String,
    pub run: Option<RunId>,
    pub feature: Option<FeatureId>,
}

/// What a wake-up timer is for; each carries the epoch it was set in, so stale ones are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeKey {
    /// A job's backoff is over.
    Job { job: JobId, epoch: u64 },
    /// An account's breaker cooldown is over.
    Breaker { account: String, epoch: u64 },
}

/// Something the runtime must do on the core's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Read corral.toml again; keep the old config if the new one does not load.
    ReloadConfig,
    /// Claim the stored job (atomically: it must be queued or in backoff), create its run,
    /// spawn the agent with `profile` and answer with `Input::Spawned` or `Input::SpawnFailed`.
    Spawn {
        job: JobId,
        feature: Option<FeatureId>,
        role: crate::api::Role,
        profile: String,
        /// The job's attempts counting this run, stored with the claim.
        attempts: u32,
    },
    /// Answer with `Input::Wake(key)` after `after_ms`.
    Wake { key: WakeKey, after_ms: u64 },
    /// Store an account's breaker (so a restart finds it open, or held for a login).
    SaveBreaker {
        account: String,
        saved: super::breaker::Saved,
    },
    /// Store what a run reported spending.
    SaveRunUsage { run: RunId, usage: Usage },
    /// Store when a feature was last re-checked by a testing agent.
    SaveTestedAt { id: FeatureId, at_ms: i64 },
    /// Send `sig` to the process group `pgid` (the run's leader pid).
    Signal { run: RunId, pgid: u32, sig: Sig },
    /// Answer with `Input::Timer { run, epoch, kind }` after `after_ms`.
    StartTimer {
        run: RunId,
        epoch: u64,
        kind: TimerKind,
        after_ms: u64,
    },
    /// Store a feature's status and attempt count.
    SaveFeature {
        id: FeatureId,
        status: FeatureStatus,
        attempts: u32,
        last_error: Option<String>,
    },
    /// Store a feature's priority.
    SavePriority { id: FeatureId, priority: i64 },
    /// Read the backlog from the store again and answer with `Input::Backlog`.
    ReloadBacklog,
    /// Set a profile's `enabled` in corral.toml (keeping its comments) and use it from now on.
    SetProfileEnabled { profile: String, enabled: bool },
    /// Merge the feature's worktree branch into the base now, whatever `[git] merge` waits for.
    MergeFeature { id: FeatureId },
    /// Store a person's rejection of the feature's change, for the next coding prompt.
    RecordRejection { id: FeatureId, reason: String },
    /// Store a run's state (and end time and exit details once it has ended).
    SaveRun {
        run: RunId,
        state: RunState,
        exit_code: Option<i32>,
        finished_at_ms: Option<i64>,
    },
    /// Store the whole job (insert or update).
    SaveJob(Job),
    /// Answer with `Input::Quiet { run, epoch, quiet_ms }`: how long since the run's last output.
    CheckQuiet { run: RunId, epoch: u64 },
    /// Write `text` and a newline to the run's stdin.
    WriteInput { run: RunId, text: String },
    /// Write the answer to a permission request to the run's stdin.
    Reply {
        run: RunId,
        reply: super::attention::Reply,
    },
    /// Tell the person, wherever they are (terminal notification, `[notify] command`).
    Notify(Notification),
    /// Tell the person something (logged and shown on the status line).
    Notice(String),
    /// Every agent is gone after a shutdown; the runtime may stop.
    ShutdownComplete,
    /// The answer to [`super::Input::Asked`] `ticket`: done (`None`) or refused, and why.
    Answer {
        ticket: u64,
        refused: Option<String>,
    },
}
