use super::command::LogLine;
use super::ids::{FeatureId, Role, RunId};
use super::snapshot::RunState;
use serde::{Deserialize, Serialize};

/// What the runtime tells its subscribers as it happens. Snapshots carry the whole state;
/// events are the stream in between (every log line, every start and end), for clients that
/// follow output or print a line per event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Lines of one run's output, in order: everything one read of its pipe produced (sending
    /// them together keeps a flood from costing one event per line).
    Log(Vec<LogLine>),
    /// An agent process was spawned.
    RunStarted {
        run: RunId,
        feature: Option<FeatureId>,
        role: Role,
        profile: String,
        pid: u32,
    },
    /// An agent's process ended (its state says how).
    RunEnded { run: RunId, state: RunState },
    /// Something a person should read (a refused command, a failed start).
    Notice { text: String },
    /// Something a person should hear about even when not looking: an attached dashboard
    /// tells its terminal (see `[notify] terminal`). `kind` is `needs_input`,
    /// `feature_failed`, `backlog_done`, `login_needed` or `budget_reached`.
    Notify {
        kind: String,
        title: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<RunId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        feature: Option<FeatureId>,
    },
}
