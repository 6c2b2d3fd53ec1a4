//! The contract between the UI, the runtime, the CLI and (later) a daemon.
//!
//! Everything here is plain serde data so the same messages can cross a Unix socket unchanged.

mod command;
mod ids;
mod snapshot;

pub use command::{Command, LogLine, Stream};
pub use ids::{FeatureId, JobId, Role, RunId};
pub use snapshot::{
    FeatureStatus, FeatureView, JobState, JobView, RunState, RunView, Snapshot, TotalsView,
};

/// Bumped whenever a message shape changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;
