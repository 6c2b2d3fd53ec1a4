//! Starting one run: the job and run rows, the argv from the profile's template, the process
//! in its own group, its output pumps, and the waiter that reports how it ended and whether
//! the work passed (exit code, the agent's own report, a verify command).

use super::capture::LogHub;
use super::now_ms;
use super::process::{self, SpawnSpec};
use super::store::Store;
use super::supervisor::Supervisor;
use crate::api::{Event, FeatureId, JobId, Role, RunId, Stream};
use crate::config::Success;
use crate::core::failure::Classifier;
use crate::core::{Failure, Input, NewRun, Verdict};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How long an ended agent's pipes may take to drain before its end is reported anyway.
const DRAIN_BEFORE_EXIT: Duration = Duration::from_millis(500);

/// How a run's work is judged once its process has exited.
struct Judge {
    project: PathBuf,
    /// Where verify runs: the run's worktree, or the project.
    cwd: PathBuf,
    run: RunId,
    success: Success,
    /// The verify command, already expanded.
    verify: Option<Vec<String>>,
    env: BTreeMap<String, String>,
    logs: LogHub,
    /// The run's cgroup: the verify command runs in it too, so nothing it starts outlives it.
    cgroup: Option<super::cgroup::RunCgroup>,
}

impl Judge {
    /// `None` when the exit code alone decides: the `exit` mode without `verify`, or with
    /// `verify` when the agent failed already (verify is then not run). `Err` when corral
    /// could not read what the agent reported (that is no verdict on the work).
    async fn verdict(&self, code: Option<i32>) -> Result<Option<Verdict>, String> {
        let verdict = match self.success {
            Success::Exit if code == Some(0) => Verdict::Passed,
            Success::Exit => return Ok(None),
            Success::Report => self.reported().await?,
        };
        Ok(match (verdict, &self.verify) {
            (Verdict::Passed, Some(argv)) if !self.run_verify(argv).await => {
                Some(Verdict::VerifyFailed)
            }
            (_, None) if self.success == Success::Exit => None,
            _ => Some(verdict),
        })
    }

