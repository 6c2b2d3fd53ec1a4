//! The whole supervised world as the core sees it, and how each input changes it.

use super::breaker::Breaker;
use super::effect::{Effect, TimerKind, WakeKey};
pub use super::graph_features::FeatureMap;
pub use super::records::{Failure, Feature, Job, NewRun, Verdict};
use super::run::{Run, RunEvent};
use super::scheduler::{Policy, ProfileInfo, ProfileSlot, RetryPolicy};
use crate::api::{
    Command, FeatureId, FeatureStatus, JobId, Role, RunId, RunState, RunStats, Usage,
};
use std::collections::BTreeMap;

/// Everything that can change the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The runtime is up: schedule whatever is ready.
    Kick,
    /// An effect the runtime put off while it prepared for it off its loop (a new git
    /// worktree, its copies and setup): perform it now.
    Prepared(Box<Effect>),
    Command(Command),
    /// A command someone waits on: handled as [`Input::Command`], then answered with
    /// [`Effect::Answer`] (done, or refused and why) under the same ticket.
    Asked {
        ticket: u64,
        command: Command,
    },
    Spawned(NewRun),
    /// The spawn of `job` did not happen. `record` is the run the runtime stored for the
    /// attempt (pid 0), when it got that far, so the failure shows like any ended run.
    SpawnFailed {
        job: JobId,
        record: Option<NewRun>,
        error: String,
    },
    /// The spawn of `job` did not happen because corral itself lacked something (storage,
    /// file descriptors, memory): nothing is said about the work. The job waits, its attempt
    /// not spent; `record` as for `SpawnFailed`.
    SpawnDeferred {
        job: JobId,
        record: Option<NewRun>,
        reason: String,
    },
    /// corral's own resources hold the scheduler (`Some(why)`: a full disk, a state file that
    /// cannot be written) or no longer do (`None`). Nothing starts while held.
    Hold(Option<String>),
    Exited {
        run: RunId,
        code: Option<i32>,
        signal: Option<i32>,
        group_alive: bool,
        at_ms: i64,
        /// Whether the work passed, when the profile decides it otherwise than by exit code
        /// (a report by the agent, a verify command); `None`: exit code 0 passes.
        verdict: Option<Verdict>,
        /// What the end of the log says about a failure (used only if the run failed).
        failure: Option<Failure>,
        /// What the agent reported spending.
        usage: Option<Usage>,
        /// A uniform random draw for the backoff's jitter (the core has no randomness).
        random: u32,
        /// corral could not judge the run (its log or report could not be written or read):
        /// the run is not a verdict on the work, and the job goes back to the queue.
        unjudged: Option<String>,
    },
    /// Nothing the run started is left alive (its group, its escapees and its cgroup are
    /// empty) after its leader had exited with some of them still there.
    GroupGone {
        run: RunId,
    },
    /// A timer set by [`Effect::Wake`] fired.
    Wake(WakeKey),
    /// The store refused to claim a job for a spawn (something else changed it there, e.g.
    /// `corral job cancel` against the database): the job as the store has it.
    ClaimRefused(Job),
    Timer {
        run: RunId,
        epoch: u64,
        kind: TimerKind,
    },
    /// The answer to [`Effect::CheckQuiet`].
    Quiet {
        run: RunId,
        epoch: u64,
        quiet_ms: u64,
    },
    /// The backlog as now stored (after `Effect::ReloadBacklog`).
    Backlog(Vec<Feature>),
    /// What a live run's event stream shows now: its activity, what it asks a person (see
    /// [`super::attention`]) and its agent's session id.
    Attention {
        run: RunId,
        activity: Option<String>,
        ask: Option<crate::api::Ask>,
        session: Option<String>,
    },
    /// Time to read the live runs' streams for what they ask (once a second while runs are
    /// live and no stats are sampled); the core itself has nothing to do for it.
    Look,
    /// A stats sample of live runs, taken at `at_ms`.
    Sample {
        at_ms: i64,
        stats: Vec<(RunId, RunStats)>,
    },
}

/// How many ended jobs the model keeps for display.
const KEEP_ENDED_JOBS: usize = 50;

