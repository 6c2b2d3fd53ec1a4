//! The client side of the protocol, whatever carries it: send a request and await its one
//! reply, watch snapshots, hear events and follow a run's output. The dashboard speaks only
//! this; the runtime has two transports for it, in-process (`runtime::RuntimeHandle`, the
//! requests answered by the same code that answers the socket) and a daemon's socket
//! (`runtime::daemon::Remote`).

use super::{
    Command, Event, FeatureDetail, FeatureDiff, FeatureId, LogLine, Outcome, Request, RunId,
    Snapshot, View,
};
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// One connection to a corral's runtime. Cheap to share (`Arc<dyn Connection>`).
pub trait Connection: Send + Sync {
    /// Sends `request`; the future resolves to its one reply (a refusal when the runtime is
    /// gone). The request is sent when the future is first polled.
    fn request(&self, request: Request) -> BoxFuture<'static, Outcome>;

    /// A receiver that always holds the newest snapshot (latest wins); it closes when the
    /// runtime is gone.
    fn snapshots(&self) -> watch::Receiver<Snapshot>;

    /// Starts, ends and notices from now on, and the output of the runs followed (see
    /// [`Connection::follow`]). A slow reader misses events and is told how many.
    fn events(&self) -> broadcast::Receiver<Event>;

    /// Follows `run` (its new lines arrive as events from now on; `None` follows none) and
    /// resolves to its latest `backlog` lines.
    fn follow(&self, run: Option<RunId>, backlog: usize) -> BoxFuture<'static, Vec<LogLine>>;

    /// True when the runtime lives in another process (a daemon): leaving stops nothing.
    fn is_remote(&self) -> bool;
}

/// What the dashboard asks of any connection, in terms of [`Connection::request`].
impl dyn Connection {
    /// Sends a command without waiting; a refusal is logged (the runtime's notice says the
    /// rest on screen).
    pub fn send(&self, command: Command) {
        let reply = self.request(Request::Command { command });
        tokio::spawn(async move {
            if let Outcome::Refused { reason, .. } = reply.await {
                log::warn!("refused: {reason}");
            }
        });
    }

    /// Everything about one feature; `None` for an unknown one.
    pub async fn feature_detail(&self, feature: FeatureId) -> Option<FeatureDetail> {
        match self.request(Request::FeatureDetail { feature }).await {
            Outcome::Done {
                view: Some(View::Feature { feature }),
            } => Some(*feature),
            _ => None,
        }
    }

    /// A feature's change against its base; `None` without a worktree.
    pub async fn feature_diff(&self, feature: FeatureId) -> Option<FeatureDiff> {
        match self.request(Request::FeatureDiff { feature }).await {
            Outcome::Done {
                view: Some(View::Diff { diff }),
            } => Some(*diff),
            _ => None,
        }
    }

    /// Up to `lines` latest lines of a remote runtime's own log; `None` in-process, where
    /// corral's log is this process's own, or when it does not answer.
    pub async fn app_log(&self, lines: usize) -> Option<Vec<String>> {
        if !self.is_remote() {
            return None;
        }
        match self.request(Request::AppLog { lines }).await {
            Outcome::Done {
                view: Some(View::AppLog { lines }),
            } => Some(lines),
            _ => None,
        }
    }
}

/// A shared connection, as the dashboard holds it.
pub type Link = Arc<dyn Connection>;
