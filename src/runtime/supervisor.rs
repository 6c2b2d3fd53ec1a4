//! The supervisor loop: feeds inputs to the core, executes its effects, publishes snapshots.

use super::capture::LogHub;
use super::handle::RuntimeHandle;
use super::lock::{self, LockError, ProjectLock};
use super::model_config::{build_classifiers, configure_model, login_hint};
use super::process;
use super::store::{Store, StoreError};
use super::{history, now_ms, recovery};
use crate::api::{Event, RunId, Snapshot};
use crate::config::Config;
use crate::core::failure::Classifier;
use crate::core::redact::Redactor;
use crate::core::{Effect, Input, Model};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

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

pub(super) struct Supervisor {
    /// Held while the supervisor runs: this corral owns the project's agents.
    pub(super) lock: ProjectLock,
    /// The control socket, while it listens.
    pub(super) control: Option<super::control::Listening>,
    pub(super) project: PathBuf,
    pub(super) config: Config,
    pub(super) store: Store,
    pub(super) model: Model,
    pub(super) logs: LogHub,
    pub(super) tx: mpsc::UnboundedSender<Input>,
    snapshots: watch::Sender<Snapshot>,
    version: u64,
    pub(super) runs_dir: PathBuf,
    /// The (run, leader pid) pairs the sampler measures; empty when nothing is live.
    live: watch::Sender<Vec<(RunId, u32)>>,
    /// Each live run's stdin, for `SendInput`; dropped (closing the pipe) when the run ends.
    pub(super) stdins: HashMap<RunId, Arc<tokio::sync::Mutex<tokio::process::ChildStdin>>>,
    /// Runs whose stdin speaks stream-json (`stdin = "stream-json"`), until their result.
    pub(super) stream_json: std::collections::HashSet<RunId>,
    /// What each live run's stream showed when last looked at (see `attention`).
    pub(super) seen: HashMap<RunId, super::attention::Seen>,
    /// Sends `[notify]` notifications (deduplicated, rate-limited).
    pub(super) notifier: super::notify::Notifier,
    /// Processes of live runs that left their process group.
    pub(super) escaped: process::Escapees,
    /// Failure classifiers by profile (built-in rules plus its `transient_patterns`).
    pub(super) classifiers: HashMap<String, Arc<Classifier>>,
    /// Writes the store refused, waiting to be made (see `durability`).
    pub(super) unsaved: super::durability::Unsaved,
    /// Why the latest corral.toml did not load (the config before it stays in use).
    pub(super) config_error: Option<String>,
    /// The latest [`Input::Asked`] answered, told once the snapshot after it is published.
    passed: watch::Sender<u64>,
    /// The ticket answered last in the batch being handled.
    reached: u64,
    /// The core's answers to [`Input::Asked`] by ticket, for the requests waiting on them.
    answers: super::control::Answers,
}