/// The core's state. Build it from the store with [`Model::new`], then feed it inputs.
#[derive(Debug, Clone, Default)]
pub struct Model {
    /// The backlog, with its dependency graph and ready order kept up to date.
    pub features: FeatureMap,
    pub runs: BTreeMap<RunId, Run>,
    pub jobs: BTreeMap<JobId, Job>,
    pub max_agents: u32,
    pub scheduler_paused: bool,
    /// Why corral's own resources hold the scheduler (see `Input::Hold`), apart from a pause.
    pub held: Option<String>,
    /// Why the scheduler was paused, when corral paused it by itself (after a crash); cleared
    /// when a person pauses or resumes it.
    pub pause_reason: Option<String>,
    pub shutting_down: bool,
    /// Spawns asked for and not yet answered (feature, role); they count against the limits.
    pub(crate) pending_spawns: Vec<JobId>,
    /// The current time (ms since the epoch), set by the runtime before each input.
    pub now_ms: i64,
    /// The id the next new job gets (the store's highest plus one at load).
    pub next_job: i64,
    /// Enabled profiles by name.
    pub profile_info: BTreeMap<String, ProfileInfo>,
    pub retry: RetryPolicy,
    pub breaker_config: super::breaker::Config,
    /// Circuit breakers by account, created when first needed.
    pub breakers: BTreeMap<String, Breaker>,
    /// Everything every run reported spending (loaded from the store, then added to).
    pub spent: Usage,
    /// `[budget] usd` in micro-dollars.
    pub budget_micros: Option<u64>,
    /// The budget pause happened; it is not repeated if a person resumes anyway.
    pub(crate) budget_tripped: bool,
    /// The enabled profile the scheduler uses for each role (set by the runtime).
    pub profiles: BTreeMap<Role, ProfileSlot>,
    pub policy: Policy,
    /// The initializer is started by itself at most once per session.
    pub(crate) initializer_started: bool,
    pub notice: Option<String>,
    /// The latest notices, oldest first, each with its number (counting from 1), so a
    /// dashboard shows every one in turn even when several come between two snapshots.
    pub recent_notices: std::collections::VecDeque<(u64, String)>,
    /// When the latest stats sample was taken.
    pub sampled_at_ms: i64,
    /// By profile: how long a permission request may wait for a person before corral denies
    /// it (`deny_after`); a profile not here waits as long as it takes.
    pub deny_after_ms: BTreeMap<String, u64>,
    /// "Backlog finished" was said for the current all-passing state.
    pub(crate) backlog_done_told: bool,
}

/// How many notices a snapshot carries (a dashboard queues those it has not shown).
pub const RECENT_NOTICES: usize = 8;

impl Model {
    /// A model over a backlog loaded from the store. Features left in progress by an earlier
    /// corral (no live run can exist at start) go back to pending so they are scheduled again.
    pub fn new(features: Vec<Feature>, max_agents: u32) -> (Model, Vec<Effect>) {
        let mut effects = Vec::new();
        let features = features
            .into_iter()
            .map(|mut f| {
                if f.status == FeatureStatus::InProgress {
                    // Its run was lost with the corral that ran it: that attempt does not count.
                    f.status = FeatureStatus::Pending;
                    f.attempts = f.attempts.saturating_sub(1);
                    effects.push(save_feature(&f));
                }
                (f.id, f)
            })
            .collect();
        let mut model = Model {
            features,
            max_agents,
            ..Model::default()
        };
        // A backlog that passes already at start is no news.
        model.backlog_done();
        (model, effects)
    }

    /// The stored backlog and queue exactly as they are, for reading what the core makes of
    /// them (the order of the queue, whether a change is allowed) without a runtime: nothing
    /// is put back the way [`Model::new`] and [`Model::restore_queue`] do at start.
    /// A feature stored in progress counts as pending, as the next start makes it: no run
    /// can be live while nobody runs the project.
    pub fn stored(features: Vec<Feature>, jobs: Vec<Job>, now_ms: i64) -> Model {
        let mut model = Model {
            now_ms,
            features: features
                .into_iter()
                .map(|mut f| {
                    if f.status == FeatureStatus::InProgress {
                        f.status = FeatureStatus::Pending;
                    }
                    (f.id, f)
                })
                .collect(),
            jobs: jobs.into_iter().map(|j| (j.id, j)).collect(),
            ..Model::default()
        };
        model.next_job = model.jobs.keys().last().map_or(1, |j| j.0 + 1);
        model.features.sync();
        model
    }

    /// Takes the stored backlog as it is now: new features appear, edited ones change, removed
    /// ones go. A feature with a live run keeps the in-progress status only the core knows.
    fn merge_backlog(&mut self, features: Vec<Feature>) -> Vec<Effect> {
        let busy: std::collections::HashSet<FeatureId> = self
            .runs
            .values()
            .filter(|r| r.state.is_live())
            .filter_map(|r| r.feature)
            .chain(
                self.pending_spawns
                    .iter()
                    .filter_map(|j| self.jobs.get(j))
                    .filter(|j| j.role == Role::Coding)
                    .filter_map(|j| j.feature),
            )
            .collect();
        self.features = features
            .into_iter()
            .map(|mut f| {
                if busy.contains(&f.id) {
                    f.status = FeatureStatus::InProgress;
                } else if f.status == FeatureStatus::InProgress {
                    f.status = FeatureStatus::Pending;
                }
                (f.id, f)
            })
            .collect();
        Vec::new()
    }

