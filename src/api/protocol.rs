//! The wire protocol between the daemon and its clients: line-delimited JSON over the
//! project's Unix socket, one message per line.
//!
//! A connection opens with a [`Hello`] from the client; the daemon answers with its own. When
//! the protocol numbers differ the daemon then sends [`DaemonMessage::Mismatch`] and closes;
//! a client seeing a different number in the daemon's hello refuses likewise (see
//! [`mismatch_message`]). After that the client sends [`ClientMessage::Request`]s, each with an
//! id of its choosing, and gets exactly one [`DaemonMessage::Reply`] for each. A
//! [`Request::Subscribe`] is answered `done` and then followed by the current snapshot, newer
//! ones as they are published (latest wins: a client that reads slowly skips states, never
//! queues them), the events, and the followed runs' output in batches.
//!
//! Every shape here is pinned by the golden tests in `tests/wire.rs` (fixtures under
//! `tests/fixtures/wire/`, append-only). Changing one incompatibly means a new
//! [`PROTOCOL_VERSION`].

use super::command::{Command, LogLine};
use super::diff::FeatureDiff;
use super::event::Event;
use super::ids::{FeatureId, RunId};
use super::queue::JobView;
use super::snapshot::{FeatureDetail, RunView, Snapshot};
use serde::{Deserialize, Serialize};

/// The first line each side sends. Its shape never changes, whatever the protocol number, so
/// that any two corrals can at least tell each other they differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// The protocol this side speaks ([`super::PROTOCOL_VERSION`]).
    pub protocol: u32,
    /// corral's version (`CARGO_PKG_VERSION`).
    pub version: String,
    pub pid: u32,
}

impl Hello {
    /// This process's hello.
    pub fn ours() -> Hello {
        Hello {
            protocol: super::PROTOCOL_VERSION,
            version: env!("CARGO_PKG_VERSION").to_string(),
            pid: std::process::id(),
        }
    }
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello(Hello),
    /// Asks for one thing; answered by exactly one [`DaemonMessage::Reply`] with the same id.
    Request {
        id: u64,
        request: Request,
    },
}

/// What a client may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "req", rename_all = "snake_case")]
pub enum Request {
    /// Do what a command says; the reply carries the resulting view where there is one (the
    /// run for pause, resume and kill; the job for retry and cancel).
    Command { command: Command },
    /// Every run the daemon remembers: live ones first, then recently ended ones.
    Agents,
    /// Up to `lines` latest lines of a run's output, from memory.
    Log { run: RunId, lines: usize },
    /// The daemon itself: pid, version, uptime, clients attached.
    Status,
    /// Up to `lines` latest lines of the daemon's own log (what `L` shows of it).
    AppLog { lines: usize },
    /// The current snapshot once (no subscription): the core's live state, its jobs in
    /// the order the scheduler starts them, for `status`, `job list` and `feature list`.
    Snapshot,
    /// Everything about one feature (its text, what it waits on, its runs), for a detail view.
    FeatureDetail { feature: FeatureId },
    /// A feature's change against its base (its worktree's branch), for the diff view.
    FeatureDiff { feature: FeatureId },
    /// Start streaming: the current snapshot and every newer one, the events, and the
    /// output of the runs in `follow` (each preceded by up to `backlog` latest lines).
    Subscribe {
        #[serde(default)]
        follow: Vec<RunId>,
        #[serde(default)]
        backlog: usize,
    },
}

/// What the daemon sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DaemonMessage {
    Hello(Hello),
    /// The client's protocol differs; the daemon closes the connection after this.
    Mismatch {
        message: String,
    },
    /// The one answer to the request with this id.
    Reply {
        id: u64,
        #[serde(flatten)]
        outcome: Outcome,
    },
    /// The whole current state (subscribers only); newer replaces older.
    Snapshot {
        snapshot: Box<Snapshot>,
    },
    /// Output of a followed run: everything the daemon read in one go.
    Lines {
        run: RunId,
        lines: Vec<LogLine>,
    },
    /// Events this client was too slow to receive and will not get (each a batch of output
    /// lines, a start, an end or a notice); its snapshots are unaffected.
    Missed {
        count: u64,
    },
    /// A start, an end or a notice (subscribers only).
    Event {
        event: Event,
    },
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Done {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view: Option<View>,
    },
    Refused {
        reason: String,
        /// What the refusal is about, for exit codes: `unknown` (no such run or job),
        /// `ended` (the run has ended), `invalid` (anything else).
        kind: RefusalKind,
    },
}

/// Why a request was refused, for a client to choose its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// No such run or job.
    Unknown,
    /// The run has already ended.
    Ended,
    /// Anything else (a malformed request, a daemon shutting down).
    Invalid,
}

/// The result a request produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum View {
    Run {
        run: Box<RunView>,
    },
    Runs {
        runs: Vec<RunView>,
    },
    Job {
        job: Box<JobView>,
    },
    Lines {
        lines: Vec<LogLine>,
    },
    Daemon {
        daemon: DaemonInfo,
    },
    Feature {
        feature: Box<FeatureDetail>,
    },
    Diff {
        diff: Box<FeatureDiff>,
    },
    Snapshot {
        snapshot: Box<Snapshot>,
    },
    /// Lines of the daemon's own log, oldest first.
    AppLog {
        lines: Vec<String>,
    },
}

/// What `corral daemon status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    pub version: String,
    pub protocol: u32,
    /// Milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// Connections open now, this one included.
    pub clients: usize,
    pub live_runs: usize,
    /// Why the scheduler is paused, when corral paused it by itself (after a crash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<String>,
    /// Why the latest corral.toml was not taken into use, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_error: Option<String>,
}

/// What a person reads when client and daemon speak different protocols: the daemon's
/// version and pid, and what to run.
pub fn mismatch_message(daemon: &Hello, client_protocol: u32) -> String {
    format!(
        "the running corral daemon (version {}, pid {}) speaks protocol {}, this corral speaks \
         protocol {client_protocol}; run `corral daemon restart` (or `corral daemon stop`, then \
         start it again) to use this version",
        daemon.version, daemon.pid, daemon.protocol
    )
}

impl Outcome {
    pub fn refused(kind: RefusalKind, reason: impl Into<String>) -> Outcome {
        Outcome::Refused {
            reason: reason.into(),
            kind,
        }
    }
}
