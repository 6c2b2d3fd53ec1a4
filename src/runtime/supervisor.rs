//! The supervisor loop: feeds inputs to the core, executes its effects, publishes snapshots.

use super::capture::LogHub;
use super::handle::RuntimeHandle;
use super::lock::{self, LockError, ProjectLock};
use super::process::{self, SpawnSpec};
use super::store::{Store, StoreError};
use super::{history, now_ms, recovery};
use crate::api::{Event, FeatureId, RunId, Snapshot, Stream};
use crate::config::{Config, Placeholders, expand_argv};
use crate::core::redact::Redactor;
use crate::core::{Effect, Input, Model, NewRun};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How long an ended agent's pipes may take to drain before its end is reported anyway.
const DRAIN_BEFORE_EXIT: Duration = Duration::from_millis(500);

/// What the runtime needs to start.
pub struct RuntimeOptions {
    pub project: PathBuf,
    pub config: Config,
    /// Lines of output kept in memory per run.
    pub ring_lines: usize,
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("corral.toml: redact.patterns: {0}")]
    Redact(String),
}

struct Supervisor {
    /// Held while the supervisor runs: this corral owns the project's agents.
    _lock: ProjectLock,
    project: PathBuf,
    config: Config,
    store: Store,
    model: Model,
    logs: LogHub,
    tx: mpsc::UnboundedSender<Input>,
    snapshots: watch::Sender<Snapshot>,
    version: u64,
    runs_dir: PathBuf,
    /// The (run, leader pid) pairs the sampler measures; empty when nothing is live.
    live: watch::Sender<Vec<(RunId, u32)>>,
    /// Each live run's stdin, for `SendInput`; dropped (closing the pipe) when the run ends.
    stdins: HashMap<RunId, Arc<tokio::sync::Mutex<tokio::process::ChildStdin>>>,
}

/// Opens the store, sweeps runs left by an earlier corral, and starts the supervisor on the
/// current tokio runtime. The returned task ends after a `Shutdown` once every agent is gone.
pub fn start(options: RuntimeOptions) -> Result<(RuntimeHandle, JoinHandle<()>), StartError> {
    // Before anything else: the sweep below is only right when no other corral owns the project.
    let lock = lock::acquire(&options.project)?;
    let store = Store::open(&options.project)?;
    let swept = recovery::sweep_leftover_runs(&store, now_ms())?;
    if swept > 0 {
        log::warn!("{swept} run(s) from an earlier corral were recorded lost");
    }
    let (model, effects) = Model::new(store.load_features()?, options.config.scheduler.max_agents);
    let model = model.with_history(history::load_history(&store)?);
    let (tx, rx) = mpsc::unbounded_channel();
    let (live_tx, live_rx) = watch::channel(Vec::new());
    // Secrets are replaced before a line reaches the ring, the file or any screen.
    let redactor = Arc::new(
        Redactor::new(&options.config.redact.patterns)
            .map_err(|e| StartError::Redact(e.to_string()))?,
    );
    let logs = LogHub::new(
        options.ring_lines,
        super::store::state_dir(&options.project).join("runs"),
    )
    .with_filter(Arc::new(move |line: &str| redactor.redact(line)));
    let initial = model.snapshot(&options.project, 1);
    let (snap_tx, snap_rx) = watch::channel(initial);
    let sup_project = options.project.clone();
    let mut sup = Supervisor {
        _lock: lock,
        runs_dir: super::store::state_dir(&options.project).join("runs"),
        project: options.project,
        config: options.config,
        store,
        model,
        logs: logs.clone(),
        tx: tx.clone(),
        snapshots: snap_tx,
        version: 1,
        stdins: HashMap::new(),
        live: live_tx,
    };
    for effect in effects {
        sup.execute(effect);
    }
    sup.sweep_old_logs();
    tokio::spawn(super::sampler::run_sampler(
        live_rx,
        tx.clone(),
        logs.clone(),
    ));
    if let Err(e) = super::control::listen(&sup_project, tx.clone()) {
        // The dashboard works without it; other corral commands just cannot reach it.
        log::warn!("control socket: {e}");
    }
    let handle = RuntimeHandle {
        tx,
        snapshots: snap_rx,
        logs,
        db: super::store::state_dir(&sup_project).join("corral.db"),
    };
    let task = tokio::spawn(sup.run(rx));
    Ok((handle, task))
}