    /// Applies one input and returns the effects, including any new starts the scheduler makes.
    pub fn handle(&mut self, input: Input) -> Vec<Effect> {
        let mut effects = match input {
            Input::Kick | Input::Look => Vec::new(),
            Input::Prepared(effect) => vec![*effect],
            Input::Command(cmd) => self.command(cmd),
            Input::Asked { ticket, command } => match self.try_command(command) {
                Ok(mut effects) => {
                    effects.push(Effect::Answer {
                        ticket,
                        refused: None,
                    });
                    effects
                }
                Err(why) => {
                    let mut effects = self.notice(why.clone());
                    effects.push(Effect::Answer {
                        ticket,
                        refused: Some(why),
                    });
                    effects
                }
            },
            Input::Spawned(new) => self.spawned(new),
            Input::SpawnFailed { job, record, error } => self.spawn_failed(job, record, error),
            Input::SpawnDeferred {
                job,
                record,
                reason,
            } => self.spawn_deferred(job, record, reason),
            Input::Hold(why) => self.hold(why),
            Input::Wake(key) => self.wake(key),
            Input::ClaimRefused(stored) => self.claim_refused(stored),
            Input::Exited {
                run,
                code,
                signal,
                group_alive,
                at_ms,
                verdict,
                failure,
                usage,
                random,
                unjudged,
            } => {
                if let Some(r) = self.runs.get_mut(&run) {
                    r.unjudged = unjudged;
                    r.verdict = verdict;
                    r.failure = failure;
                    r.usage = usage;
                    r.random = random;
                }
                self.run_event(
                    run,
                    RunEvent::Exited {
                        code,
                        signal,
                        group_alive,
                        at_ms,
                    },
                )
            }
            Input::GroupGone { run } => self.run_event(run, RunEvent::GroupGone),
            Input::Timer {
                run,
                epoch,
                kind: TimerKind::AskDeadline,
            } => self.ask_deadline(run, epoch),
            Input::Timer {
                run,
                epoch,
                kind: TimerKind::Timeout,
            } => match self.timeout_due(run) {
                Some(effects) => effects,
                None => self.run_event(
                    run,
                    RunEvent::Timer {
                        epoch,
                        kind: TimerKind::Timeout,
                    },
                ),
            },
            Input::Timer { run, epoch, kind } => {
                self.run_event(run, RunEvent::Timer { epoch, kind })
            }
            Input::Quiet {
                run,
                epoch,
                quiet_ms,
            } => match self.quiet_while_waiting(run) {
                Some(effects) => effects,
                None => self.run_event(run, RunEvent::Quiet { epoch, quiet_ms }),
            },
            Input::Attention {
                run,
                activity,
                ask,
                session,
            } => self.attention(run, activity, ask, session),
            Input::Backlog(features) => self.merge_backlog(features),
            Input::Sample { at_ms, stats } => {
                self.sampled_at_ms = at_ms;
                for (id, sample) in stats {
                    if let Some(run) = self.runs.get_mut(&id).filter(|r| r.state.is_live()) {
                        run.stats = Some(sample);
                    }
                }
                Vec::new()
            }
        };
        // The graph takes this input's feature changes once, before the scheduler asks it.
        self.features.sync();
        effects.extend(self.backlog_done());
        effects.extend(self.schedule());
        self.features.sync();
        if self.shutting_down && self.all_quiet() {
            effects.push(Effect::ShutdownComplete);
        }
        effects
    }

    /// Says once that every feature passes (again after one stops passing).
    fn backlog_done(&mut self) -> Vec<Effect> {
        let all = !self.features.is_empty()
            && self
                .features
                .values()
                .all(|f| f.status == FeatureStatus::Passing);
        if all == self.backlog_done_told {
            return Vec::new();
        }
        self.backlog_done_told = all;
        if !all {
            return Vec::new();
        }
        vec![Effect::Notify(super::effect::Notification {
            event: "backlog_done".into(),
            title: "backlog finished".into(),
            body: format!("all {} features pass", self.features.len()),
            run: None,
            feature: None,
        })]
    }

    /// True when no run is live, none awaits a cleanup KILL and no spawn is in flight.
    pub fn all_quiet(&self) -> bool {
        self.pending_spawns.is_empty()
            && self
                .runs
                .values()
                .all(|r| !r.state.is_live() && !r.cleanup_pending)
    }

