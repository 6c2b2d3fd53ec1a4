//! The contract between the UI, the runtime, the CLI and (later) a daemon.
//!
//! Everything here is plain serde data so the same messages can cross a Unix socket unchanged.

mod attention;
pub mod client;
mod command;
mod diff;
mod event;
mod ids;
pub mod protocol;
mod queue;
mod snapshot;
mod usage;

pub use attention::{Answer, Ask, Waiting};
pub use client::{Connection, Link};
pub use command::{Command, LogLine, Stream};
pub use diff::{DiffFile, FeatureDiff};
pub use event::Event;
pub use ids::{FeatureId, JobId, Role, RunId};
pub use protocol::{
    ClientMessage, DaemonInfo, DaemonMessage, Hello, Outcome, RefusalKind, Request, View,
};
pub use queue::{BreakerState, BreakerView, JobState, JobView};
pub use snapshot::{
    FeatureDetail, FeatureStatus, FeatureView, NoticeView, ProfileView, RunState, RunStats,
    RunSummary, RunView, Snapshot, TotalsView,
};
pub use usage::Usage;

/// Bumped whenever a message shape changes incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The wire shape is the contract a remote client will speak; changing it needs a
    /// PROTOCOL_VERSION bump.
    #[test]
    fn commands_and_events_have_a_stable_json_shape() {
        let cmd = Command::Kill {
            run: RunId(3),
            force: true,
        };
        assert_eq!(
            serde_json::to_value(&cmd).unwrap(),
            json!({"cmd": "kill", "run": 3, "force": true})
        );
        let back: Command =
            serde_json::from_value(json!({"cmd": "start_feature", "feature": 7})).unwrap();
        assert_eq!(
            back,
            Command::StartFeature {
                feature: FeatureId(7)
            }
        );
        let ev = Event::RunEnded {
            run: RunId(2),
            state: RunState::Failed { code: 1 },
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            v,
            json!({"event": "run_ended", "run": 2, "state": {"state": "failed", "code": 1}})
        );
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), ev);
        assert!(serde_json::from_value::<Command>(json!({"cmd": "format_disk"})).is_err());
    }

    #[test]
    fn snapshots_round_trip() {
        let s = Snapshot {
            version: 3,
            max_agents: 2,
            ..Snapshot::default()
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Snapshot>(&text).unwrap(), s);
    }
}