impl Supervisor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Input>) {
        let mut queue = VecDeque::from([Input::Kick]);
        loop {
            let mut done = false;
            while let Some(input) = queue.pop_front() {
                for effect in self.model.handle(input) {
                    if effect == Effect::ShutdownComplete {
                        done = true;
                    } else if let Some(next) = self.execute(effect) {
                        queue.push_back(next);
                    }
                }
                // Take whatever else arrived so one snapshot covers the whole batch.
                while let Ok(more) = rx.try_recv() {
                    queue.push_back(more);
                }
            }
            self.publish();
            if done {
                log::info!("every agent has stopped; supervisor done");
                return;
            }
            match rx.recv().await {
                Some(input) => queue.push_back(input),
                None => return,
            }
        }
    }

    /// Writes the profile's `enabled` to corral.toml and takes the new config into use.
    fn set_profile_enabled(&mut self, profile: &str, enabled: bool) -> Result<(), String> {
        super::profile_toggle::set_profile_enabled(&self.project, profile, enabled)
            .map_err(|e| e.to_string())?;
        self.config = Config::load(&self.project).map_err(|e| e.to_string())?;
        let word = if enabled { "enabled" } else { "disabled" };
        self.model.notice = Some(format!("profile {profile} {word} (saved in corral.toml)"));
        Ok(())
    }

    /// Applies `[logs]` retention to the run logs, off the loop; live runs' logs are kept.
    fn sweep_old_logs(&self) {
        let policy = crate::core::retention::RetentionPolicy {
            keep_days: self.config.logs.keep_days,
            keep_files: self.config.logs.keep_files,
            keep_bytes: self.config.logs.keep_bytes,
        };
        let live: std::collections::HashSet<i64> = self
            .model
            .runs
            .values()
            .filter(|r| r.state.is_live())
            .map(|r| r.id.0)
            .collect();
        let dir = self.runs_dir.clone();
        tokio::task::spawn_blocking(move || {
            let swept = super::retention::sweep_logs(&dir, &policy, &live, now_ms());
            if !swept.deleted.is_empty() {
                log::info!(
                    "deleted {} old run log(s), {} bytes",
                    swept.deleted.len(),
                    swept.freed_bytes
                );
            }
            for e in swept.errors {
                log::warn!("log retention: {e}");
            }
        });
    }

    fn publish(&mut self) {
        let live: Vec<(RunId, u32)> = self
            .model
            .runs
            .values()
            .filter(|r| r.state.is_live() && r.pid > 1)
            .map(|r| (r.id, r.pid))
            .collect();
        let changed = self.live.send_if_modified(|cur| {
            let changed = *cur != live;
            if changed {
                *cur = live;
            }
            changed
        });
        // A run started (a new log) or ended: apply retention now.
        if changed {
            self.sweep_old_logs();
        }
        let mut next = self.model.snapshot(&self.project, self.version);
        next.profiles = self
            .config
            .profiles
            .values()
            .map(|p| crate::api::ProfileView {
                name: p.name.clone(),
                role: p.role,
                command: p.command.clone(),
                model: None,
                enabled: p.enabled,
                live_runs: self
                    .model
                    .runs
                    .values()
                    .filter(|r| r.state.is_live() && r.profile == p.name)
                    .count(),
            })
            .collect();
        if next == *self.snapshots.borrow() {
            return;
        }
        self.version += 1;
        next.version = self.version;
        self.snapshots.send_replace(next);
    }

    /// Executes one effect; a spawn answers at once with the input that reports it.
    fn execute(&mut self, effect: Effect) -> Option<Input> {
        let now = now_ms();
        let result = match effect {
            Effect::Spawn { feature } => return Some(self.spawn(feature)),
            Effect::Signal { run, pgid, sig } => {
                log::info!("run {run}: {} to process group {pgid}", sig.name());
                process::signal_group(pgid, sig)
                    .map_err(|e| format!("run {run}: {} failed: {e}", sig.name()))
            }
            Effect::StartTimer {
                run,
                epoch,
                kind,
                after_ms,
            } => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    let _ = tx.send(Input::Timer { run, epoch, kind });
                });
                Ok(())
            }
            Effect::SaveFeature {
                id,
                status,
                attempts,
                last_error,
            } => self
                .store
                .save_feature(id, status, attempts, last_error.as_deref(), now)
                .map_err(|e| e.to_string()),
            Effect::SaveRun {
                run,
                state,
                exit_code,
                finished_at_ms,
            } => {
                if !state.is_live() {
                    self.stdins.remove(&run);
                    log::info!("run {run}: {}", crate::core::describe_end(state));
                    self.logs.announce(Event::RunEnded { run, state });
                }
                self.store
                    .save_run(run, state, exit_code, finished_at_ms)
                    .map_err(|e| e.to_string())
            }
            Effect::SaveJob {
                job,
                state,
                last_error,
            } => self
                .store
                .save_job(job, state, last_error.as_deref(), now)
                .map_err(|e| e.to_string()),
            Effect::Notice(text) => {
                log::info!("{text}");
                self.logs.announce(Event::Notice { text });
                Ok(())
            }
            Effect::SavePriority { id, priority } => self
                .store
                .save_priority(id, priority, now)
                .map_err(|e| e.to_string()),
            Effect::ReloadBacklog => {
                return match self.store.load_features() {
                    Ok(features) => Some(Input::Backlog(features)),
                    Err(e) => {
                        log::error!("reloading the backlog: {e}");
                        None
                    }
                };
            }
            Effect::SetProfileEnabled { profile, enabled } => {
                self.set_profile_enabled(&profile, enabled)
            }
            Effect::CheckQuiet { run, epoch } => {
                let quiet_ms = self.logs.quiet_for(run, now);
                return Some(Input::Quiet {
                    run,
                    epoch,
                    quiet_ms,
                });
            }
            Effect::WriteInput { run, text } => match self.stdins.get(&run) {
                Some(stdin) => {
                    let stdin = stdin.clone();
                    self.logs
                        .note(run, &format!("corral: sent to stdin: {text}"));
                    // In a task of its own: an agent that never reads must not block the loop.
                    tokio::spawn(async move {
                        use tokio::io::AsyncWriteExt;
                        let mut pipe = stdin.lock().await;
                        let line = format!("{text}\n");
                        if let Err(e) = pipe.write_all(line.as_bytes()).await {
                            log::warn!("run {run}: writing to stdin failed: {e}");
                        }
                        let _ = pipe.flush().await;
                    });
                    Ok(())
                }
                None => Err(format!("run {run}: its stdin is closed")),
            },
            Effect::ShutdownComplete => Ok(()),
        };
        if let Err(e) = result {
            log::error!("{e}");
        }
        None
    }

    fn spawn(&mut self, feature: FeatureId) -> Input {
        let Some(profile) = self.config.coding_profile().cloned() else {
            return Input::SpawnFailed {
                feature,
                record: None,
                error: "no enabled profile with role \"coding\" in corral.toml".into(),
            };
        };
        let name = self
            .model
            .features
            .get(&feature)
            .map(|f| f.name.clone())
            .unwrap_or_default();
        let now = now_ms();
        let (job, run, log_path) = match self.store.begin_run(
            &profile.name,
            profile.role,
            Some(feature),
            &self.runs_dir,
            now,
        ) {
            Ok(ids) => ids,
            Err(e) => {
                return Input::SpawnFailed {
                    feature,
                    record: None,
                    error: e.to_string(),
                };
            }
        };
        let record = |pid| NewRun {
            id: run,
            job,
            feature: Some(feature),
            profile: profile.name.clone(),
            role: profile.role,
            pid,
            started_at_ms: now,
            grace_ms: profile.grace.as_millis() as u64,
            timeout_ms: profile.timeout.map(|t| t.as_millis() as u64),
            silence_ms: profile.silence.map(|t| t.as_millis() as u64),
        };
        // The attempt is stored and shown like any run, with its error in its log.
        let failed = |error: String| {
            self.logs
                .note(run, &format!("corral: could not start the agent: {error}"));
            let _ = self
                .store
                .save_run(run, crate::api::RunState::SpawnFailed, None, Some(now));
            self.logs.close(run);
            Input::SpawnFailed {
                feature,
                record: Some(record(0)),
                error,
            }
        };
        let (feature_s, run_s) = (feature.to_string(), run.to_string());
        let project_s = self.project.to_string_lossy().into_owned();
        let argv = expand_argv(
            &profile.command,
            &Placeholders {
                feature_id: &feature_s,
                feature_name: &name,
                project: &project_s,
                run_id: &run_s,
            },
        );
        let mut env: BTreeMap<String, String> = profile.env.clone();
        env.insert("CORRAL_PROJECT".into(), project_s.clone());
        env.insert("CORRAL_RUN_ID".into(), run_s.clone());
        env.insert("CORRAL_FEATURE_ID".into(), feature_s.clone());
        if let Err(e) = self.logs.open(run, &log_path) {
            log::warn!("run {run}: cannot open {}: {e}", log_path.display());
        }
        let spec = SpawnSpec {
            argv: &argv,
            cwd: &self.project,
            env: &env,
        };
        let mut child = match process::spawn(&spec) {
            Ok(child) => child,
            Err(e) => {
                let program = argv.first().map_or("", String::as_str);
                let error = if e.kind() == std::io::ErrorKind::NotFound {
                    format!("program `{program}` not found (is it installed and on PATH?)")
                } else {
                    format!("{program}: {e}")
                };
                return failed(error);
            }
        };
        let Some(pid) = child.id() else {
            return failed("process vanished at spawn".into());
        };
        process::remember_group(pid);
        if let Some(stdin) = child.stdin.take() {
            self.stdins
                .insert(run, Arc::new(tokio::sync::Mutex::new(stdin)));
        }
        self.logs.announce(Event::RunStarted {
            run,
            feature: Some(feature),
            pid,
        });
        log::info!(
            "run {run}: started {:?} as pid {pid} for feature {feature}",
            argv
        );
        if let Err(e) = self
            .store
            .set_run_process(run, pid, process::process_start_time(pid))
        {
            log::error!("{e}");
        }
        let mut pumps: Vec<JoinHandle<()>> = [
            child
                .stdout
                .take()
                .map(|p| tokio::spawn(self.logs.clone().pump(run, Stream::Stdout, p, now_ms))),
            child
                .stderr
                .take()
                .map(|p| tokio::spawn(self.logs.clone().pump(run, Stream::Stderr, p, now_ms))),
        ]
        .into_iter()
        .flatten()
        .collect();
        let tx = self.tx.clone();
        let logs = self.logs.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            let (code, signal) = match &status {
                Ok(s) => {
                    use std::os::unix::process::ExitStatusExt;
                    (s.code(), s.signal())
                }
                Err(e) => {
                    log::error!("run {run}: waiting for pid {pid} failed: {e}");
                    (None, None)
                }
            };
            let at_ms = now_ms();
            // Read what the agent printed before saying it ended, so every line comes before
            // the end. Bounded: a leftover child holding the pipe keeps it open, and only the
            // end report gets that child stopped.
            let drain = async {
                for pump in pumps.iter_mut() {
                    let _ = pump.await;
                }
            };
            let drained = tokio::time::timeout(DRAIN_BEFORE_EXIT, drain).await.is_ok();
            let _ = tx.send(Input::Exited {
                run,
                code,
                signal,
                group_alive: process::group_alive(pid),
                at_ms,
            });
            if !drained {
                // Pipes close once the last process of the group holding them is gone.
                for pump in pumps {
                    let _ = pump.await;
                }
            }
            logs.close(run);
            process::forget_group(pid);
        });
        Input::Spawned(record(pid))
    }
}