    /// Pauses the scheduler for `why`, which the header and `corral status` show until a
    /// person resumes it.
    pub fn pause_for(&mut self, why: String) -> Vec<Effect> {
        self.scheduler_paused = true;
        let text = format!("scheduler paused: {why}; space or `corral scheduler resume` goes on");
        self.pause_reason = Some(why);
        self.notice(text)
    }

    pub(crate) fn notice(&mut self, text: String) -> Vec<Effect> {
        self.notice = Some(text.clone());
        let seq = self.recent_notices.back().map_or(0, |(n, _)| *n) + 1;
        self.recent_notices.push_back((seq, text.clone()));
        while self.recent_notices.len() > RECENT_NOTICES {
            self.recent_notices.pop_front();
        }
        vec![Effect::Notice(text)]
    }

    fn spawned(&mut self, new: NewRun) -> Vec<Effect> {
        self.pending_spawns.retain(|j| *j != new.job);
        let mut effects = Vec::new();
        if let Some(job) = self.jobs.get_mut(&new.job) {
            job.runs.push(new.id);
            effects.push(Effect::SaveJob(job.clone()));
        }
        let attempts = self.jobs.get(&new.job).map_or(1, |j| j.attempts);
        if new.role == Role::Coding
            && let Some(feature) = new.feature.and_then(|f| self.features.get_mut(&f))
        {
            feature.status = FeatureStatus::InProgress;
            feature.attempts = attempts;
            feature.last_error = None;
            effects.push(save_feature(feature));
        }
        if let Some(after_ms) = new.timeout_ms {
            effects.push(Effect::StartTimer {
                run: new.id,
                epoch: 0,
                kind: TimerKind::Timeout,
                after_ms,
            });
        }
        let (id, silence, timeout) = (new.id, new.silence_ms, new.timeout_ms);
        self.insert_run(new);
        if let Some(run) = self.runs.get_mut(&id) {
            run.attention.timeout_ms = timeout;
            if let Some(limit) = silence {
                effects.push(run.silence_timer(limit));
            }
        }
        effects
    }

    /// Records a run, running until the caller says otherwise.
    pub(crate) fn insert_run(&mut self, new: NewRun) {
        let run = Run {
            id: new.id,
            job: new.job,
            feature: new.feature,
            profile: new.profile,
            role: new.role,
            state: RunState::Running,
            pid: new.pid,
            started_at_ms: new.started_at_ms,
            finished_at_ms: None,
            exit_code: None,
            grace_ms: new.grace_ms,
            kill_requested: false,
            restart_after: false,
            cleanup_pending: false,
            stopped_for: None,
            silence_ms: new.silence_ms,
            stats: None,
            kill_sent: false,
            unjudged: None,
            verdict: None,
            failure: None,
            usage: None,
            random: 0,
            epoch: 0,
            attention: Default::default(),
        };
        self.runs.insert(run.id, run);
    }

    pub(crate) fn run_event(&mut self, id: RunId, event: RunEvent) -> Vec<Effect> {
        let Some(run) = self.runs.get_mut(&id) else {
            return self.notice(format!("no run {id}"));
        };
        let was_live = run.state.is_live();
        let mut effects = run.apply(event);
        if was_live && !run.state.is_live() {
            let run = run.clone();
            effects.extend(self.run_ended(&run));
        } else if effects.is_empty()
            && !matches!(event, RunEvent::Timer { .. } | RunEvent::GroupGone)
        {
            let state = run.state.label();
            effects.extend(self.notice(format!("run {id} is {state}: nothing to do")));
        }
        effects
    }

    pub(crate) fn trim_jobs(&mut self) {
        let ended: Vec<JobId> = self
            .jobs
            .values()
            .filter(|j| !j.state.is_open())
            .map(|j| j.id)
            .collect();
        let excess = ended.len().saturating_sub(KEEP_ENDED_JOBS);
        for id in ended.into_iter().take(excess) {
            self.jobs.remove(&id);
        }
    }
}

pub(crate) fn save_feature(f: &Feature) -> Effect {
    Effect::SaveFeature {
        id: f.id,
        status: f.status,
        attempts: f.attempts,
        last_error: f.last_error.clone(),
    }
}

/// One line saying how a run ended, for `last_error`.
pub fn describe_end(state: RunState) -> String {
    match state {
        RunState::Exited => "exited 0".into(),
        RunState::Failed { code } => format!("exit {code}"),
        RunState::Killed { signal: Some(s) } => format!("killed by signal {s}"),
        RunState::Killed { signal: None } => "killed".into(),
        other => other.label().to_string(),
    }
}
