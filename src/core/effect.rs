use crate::api::{FeatureId, FeatureStatus, JobId, JobState, RunId, RunState};

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
}

/// Something the runtime must do on the core's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Create a job and a run for this feature, spawn the agent and answer with
    /// `Input::Spawned` or `Input::SpawnFailed`.
    Spawn {
        feature: Option<FeatureId>,
        role: crate::api::Role,
    },
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
    /// Store a run's state (and end time and exit details once it has ended).
    SaveRun {
        run: RunId,
        state: RunState,
        exit_code: Option<i32>,
        finished_at_ms: Option<i64>,
    },
    /// Store a job's state.
    SaveJob {
        job: JobId,
        state: JobState,
        last_error: Option<String>,
    },
    /// Answer with `Input::Quiet { run, epoch, quiet_ms }`: how long since the run's last output.
    CheckQuiet { run: RunId, epoch: u64 },
    /// Write `text` and a newline to the run's stdin.
    WriteInput { run: RunId, text: String },
    /// Tell the person something (logged and shown on the status line).
    Notice(String),
    /// Every agent is gone after a shutdown; the runtime may stop.
    ShutdownComplete,
}
