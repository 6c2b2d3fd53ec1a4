use super::capture::LogHub;
use crate::api::{Command, Event, LogLine, RunId, Snapshot};
use crate::core::Input;
use tokio::sync::{broadcast, mpsc, watch};

/// The one way a client talks to the runtime: send commands, watch snapshots, follow logs.
/// Cheap to clone.
#[derive(Clone)]
pub struct RuntimeHandle {
    pub(super) tx: mpsc::UnboundedSender<Input>,
    pub(super) snapshots: watch::Receiver<Snapshot>,
    pub(super) logs: LogHub,
}

impl RuntimeHandle {
    /// Queues a command. Once the runtime has stopped, commands are dropped (and logged).
    pub fn send(&self, cmd: Command) {
        if self.tx.send(Input::Command(cmd.clone())).is_err() {
            log::debug!("runtime stopped; dropped {cmd:?}");
        }
    }

    /// A receiver that always holds the newest snapshot; `changed()` wakes on each new one.
    pub fn snapshots(&self) -> watch::Receiver<Snapshot> {
        self.snapshots.clone()
    }

    /// Every event from now on: each output line of every run, starts, ends and notices.
    /// A slow reader may miss events (it is told how many) and can refetch a run's lines with
    /// [`RuntimeHandle::log_tail`].
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.logs.subscribe()
    }

    /// Up to `max` latest lines of a run kept in memory, oldest first.
    pub fn log_tail(&self, run: RunId, max: usize) -> Vec<LogLine> {
        self.logs.tail(run, max)
    }
}