/// Opens the store, sweeps runs left by an earlier corral, and starts the supervisor on the
/// current tokio runtime. The returned task ends after a `Shutdown` once every agent is gone.
pub fn start(options: RuntimeOptions) -> Result<(RuntimeHandle, JoinHandle<()>), StartError> {
    // Before anything else: the sweep below is only right when no other corral owns the project.
    let lock = lock::acquire(&options.project)?;
    // Orphans of agents (double forks, `setsid -f`) come back to corral, not to init.
    super::reaper::become_subreaper();
    super::reaper::spawn_reaper();
    let store = Store::open(&options.project)?;
    // First what left its group (found through the live runs' records), then the groups.
    let stray = recovery::sweep_leftover_processes(&options.project, &store)?;
    let mut swept = recovery::sweep_and_report(&store, now_ms())?;
    if !stray.is_empty() {
        log::warn!(
            "processes left by {} run(s) of an earlier corral were killed",
            stray.len()
        );
        swept.killed.extend(stray);
        swept.killed.sort_unstable();
        swept.killed.dedup();
    }
    if !swept.lost.is_empty() {
        log::warn!(
            "{} run(s) from an earlier corral were recorded lost",
            swept.lost.len()
        );
    }
    let (mut model, mut effects) =
        Model::new(store.load_features()?, options.config.scheduler.max_agents);
    configure_model(&mut model, &options.config, &options.project);
    // What a person must know before the first run: which profile each role uses when that
    // is a guess, and programs that are not installed (shown on the dashboard as a notice).
    let report = crate::config::start_report(
        &options.config,
        &options.project,
        std::env::var_os("PATH").as_deref(),
    );
    let mut report = report;
    let unowned = super::git::run::unowned(&options.project, &store, &options.config);
    if !unowned.is_empty() {
        report.push(format!(
            "worktrees corral made that no feature owns: {} (see `corral worktree list`)",
            unowned.join(", ")
        ));
    }
    // One notice each: the dashboard shows them in turn, each for its time.
    for line in report {
        log::warn!("{line}");
        effects.extend(model.notice(line));
    }
    model.now_ms = now_ms();
    model.next_job = store.max_job_id()? + 1;
    model.spent = store
        .usage_by(None)?
        .pop()
        .map(|(_, u)| u)
        .unwrap_or_default();
    let (jobs, runs) = history::load_queue(&store)?;
    let waiting = jobs.iter().filter(|j| j.state.is_open()).count();
    effects.extend(model.restore_queue(jobs, runs));
    // Killed outright with work under way: a person looks before anything starts again.
    if lock.ended_uncleanly
        && !options.config.scheduler.resume_after_crash
        && (!swept.lost.is_empty() || waiting > 0)
    {
        let why = format!(
            "the last corral was killed with {} run(s) live (recorded lost) and {waiting} \
             job(s) open",
            swept.lost.len()
        );
        log::warn!("{why}: the scheduler starts paused");
        effects.extend(model.pause_for(why));
    }
    effects.extend(model.restore_breakers(store.load_breakers()?));
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
    .with_chunk_gate({
        let redactor = redactor.clone();
        Arc::new(move |chunk: &[u8], hits: &mut Vec<usize>| redactor.candidates(chunk, hits))
    })
    .with_filter(Arc::new(move |line: &str| redactor.redact(line)));
    let initial = model.snapshot(&options.project, 1);
    let (snap_tx, snap_rx) = watch::channel(initial);
    let sup_project = options.project.clone();
    let (passed_tx, passed_rx) = watch::channel(0u64);
    // Shared by the sampler, which finds escapees, and the supervisor, which signals them.
    let escaped = process::Escapees::default();
    let mut sup = Supervisor {
        lock,
        control: None,
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
        stream_json: Default::default(),
        seen: HashMap::new(),
        notifier: super::notify::Notifier::new(None),
        live: live_tx,
        escaped: escaped.clone(),
        classifiers: HashMap::new(),
        unsaved: Default::default(),
        config_error: None,
        passed: passed_tx,
        reached: 0,
        answers: Default::default(),
    };
    sup.classifiers = build_classifiers(&sup.config);
    sup.notifier = super::notify::Notifier::new(sup.config.notify.command.clone());
    for effect in effects {
        sup.execute(effect);
    }
    sup.sweep_old_logs();
    // The first snapshot a client sees already carries what only the runtime knows (profiles).
    sup.publish();
    // A log file that falls behind holds the scheduler (see `recover`): wake the loop for it.
    tokio::spawn({
        let (logs, tx) = (logs.clone(), tx.clone());
        async move {
            loop {
                tokio::select! {
                    () = logs.fell_behind() => {}
                    () = tx.closed() => return,
                }
                if tx.send(Input::Kick).is_err() {
                    return;
                }
            }
        }
    });
    tokio::spawn(super::sampler::run_sampler(
        live_rx,
        tx.clone(),
        logs.clone(),
        escaped.clone(),
    ));
    let served = super::control::Served {
        tx: tx.clone(),
        snapshots: snap_rx.clone(),
        logs: logs.clone(),
        passed: passed_rx,
        marks: Default::default(),
        started_at_ms: now_ms(),
        db: super::store::state_dir(&sup_project).join("corral.db"),
        clients: Default::default(),
        answers: sup.answers.clone(),
        write_patience: super::control::write_patience(),
    };
    match super::control::listen(&sup_project, served.clone()) {
        Ok(listening) => sup.control = Some(listening),
        // The dashboard works without it; other corral commands just cannot reach it.
        Err(e) => log::warn!("control socket: {e}"),
    }
    super::state_watch::watch(&sup_project, tx.clone());
    super::config_reload::watch(&sup_project, tx.clone());
    let handle = RuntimeHandle {
        tx,
        snapshots: snap_rx,
        logs,
        db: super::store::state_dir(&sup_project).join("corral.db"),
        swept: std::sync::Arc::new(swept),
        served,
    };
    let task = tokio::spawn(sup.run(rx));
    Ok((handle, task))
}

