use super::capture::LogHub;
use super::store::Store;
use crate::api::{Command, Event, FeatureDetail, FeatureId, LogLine, RunId, Snapshot};
use crate::core::Input;
use tokio::sync::{broadcast, mpsc, watch};

/// The one way a client talks to the runtime: send commands, watch snapshots, follow logs.
/// Cheap to clone.
#[derive(Clone)]
pub struct RuntimeHandle {
    pub(super) tx: mpsc::UnboundedSender<Input>,
    pub(super) snapshots: watch::Receiver<Snapshot>,
    pub(super) logs: LogHub,
    /// The project's database, for on-demand reads such as [`RuntimeHandle::feature_detail`].
    pub(super) db: std::path::PathBuf,
    /// What the start-up sweep did to an earlier corral's runs.
    pub(super) swept: std::sync::Arc<super::recovery::Swept>,
    /// What the socket answers requests with: the in-process transport answers the same way.
    pub(super) served: super::control::Served,
}

/// The in-process transport: requests are answered by the code that answers the socket's
/// clients ([`super::daemon::answer`]), events are the runtime's own (every run's output).
impl crate::api::Connection for RuntimeHandle {
    fn request(
        &self,
        request: crate::api::Request,
    ) -> futures::future::BoxFuture<'static, crate::api::Outcome> {
        let served = self.served.clone();
        Box::pin(async move { super::daemon::answer(&served, request).await })
    }

    fn snapshots(&self) -> watch::Receiver<Snapshot> {
        self.snapshots.clone()
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.logs.subscribe()
    }

    fn follow(
        &self,
        run: Option<RunId>,
        backlog: usize,
    ) -> futures::future::BoxFuture<'static, Vec<LogLine>> {
        // Every run's output is among the events already; only the backlog is fetched.
        let tail = run.map_or_else(Vec::new, |r| self.logs.tail(r, backlog));
        Box::pin(std::future::ready(tail))
    }

    fn is_remote(&self) -> bool {
        false
    }
}

impl RuntimeHandle {
    /// Queues a command. Once the runtime has stopped, commands are dropped (and logged).
    pub fn send(&self, cmd: Command) {
        if self.tx.send(Input::Command(cmd.clone())).is_err() {
            log::debug!("runtime stopped; dropped {cmd:?}");
        }
    }

    /// The runs an earlier corral left recorded as live: all recorded lost at start, and
    /// those whose process group was still there killed.
    pub fn swept(&self) -> &super::recovery::Swept {
        &self.swept
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

    /// Per-run figures (CPU, memory) are sampled from now on only while someone subscribes to
    /// every event (a dashboard): for a runtime without a screen of its own, which then reads
    /// nothing about its processes while nobody looks.
    pub fn sample_only_while_watched(&self) {
        self.logs.watch_on_demand();
    }

    /// Every event from now on except lines of output: for a reader that does not show them
    /// (headless), so that capture does not copy every line for it.
    pub fn subscribe_without_logs(&self) -> broadcast::Receiver<Event> {
        self.logs.subscribe_without_logs()
    }

    /// Up to `max` latest lines of a run kept in memory, oldest first.
    pub fn log_tail(&self, run: RunId, max: usize) -> Vec<LogLine> {
        self.logs.tail(run, max)
    }

    /// The steps of a run's agent read so far (see [`crate::core::steps`]); empty for a
    /// plain-text agent or a run not in memory.
    pub fn steps(&self, run: RunId) -> Vec<crate::core::steps::Step> {
        self.logs.steps(run)
    }

    /// What a run's agent is doing as its steps tell it.
    pub fn step_state(&self, run: RunId) -> crate::core::steps::StepState {
        self.logs.step_state(run)
    }

    /// Everything about one feature for the detail view: its text, the whole chain of features
    /// it waits on (nearest first) and its runs (newest first). `None` for an unknown id.
    pub fn feature_detail(&self, id: FeatureId) -> Option<FeatureDetail> {
        RuntimeHandle::read_feature_detail(&self.db, id)
    }

    /// [`RuntimeHandle::feature_detail`] from the database at `db`.
    pub fn read_feature_detail(db: &std::path::Path, id: FeatureId) -> Option<FeatureDetail> {
        let store = Store::open_path(db).ok()?;
        let features = store.load_features().ok()?;
        let feature = features.iter().find(|f| f.id == id)?.clone();
        let (description, steps) = store.feature_text(id).ok()??;
        let by_id: std::collections::HashMap<FeatureId, &crate::core::Feature> =
            features.iter().map(|f| (f.id, f)).collect();
        // Breadth first from the feature: nearest dependencies first, each listed once.
        let mut chain = Vec::new();
        let mut seen = std::collections::HashSet::from([id]);
        let mut queue: std::collections::VecDeque<FeatureId> =
            feature.dependencies.iter().copied().collect();
        while let Some(dep) = queue.pop_front() {
            if seen.insert(dep) {
                chain.push(dep);
                if let Some(f) = by_id.get(&dep) {
                    queue.extend(f.dependencies.iter().copied());
                }
            }
        }
        let runs = store
            .runs(false)
            .ok()?
            .into_iter()
            .filter(|r| r.feature_id == Some(id.0))
            .map(|r| super::history::summary(&r))
            .collect();
        Some(FeatureDetail {
            id,
            category: feature.category,
            name: feature.name,
            description,
            steps,
            priority: feature.priority,
            // As everywhere: a stored `pending` shows as `ready` or `blocked`.
            status: crate::core::graph::effective_status(
                &features.iter().map(|f| (f.id, f.clone())).collect(),
                id,
            ),
            attempts: feature.attempts,
            last_error: feature.last_error,
            dependency_chain: chain,
            runs,
        })
    }
}