    /// What the agent said about its work with `corral feature pass|fail --run`. The store
    /// failing to answer is corral's trouble, tried again for a while and never a verdict.
    async fn reported(&self) -> Result<Verdict, String> {
        let mut tries = 0;
        let report = loop {
            let project = self.project.clone();
            let run = self.run;
            let read = tokio::task::spawn_blocking(move || {
                Store::open(&project).and_then(|s| s.report_for_run(run))
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
            match read {
                Err(e) if tries < STORE_TRIES => {
                    tries += 1;
                    log::warn!("run {run}: reading its report failed ({e}); trying again");
                    tokio::time::sleep(STORE_RETRY).await;
                }
                other => break other,
            }
        };
        match report {
            Ok(Some(true)) => Ok(Verdict::Passed),
            Ok(Some(false)) => Ok(Verdict::ReportedFailing),
            Ok(None) => {
                self.logs.note(
                    self.run,
                    "corral: the agent exited without reporting pass or fail",
                );
                Ok(Verdict::NotReported)
            }
            Err(e) => {
                let e = format!("reading the agent's report failed: {e}");
                self.logs.note(self.run, &format!("corral: {e}"));
                Err(e)
            }
        }
    }

    /// Runs the verify command in the project, its output going to the run's log.
    async fn run_verify(&self, argv: &[String]) -> bool {
        self.logs
            .note(self.run, &format!("corral: verify: {}", argv.join(" ")));
        let spec = SpawnSpec {
            argv,
            cwd: &self.cwd,
            env: &self.env,
            stdin_pipe: false,
            cgroup: self.cgroup.as_ref(),
        };
        let mut child = match process::spawn(&spec) {
            Ok(child) => child,
            Err(e) => {
                self.logs
                    .note(self.run, &format!("corral: verify could not start: {e}"));
                return false;
            }
        };
        let pid = child.id();
        if let Some(pid) = pid {
            process::remember_group(pid, None);
        }
        drop(child.stdin.take());
        let pumps: Vec<JoinHandle<()>> =
            [
                child.stdout.take().map(|p| {
                    tokio::spawn(self.logs.clone().pump(self.run, Stream::Stdout, p, now_ms))
                }),
                child.stderr.take().map(|p| {
                    tokio::spawn(self.logs.clone().pump(self.run, Stream::Stderr, p, now_ms))
                }),
            ]
            .into_iter()
            .flatten()
            .collect();
        let ok = matches!(child.wait().await, Ok(s) if s.success());
        if let Some(pid) = pid {
            super::reaper::waited(pid);
        }
        for pump in pumps {
            let _ = pump.await;
        }
        if let Some(pid) = pid {
            process::forget_group(pid);
        }
        let word = if ok { "passed" } else { "failed" };
        self.logs.note(self.run, &format!("corral: verify {word}"));
        ok
    }
}

impl Supervisor {
    /// Claims `job` in the store, runs it with `profile` and answers with the input that
    /// reports it.
    pub(super) fn spawn(
        &mut self,
        job: JobId,
        feature: Option<FeatureId>,
        role: Role,
        profile: &str,
        attempts: u32,
    ) -> Input {
        let failed_early = |error: String| Input::SpawnFailed {
            job,
            record: None,
            error,
        };
        let Some(profile) = self.config.profiles.get(profile).cloned() else {
            return failed_early(format!("profile {profile:?} is no longer in corral.toml"));
        };
        // corral's own trouble (storage, descriptors, memory) is no attempt of the job's.
        let deferred = |sup: &mut Supervisor, record: Option<NewRun>, reason: String| {
            sup.start_probe();
            Input::SpawnDeferred {
                job,
                record,
                reason,
            }
        };
        if let Some(why) = self.unsaved.why() {
            let why = why.to_string();
            return deferred(self, None, why);
        }
        // Short of descriptors: wait before anything is recorded for the start.
        if let Err(e) = super::durability::spare_descriptors() {
            self.unsaved.short = Some(super::durability::Shortage::Descriptors);
            return deferred(
                self,
                None,
                format!("corral is short of file descriptors: {e}"),
            );
        }
        let now = now_ms();
        match self.store.claim_job(job, attempts, now) {
            Ok(true) => {}
            Ok(false) => {
                return match self.store.job(job) {
                    Ok(Some(stored)) => Input::ClaimRefused(stored),
                    _ => failed_early(format!("job {job} is not in the store")),
                };
            }
            Err(e) if super::durability::retryable(&e) => {
                return deferred(self, None, super::durability::describe(&e));
            }
            Err(e) => return failed_early(e.to_string()),
        }
        let (run, log_path) =
            match self
                .store
                .begin_run(job, &profile.name, role, feature, &self.runs_dir, now)
            {
                Ok(ids) => ids,
                Err(e) if !super::durability::retryable(&e) => return failed_early(e.to_string()),
                Err(e) => {
                    // The claim stands in the store: give it back with the attempt.
                    if let Some(mut back) = self.model.jobs.get(&job).cloned() {
                        back.state = crate::api::JobState::Queued;
                        back.attempts = attempts.saturating_sub(1);
                        let _ = self.write(Box::new(move |s| s.save_job(&back, now)));
                    }
                    return deferred(self, None, super::durability::describe(&e));
                }
            };
        // A testing claim is released after `testing_claim_timeout` at the latest.
        let claim = (role == Role::Testing).then_some(self.config.scheduler.testing_claim_timeout);
        let timeout = match (profile.timeout, claim) {
            (Some(t), Some(c)) => Some(t.min(c)),
            (t, c) => t.or(c),
        };
        let record = |pid| NewRun {
            id: run,
            job,
            feature,
            profile: profile.name.clone(),
            role,
            pid,
            started_at_ms: now,
            grace_ms: profile.grace.as_millis() as u64,
            timeout_ms: timeout.map(|t| t.as_millis() as u64),
            silence_ms: profile.silence.map(|t| t.as_millis() as u64),
        };
        // Stopped for want of something of corral's own: the run is recorded as not started,
        // the job waits (see `deferred`).
        let not_started = |sup: &mut Supervisor, reason: String| {
            sup.logs
                .note(run, &format!("corral: not started: {reason}"));
            sup.logs.close(run);
            let _ = sup.write(Box::new(move |s| {
                s.save_run(run, crate::api::RunState::SpawnFailed, None, Some(now))
            }));
            deferred(sup, Some(record(0)), reason)
        };
        let failed = |sup: &mut Supervisor, error: String| {
            sup.logs
                .note(run, &format!("corral: could not start the agent: {error}"));
            let _ = sup.write(Box::new(move |s| {
                s.save_run(run, crate::api::RunState::SpawnFailed, None, Some(now))
            }));
            sup.logs.close(run);
            Input::SpawnFailed {
                job,
                record: Some(record(0)),
                error,
            }
        };
        // `.corral/runs` may have been deleted since the start: a new run still gets its log.
        let _ = super::store::ensure_state_dir(&self.project);
        if let Err(e) = self.logs.open(run, &log_path) {
            log::warn!("run {run}: cannot open {}: {e}", log_path.display());
            if own_trouble(&e) {
                self.unsaved.short = self.unsaved.short.or(super::durability::Shortage::of(&e));
                let reason = format!("cannot create the log {}: {e}", log_path.display());
                return not_started(self, reason);
            }
        }
        let name = feature
            .and_then(|f| self.model.features.get(&f))
            .map_or(String::new(), |f| f.name.clone());
        let worktree = match super::git::run::prepare(
            &self.project,
            &self.config,
            &self.store,
            feature,
            &name,
            role,
            run,
            &self.logs,
        ) {
            Ok(w) => w,
            Err(e) => return failed(self, e),
        };
        let cx = super::run_setup::Context {
            project: &self.project,
            config: &self.config,
            store: &self.store,
            features: &self.model.features,
            worktree: worktree
                .as_ref()
                .map(|w| (w.path.as_path(), w.branch.as_str())),
            env_model: std::env::var("CORRAL_MODEL").ok(),
            env_effort: std::env::var("CORRAL_EFFORT").ok(),
        };
        let prepared = match super::run_setup::prepare(&cx, &profile, role, feature, run) {
            Ok(p) => p,
            Err(e) => {
                if let Some(w) = worktree {
                    w.release();
                }
                if e.own {
                    return not_started(self, e.text);
                }
                return failed(self, e.text);
            }
        };
        for w in &prepared.warnings {
            log::warn!("{w}");
            self.logs.note(run, &format!("corral: {w}"));
        }
        let (model, effort) = (prepared.model.clone(), prepared.effort.clone());
        if let Some(hold) = self.write(Box::new(move |s| {
            s.set_run_model(run, model.as_deref(), effort.as_deref())
        })) {
            let _ = self.tx.send(hold);
        }
        let super::run_setup::Prepared {
            argv,
            verify,
            mut env,
            prompt,
            ..
        } = prepared;
        if let Some(w) = &worktree {
            w.env(&mut env);
            // Until its branch is merged, features that depend on this one must not start
            // (their branches would lack its work); a merge reloads the backlog.
            if let Some(f) = feature.and_then(|id| self.model.features.get_mut(&id)) {
                f.unmerged = true;
            }
        }
        let cwd = worktree
            .as_ref()
            .map_or_else(|| self.project.clone(), |w| w.path.clone());
        let mut cgroup = super::cgroup::RunCgroup::create(run.0);
        let spec = |cgroup| SpawnSpec {
            argv: &argv,
            cwd: &cwd,
            env: &env,
            stdin_pipe: profile.stdin != crate::config::StdinMode::Null,
            cgroup,
        };
        let first = cgroup.clone();
        let mut spawned = process::spawn(&spec(first.as_ref()));
        if let (Err(e), Some(cg)) = (&spawned, &cgroup)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            // Joining the cgroup may be what failed: the run is still worth starting.
            log::warn!(
                "run {run}: starting in {} failed ({e}); starting without a cgroup",
                cg.path().display()
            );
            let _ = cg.remove();
            cgroup = None;
            spawned = process::spawn(&spec(None));
        }
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if own_trouble(&e) => {
                self.unsaved.short = self.unsaved.short.or(super::durability::Shortage::of(&e));
                return not_started(self, format!("corral could not start a process: {e}"));
            }
            Err(e) => {
                if let Some(cg) = &cgroup {
                    let _ = cg.remove();
                }
                let program = argv.first().map_or("", String::as_str);
                let error = if e.kind() == std::io::ErrorKind::NotFound {
                    format!("program `{program}` not found (is it installed and on PATH?)")
                } else {
                    format!("{program}: {e}")
                };
                if let Some(w) = worktree {
                    w.release();
                }
                return failed(self, error);
            }
        };
        let Some(pid) = child.id() else {
            if let Some(w) = worktree {
                w.release();
            }
            return failed(self, "process vanished at spawn".into());
        };
        if let Some(cg) = &cgroup {
            super::recovery::record_cgroup(&self.project, run, cg);
        }
        process::remember_group(pid, cgroup.clone());
        self.escaped.register(pid, run);
        if let Some(stdin) = child.stdin.take() {
            self.stdins
                .insert(run, Arc::new(tokio::sync::Mutex::new(stdin)));
        }
        if profile.stdin == crate::config::StdinMode::StreamJson {
            // The prompt is the first user message; stdin stays open for the answers.
            self.stream_json.insert(run);
            if let Err(e) = self.write_line(run, crate::core::attention::user_message(&prompt)) {
                log::warn!("{e}");
            }
        }
        self.logs.announce(Event::RunStarted {
            run,
            feature,
            role,
            profile: profile.name.clone(),
            pid,
        });
        let what = feature.map_or(String::new(), |f| format!(" for feature {f}"));
        log::info!("run {run}: started {role} {argv:?} as pid {pid}{what}");
        let started = process::process_start_time(pid);
        if let Some(hold) = self.write(Box::new(move |s| s.set_run_process(run, pid, started))) {
            let _ = self.tx.send(hold);
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
        let classifier = match self.classifiers.get(&profile.name) {
            Some(c) => c.clone(),
            None => Arc::new(Classifier::new(&[]).expect("built-in failure rules compile")),
        };
        let judge = Judge {
            project: self.project.clone(),
            cwd: cwd.clone(),
            run,
            success: profile.success,
            verify,
            env,
            logs: self.logs.clone(),
            cgroup: cgroup.clone(),
        };
        let escaped = self.escaped.clone();
        let project = self.project.clone();
        tokio::spawn(async move {
            let status = child.wait().await;
            super::reaper::waited(pid);
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
            // A log cut short by a failed write is no record to judge: wait for it first.
            let mut unjudged = wait_for_log(&logs, run).await.err();
            // Killed or crashed runs are not judged: they did not finish their work.
            let verdict = match signal {
                None => match judge.verdict(code).await {
                    Ok(v) => v,
                    Err(e) => {
                        unjudged = unjudged.or(Some(e));
                        None
                    }
                },
                Some(_) => None,
            };
            let failure = read_failure(&classifier, &logs, run, at_ms);
            let group_alive = process::run_alive(pid, &escaped);
            let _ = tx.send(Input::Exited {
                run,
                code,
                signal,
                group_alive,
                at_ms,
                verdict,
                failure,
                usage: logs.usage(run),
                random: random_draw(run),
                unjudged,
            });
            if group_alive {
                wait_until_gone(pid, &escaped).await;
                let _ = tx.send(Input::GroupGone { run });
            }
            if !drained {
                // Pipes close once the last process of the group holding them is gone.
                for pump in pumps {
                    let _ = pump.await;
                }
            }
            logs.close(run);
            if let Some(w) = worktree {
                w.release();
            }
            escaped.forget(pid);
            if let Some(cg) = process::forget_group(pid) {
                let _ = tokio::task::spawn_blocking(move || {
                    process::remove_cgroups_when_empty(vec![cg], Duration::from_secs(5));
                })
                .await;
                super::recovery::forget_cgroup(&project, run);
            }
        });
        Input::Spawned(record(pid))
    }
}

/// Polls until nothing the run led by `pgid` started is alive any more, reaping adopted
/// orphans meanwhile (their zombies would otherwise linger as corral's children). Quick at
/// first, when a stop usually completes, then at most once a second.
async fn wait_until_gone(pgid: u32, escaped: &process::Escapees) {
    let mut pause = Duration::from_millis(20);
    loop {
        let escaped = escaped.clone();
        let alive = tokio::task::spawn_blocking(move || {
            super::reaper::reap_adopted();
            process::run_alive(pgid, &escaped)
        })
        .await
        .unwrap_or(false);
        if !alive {
            return;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
}

/// Whether an error is corral's own lack of something (space, descriptors, memory, a state
/// file it may not write) rather than anything about the agent.
pub(super) fn own_trouble(e: &std::io::Error) -> bool {
    use nix::libc::{EAGAIN, EDQUOT, EMFILE, ENFILE, ENOMEM, ENOSPC, EPERM, EROFS};
    matches!(
        e.raw_os_error(),
        Some(EMFILE | ENFILE | ENOMEM | EAGAIN | ENOSPC | EDQUOT | EROFS | EPERM)
    )
}

/// How often, and how long apart, a run's end tries again to read its report or write its log
/// before it is given up as not judged (about a minute).
const STORE_TRIES: u32 = 60;
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Waits until the run's log file holds everything it printed (see `capture::gap`).
async fn wait_for_log(logs: &LogHub, run: RunId) -> Result<(), String> {
    let mut tries = 0;
    loop {
        match logs.caught_up(run) {
            Ok(()) => return Ok(()),
            Err(e) if tries >= STORE_TRIES => {
                return Err(format!("its log file could not be written: {e}"));
            }
            Err(_) => tries += 1,
        }
        tokio::time::sleep(STORE_RETRY).await;
    }
}

/// Lines from the end of a run's log that decide how it failed.
const FAILURE_TAIL: usize = 40;

/// Classifies the end of a run's log (colour codes removed). Done for every end: cheap, and
/// the core uses it only if the run failed.
fn read_failure(
    classifier: &Classifier,
    logs: &LogHub,
    run: RunId,
    now_ms: i64,
) -> Option<Failure> {
    let lines: Vec<String> = logs
        .tail(run, FAILURE_TAIL)
        .into_iter()
        .map(|l| crate::core::lines::strip_sgr(&l.text).into_owned())
        .collect();
    let tail: Vec<&str> = lines.iter().map(String::as_str).collect();
    let offset = jiff::tz::TimeZone::system()
        .to_offset(jiff::Timestamp::from_millisecond(now_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH))
        .seconds()
        / 60;
    // What the event stream says in its own fields wins over the log's wording.
    let signal = logs
        .with_steps(run, |b| {
            crate::core::steps::signal_class(b.steps().iter(), now_ms)
        })
        .flatten();
    if let Some((class, why)) = signal {
        let evidence = Some(logs.redact(&why).into_owned());
        return Some(Failure { class, evidence });
    }
    let class = classifier.classify(&tail, now_ms, offset);
    // The lines were redacted with their colour codes; what is quoted is redacted as shown.
    let evidence = classifier
        .evidence(&tail)
        .or_else(|| classifier.summary(&tail))
        .map(|e| logs.redact(&e).into_owned());
    Some(Failure { class, evidence })
}

/// A uniform draw for the backoff jitter: std's randomly seeded hasher over the run and the
/// time, which is all the randomness spreading retries needs.
fn random_draw(run: RunId) -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(run.0);
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}
