//! What each [`Command`] a person (or another corral process) sends does to the model.

use super::effect::Effect;
use super::model::{Model, save_feature};
use super::run::RunEvent;
use crate::api::{Command, FeatureStatus, RunId, RunState};

/// The longest grace period an agent gets when corral quits, whatever its profile says: a
/// person quitting must not wait hours for an agent that ignores SIGTERM.
pub const SHUTDOWN_GRACE_MS: u64 = 30_000;

impl Model {
    /// Does what `cmd` says; a refusal is a notice.
    pub(crate) fn command(&mut self, cmd: Command) -> Vec<Effect> {
        match self.try_command(cmd) {
            Ok(effects) => effects,
            Err(why) => self.notice(why),
        }
    }

    /// Does what `cmd` says, or says why not and changes nothing. The one place the rules of
    /// a person's commands live: the running core applies them to its state, and with no
    /// corral running the commands apply them to the stored state (`Model::stored`).
    pub fn try_command(&mut self, cmd: Command) -> Result<Vec<Effect>, String> {
        Ok(match cmd {
            Command::StartFeature { feature } => self.start_by_hand(feature),
            Command::StartNext => match self.next_ready() {
                Some(id) => self.start_by_hand(id),
                None => self.notice("no feature is ready to start".into()),
            },
            Command::Pause { run } => self.run_event(run, RunEvent::Pause),
            Command::Resume { run } => self.run_event(run, RunEvent::Resume),
            Command::Kill { run, force } => self.run_event(run, RunEvent::Kill { force }),
            Command::Restart { run } => self.restart(run),
            Command::Answer { run, answer } => self.answer(run, answer),
            Command::RequeueFeature { feature } => match self.features.get_mut(&feature) {
                Some(f) if f.status != FeatureStatus::InProgress => {
                    // A waiting job carries the old attempts: a fresh one is queued instead.
                    let waiting = self.open_job(Some(feature), crate::api::Role::Coding);
                    let mut effects = waiting
                        .map(|j| {
                            self.finish_job(
                                j,
                                crate::api::JobState::Cancelled,
                                "feature requeued by request".into(),
                            )
                        })
                        .unwrap_or_default();
                    let Some(f) = self.features.get_mut(&feature) else {
                        return Ok(effects);
                    };
                    f.status = FeatureStatus::Pending;
                    f.attempts = 0;
                    f.last_error = None;
                    effects.push(save_feature(f));
                    effects.extend(self.notice(format!("feature {feature} requeued")));
                    effects
                }
                Some(_) => return Err(format!("feature {feature} is in progress")),
                None => return Err(format!("no feature {feature}")),
            },
            Command::MarkFeature { feature, passing } => match self.features.get_mut(&feature) {
                Some(f) => {
                    f.status = if passing {
                        FeatureStatus::Passing
                    } else {
                        FeatureStatus::Failing
                    };
                    f.last_error = (!passing).then(|| "marked failing by hand".to_string());
                    vec![save_feature(f)]
                }
                None => return Err(format!("no feature {feature}")),
            },
            Command::SetPriority { feature, priority } => match self.features.get_mut(&feature) {
                Some(f) => {
                    f.priority = priority;
                    let mut effects = vec![Effect::SavePriority {
                        id: feature,
                        priority,
                    }];
                    // Its waiting job follows, so the queue starts it in the new order.
                    if let Some(job) = self.open_job(Some(feature), crate::api::Role::Coding) {
                        effects.extend(self.set_job_priority(job, priority));
                    }
                    effects
                }
                None => return Err(format!("no feature {feature}")),
            },
            Command::ReloadConfig => vec![Effect::ReloadConfig],
            Command::SetProfileEnabled { profile, enabled } => {
                vec![Effect::SetProfileEnabled { profile, enabled }]
            }
            Command::Reload => vec![Effect::ReloadBacklog],
            Command::MergeFeature { feature } => vec![Effect::MergeFeature { id: feature }],
            Command::RejectFeature { feature, reason } => {
                let mut effects = vec![Effect::RecordRejection {
                    id: feature,
                    reason,
                }];
                effects.extend(self.try_command(Command::RequeueFeature { feature })?);
                effects
            }
            Command::RetryJob { job } => self.retry_job(job)?,
            Command::CancelJob { job } => self.cancel_job(job)?,
            Command::SetJobPriority { job, priority } => self.set_job_priority(job, priority),
            Command::CloseBreaker { account } => self.close_breaker(&account)?,
            Command::SendInput { run, text } => match self.runs.get(&run) {
                Some(r) if r.state == RunState::Running => vec![Effect::WriteInput { run, text }],
                Some(r) => {
                    let state = r.state.label();
                    self.notice(format!("run {run} is {state}: it cannot take input"))
                }
                None => self.notice(format!("no run {run}")),
            },
            Command::SetSchedulerPaused { paused } => {
                self.scheduler_paused = paused;
                self.pause_reason = None;
                let word = if paused { "paused" } else { "resumed" };
                match (&self.held, paused) {
                    (Some(why), false) => {
                        let why = why.clone();
                        self.notice(format!("scheduler {word}, but still held: {why}"))
                    }
                    _ => self.notice(format!("scheduler {word}")),
                }
            }
            Command::SetMaxAgents { max_agents } => {
                self.max_agents = max_agents.min(64);
                self.notice(format!("max agents {}", self.max_agents))
            }
            // The first asks every agent to stop (TERM, then KILL after its grace, at most
            // SHUTDOWN_GRACE_MS); a second one (another signal, quitting again) kills now.
            Command::Shutdown => {
                let force = std::mem::replace(&mut self.shutting_down, true);
                let open: Vec<RunId> = self
                    .runs
                    .values()
                    .filter(|r| r.state.is_live() || r.cleanup_pending)
                    .map(|r| r.id)
                    .collect();
                let mut effects = Vec::new();
                for id in open {
                    let Some(run) = self.runs.get_mut(&id) else {
                        continue;
                    };
                    if !force {
                        effects.extend(run.cap_grace(SHUTDOWN_GRACE_MS));
                    }
                    if force || run.state.is_live() {
                        effects.extend(self.run_event(id, RunEvent::Kill { force }));
                    }
                }
                if force {
                    effects.extend(self.notice("stopping again: killing every agent now".into()));
                }
                effects
            }
        })
    }

    fn restart(&mut self, id: RunId) -> Vec<Effect> {
        let Some(run) = self.runs.get_mut(&id) else {
            return self.notice(format!("no run {id}"));
        };
        let feature = run.feature;
        if run.state.is_live() {
            run.restart_after = true;
            return self.run_event(id, RunEvent::Kill { force: false });
        }
        match feature {
            Some(f) => self.start_by_hand(f),
            None => self.notice(format!("run {id} has no feature to restart")),
        }
    }
}