impl Supervisor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Input>) {
        let mut queue = VecDeque::from([Input::Kick]);
        loop {
            let mut done = false;
            // State files deleted under us are made again before anything is written.
            queue.extend(self.check_state_files());
            // Held for want of storage: try it again first (the probe's Kick brings us here).
            queue.extend(self.recover());
            while let Some(input) = queue.pop_front() {
                self.model.now_ms = now_ms();
                self.load_job_asked_for(&input);
                // Each stats sample (once a second while runs are live and watched), or the
                // sampler's Look when nobody watches, is when their streams are looked at for
                // what they ask.
                let sampled = matches!(input, Input::Sample { .. } | Input::Look);
                for effect in self.model.handle(input) {
                    if effect == Effect::ShutdownComplete {
                        done = true;
                    } else if let Some(next) = self.execute(effect) {
                        queue.push_back(next);
                    }
                }
                if sampled {
                    queue.extend(self.look_at_runs());
                }
                // Take whatever else arrived so one snapshot covers the whole batch.
                while let Ok(more) = rx.try_recv() {
                    queue.push_back(more);
                }
            }
            self.publish();
            let reached = self.reached;
            self.passed.send_if_modified(|p| {
                let newer = *p < reached;
                *p = reached.max(*p);
                newer
            });
            if done {
                self.flush_unsaved();
                log::info!("every agent has stopped; supervisor done");
                // Still owning the project (the lock) until the end.
                let finish = self.finish();
                finish.await;
                self.lock.mark_clean_end();
                return;
            }
            match rx.recv().await {
                Some(input) => queue.push_back(input),
                None => {
                    let finish = self.finish();
                    finish.await;
                    self.lock.mark_clean_end();
                    return;
                }
            }
        }
    }

    /// Last of all: nothing this supervisor started may outlive it. Whatever of its runs is
    /// still remembered (a straggler that got KILL a moment ago, a process that the grace
    /// period was cut short for) is killed, its cgroup removed once empty.
    fn finish(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let pgids: Vec<u32> = self.model.runs.values().map(|r| r.pid).collect();
        let runs: Vec<RunId> = self.model.runs.keys().copied().collect();
        let escaped = self.escaped.clone();
        let project = self.project.clone();
        async move {
            let _ = tokio::task::spawn_blocking(move || {
                process::finish_groups(&pgids, &escaped, Duration::from_secs(3));
            })
            .await;
            for run in runs {
                super::recovery::forget_cgroup(&project, run);
            }
        }
    }

    /// The core keeps only recent ended jobs; a retry of an older one brings it back from the
    /// store first, so `corral job retry` works on any job the store has.
    fn load_job_asked_for(&mut self, input: &Input) {
        let (Input::Command(crate::api::Command::RetryJob { job })
        | Input::Asked {
            command: crate::api::Command::RetryJob { job },
            ..
        }) = input
        else {
            return;
        };
        if self.model.jobs.contains_key(job) {
            return;
        }
        match self.store.job(*job) {
            Ok(Some(stored)) if !stored.state.is_open() => {
                self.model.jobs.insert(*job, stored);
            }
            Ok(_) => {}
            Err(e) => log::error!("{e}"),
        }
    }

    /// Writes the profile's `enabled` to corral.toml and takes the new config into use.
    fn set_profile_enabled(&mut self, profile: &str, enabled: bool) -> Result<(), String> {
        super::profile_toggle::set_profile_enabled(&self.project, profile, enabled)
            .map_err(|e| e.to_string())?;
        self.config = Config::load(&self.project).map_err(|e| e.to_string())?;
        configure_model(&mut self.model, &self.config, &self.project);
        self.classifiers = build_classifiers(&self.config);
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
        next.config_error = self.config_error.clone();
        let runs = &self.model.runs;
        next.profiles = super::profile_views::profile_views(
            &self.config,
            std::env::var("CORRAL_MODEL").ok().as_deref(),
            |name| {
                runs.values()
                    .filter(|r| r.state.is_live() && r.profile == name)
                    .count()
            },
        );
        for b in next.breakers.iter_mut().filter(|b| b.auth) {
            b.login_hint = Some(login_hint(&self.config, &b.account));
        }
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
            Effect::Spawn {
                job,
                feature,
                role,
                ref profile,
                attempts,
            } => {
                // A new worktree is made off this loop; the spawn comes back when it is ready.
                let name = feature
                    .and_then(|f| self.model.features.get(&f))
                    .map_or(String::new(), |f| f.name.clone());
                if !self.model.shutting_down
                    && super::git::prepare::defer(
                        &self.project,
                        &self.config,
                        &self.store,
                        feature,
                        &name,
                        role,
                        &effect,
                        &self.tx,
                    )
                {
                    return None;
                }
                if self.model.shutting_down {
                    // Only a spawn put off above comes back while stopping: it never starts.
                    return match self.store.job(job) {
                        Ok(Some(stored)) => Some(Input::ClaimRefused(stored)),
                        _ => Some(Input::SpawnFailed {
                            job,
                            record: None,
                            error: "corral is stopping".into(),
                        }),
                    };
                }
                return Some(self.spawn(job, feature, role, profile, attempts));
            }
            Effect::Wake { key, after_ms } => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    let _ = tx.send(Input::Wake(key));
                });
                Ok(())
            }
            Effect::SaveBreaker { account, saved } => {
                return self.write(Box::new(move |s| s.save_breaker(&account, &saved, now)));
            }
            Effect::SaveRunUsage { run, usage } => {
                return self.write(Box::new(move |s| s.save_run_usage(run, &usage)));
            }
            Effect::SaveTestedAt { id, at_ms } => {
                return self.write(Box::new(move |s| s.save_tested_at(id, at_ms)));
            }
            Effect::Signal { run, pgid, sig } => {
                log::info!("run {run}: {} to process group {pgid}", sig.name());
                process::signal_run(pgid, sig, &self.escaped)
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
            } => {
                // Errors quote agents' lines: they are stored redacted like the lines.
                let last_error = last_error
                    .as_deref()
                    .map(|e| self.logs.redact(e).into_owned());
                let held = self.write(Box::new(move |s| {
                    s.save_feature(id, status, attempts, last_error.as_deref(), now)
                }));
                // While the store refuses writes the merge (which records its state) is not
                // tried; the feature shows passing and `corral feature merge` lands it later.
                let kept = !self.unsaved.is_empty();
                if held.is_some() || kept || status != crate::api::FeatureStatus::Passing {
                    return held;
                }
                // Saved: a passing feature's branch is landed (or waits to be).
                let name = self
                    .model
                    .features
                    .get(&id)
                    .map_or(String::new(), |f| f.name.clone());
                return super::git::land::after_pass(
                    &self.project,
                    &self.config,
                    &self.store,
                    id,
                    &name,
                    &self.tx,
                );
            }
            Effect::SaveRun {
                run,
                state,
                exit_code,
                finished_at_ms,
            } => {
                if !state.is_live() {
                    self.stdins.remove(&run);
                    self.stream_json.remove(&run);
                    // A run too short for a look at its stream still records its session.
                    let seen = self.seen.remove(&run).and_then(|s| s.2);
                    let session = self
                        .logs
                        .with_steps(run, |b| b.session().map(str::to_string))
                        .flatten();
                    if let Some(s) = session.filter(|s| seen.as_ref() != Some(s))
                        && let Some(hold) = self.record_session(run, &s)
                    {
                        let _ = self.tx.send(hold);
                    }
                    log::info!("run {run}: {}", crate::core::describe_end(state));
                    self.logs.announce(Event::RunEnded { run, state });
                }
                return self.write(Box::new(move |s| {
                    s.save_run(run, state, exit_code, finished_at_ms)
                }));
            }
            Effect::SaveJob(mut job) => {
                if let Some(e) = &job.last_error {
                    job.last_error = Some(self.logs.redact(e).into_owned());
                }
                return self.write(Box::new(move |s| s.save_job(&job, now)));
            }
            Effect::Notice(text) => {
                log::info!("{text}");
                self.logs.announce(Event::Notice { text });
                Ok(())
            }
            Effect::SavePriority { id, priority } => {
                return self.write(Box::new(move |s| s.save_priority(id, priority, now)));
            }
            Effect::ReloadBacklog if !self.unsaved.is_empty() => {
                // It would read what the kept writes have yet to change: after them.
                self.unsaved.reload_due = true;
                Ok(())
            }
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
            Effect::ReloadConfig => {
                self.reload_config();
                Ok(())
            }
            Effect::CheckQuiet { run, epoch } => {
                let quiet_ms = self.logs.quiet_for(run, now);
                return Some(Input::Quiet {
                    run,
                    epoch,
                    quiet_ms,
                });
            }
            Effect::WriteInput { run, text } => {
                if self.stdins.contains_key(&run) {
                    self.logs
                        .note(run, &format!("corral: sent to stdin: {text}"));
                }
                // A stream-json agent reads a person's line as a user message.
                let line = if self.stream_json.contains(&run) {
                    crate::core::attention::user_message(&text)
                } else {
                    text
                };
                self.write_line(run, line)
            }
            Effect::Reply { run, reply } => self.write_reply(run, reply),
            Effect::Notify(n) => {
                self.notify(n);
                Ok(())
            }
            Effect::MergeFeature { id } => {
                let name = self
                    .model
                    .features
                    .get(&id)
                    .map_or(String::new(), |f| f.name.clone());
                return super::git::land::merge_now(
                    &self.project,
                    &self.config,
                    &self.store,
                    id,
                    &name,
                );
            }
            Effect::RecordRejection { id, reason } => self
                .store
                .set_merge_state(id.0, "rejected", &reason, now)
                .map_err(|e| e.to_string()),
            Effect::ShutdownComplete => Ok(()),
            Effect::Answer { ticket, refused } => {
                // Told once the snapshot after it is out, as a barrier is.
                self.answers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(ticket, refused);
                self.reached = self.reached.max(ticket);
                Ok(())
            }
        };
        if let Err(e) = result {
            log::error!("{e}");
        }
        None
    }
}
