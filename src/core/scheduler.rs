//! What starts when, and what the end of a run means for its feature: coding agents on ready
//! features by score, retries up to `max_attempts`, testing agents re-checking passing features
//! least recently tested first, and the initializer on an empty backlog.

use super::effect::Effect;
use super::graph;
use super::model::{Model, describe_end, save_feature};
use super::run::Run;
use crate::api::{FeatureId, FeatureStatus, JobState, Role, RunState};

/// The enabled profile the scheduler uses for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSlot {
    pub name: String,
    /// Most runs of this profile at once.
    pub max_parallel: Option<u32>,
}

/// The `[scheduler]` limits besides `max_agents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Attempts per feature before it is `failed`.
    pub max_attempts: u32,
    /// Testing agents kept re-checking passing features.
    pub testing_agents: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_attempts: 3,
            testing_agents: 0,
        }
    }
}

impl Model {
    /// Runs of `role` that are live or being spawned.
    pub fn busy(&self, role: Role) -> usize {
        let live = self
            .runs
            .values()
            .filter(|r| r.state.is_live() && r.role == role)
            .count();
        live + self
            .pending_spawns
            .iter()
            .filter(|(_, r)| *r == role)
            .count()
    }

    /// Live coding runs plus coding spawns in flight.
    pub fn busy_slots(&self) -> usize {
        self.busy(Role::Coding)
    }

    /// How many more runs the role's profile may start under its `max_parallel`.
    fn profile_room(&self, role: Role) -> usize {
        let Some(slot) = self.profiles.get(&role) else {
            return 0;
        };
        let Some(max) = slot.max_parallel else {
            return usize::MAX;
        };
        let live = self
            .runs
            .values()
            .filter(|r| r.state.is_live() && r.profile == slot.name)
            .count();
        let pending = self
            .pending_spawns
            .iter()
            .filter(|(_, r)| *r == role)
            .count();
        (max as usize).saturating_sub(live + pending)
    }

    fn being_tested(&self, id: FeatureId) -> bool {
        self.pending_spawns.contains(&(Some(id), Role::Testing))
            || self
                .runs
                .values()
                .any(|r| r.state.is_live() && r.role == Role::Testing && r.feature == Some(id))
    }

    /// A start a person asked for: it may pass `max_agents` or a blocked dependency, and
    /// says so rather than doing it silently.
    pub(crate) fn start_by_hand(&mut self, id: FeatureId) -> Vec<Effect> {
        let mut effects = self.start(Some(id), Role::Coding);
        if !effects.iter().any(|e| matches!(e, Effect::Spawn { .. })) {
            return effects;
        }
        let blocked = graph::blocked_by(&self.features, id);
        let busy = self.busy_slots();
        let mut notes = Vec::new();
        if !blocked.is_empty() {
            let ids: Vec<String> = blocked.iter().map(|b| b.to_string()).collect();
            notes.push(format!("although it waits on {}", ids.join(", ")));
        }
        if busy > self.max_agents as usize {
            notes.push(format!("past max agents ({busy}/{})", self.max_agents));
        }
        if !notes.is_empty() {
            effects.extend(self.notice(format!("started feature {id} {}", notes.join(" and "))));
        }
        effects
    }

    /// Asks the runtime to start a `role` agent (on `feature`, if it has one) unless that
    /// cannot be right now: no profile for the role, shutting down, or already under way.
    pub(crate) fn start(&mut self, feature: Option<FeatureId>, role: Role) -> Vec<Effect> {
        if self.shutting_down {
            return Vec::new();
        }
        if !self.profiles.contains_key(&role) {
            return self.notice(format!(
                "no enabled profile with role \"{role}\" in corral.toml"
            ));
        }
        if let Some(id) = feature {
            let Some(f) = self.features.get(&id) else {
                return self.notice(format!("no feature {id}"));
            };
            let busy = match role {
                Role::Testing => self.being_tested(id),
                _ => {
                    f.status == FeatureStatus::InProgress
                        || self.pending_spawns.contains(&(Some(id), role))
                }
            };
            if busy {
                return self.notice(format!("feature {id} is already in progress"));
            }
        }
        self.pending_spawns.push((feature, role));
        vec![Effect::Spawn { feature, role }]
    }

    /// Fills free slots: the initializer on an empty backlog; coding agents on ready features
    /// (and failing ones with attempts left) by score; testing agents on passing features,
    /// least recently tested first.
    pub(crate) fn schedule(&mut self) -> Vec<Effect> {
        if self.scheduler_paused || self.shutting_down {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if self.features.is_empty() {
            if !self.initializer_started && self.profiles.contains_key(&Role::Initializer) {
                self.initializer_started = true;
                effects.extend(self.start(None, Role::Initializer));
            }
            return effects;
        }
        if self.profiles.contains_key(&Role::Coding) {
            let free = (self.max_agents as usize)
                .saturating_sub(self.busy(Role::Coding))
                .min(self.profile_room(Role::Coding));
            let max_attempts = self.policy.max_attempts;
            let retries = self.features.values().filter(|f| {
                f.status == FeatureStatus::Failing
                    && f.attempts < max_attempts
                    && graph::blocked_by(&self.features, f.id).is_empty()
            });
            let mut picks: Vec<FeatureId> = graph::ready_in_order(&self.features);
            picks.extend(retries.map(|f| f.id));
            picks.retain(|f| !self.pending_spawns.contains(&(Some(*f), Role::Coding)));
            picks.truncate(free);
            for f in picks {
                effects.extend(self.start(Some(f), Role::Coding));
            }
        }
        if self.profiles.contains_key(&Role::Testing) {
            let free = (self.policy.testing_agents as usize)
                .saturating_sub(self.busy(Role::Testing))
                .min(self.profile_room(Role::Testing));
            let mut passing: Vec<(Option<i64>, FeatureId)> = self
                .features
                .values()
                .filter(|f| f.status == FeatureStatus::Passing && !self.being_tested(f.id))
                .map(|f| (f.last_tested_at, f.id))
                .collect();
            // Never tested (None) sorts first, then the oldest test.
            passing.sort();
            for (_, f) in passing.into_iter().take(free) {
                effects.extend(self.start(Some(f), Role::Testing));
            }
        }
        effects
    }

    /// What a run's end means: its job's state, its feature's status, a restart if asked for.
    pub(crate) fn run_ended(&mut self, run: &Run) -> Vec<Effect> {
        let mut effects = Vec::new();
        let by_person = run.kill_requested && matches!(run.state, RunState::Killed { .. });
        let quit = self.shutting_down && !matches!(run.state, RunState::Exited);
        // The agent's own verdict (report, verify) counts only when it ended by itself.
        let passed = match run.state {
            RunState::Exited | RunState::Failed { .. } => {
                run.verdict.unwrap_or(run.state == RunState::Exited)
            }
            _ => false,
        };
        let (job_state, error) = match () {
            _ if passed => (JobState::Done, None),
            _ if by_person || quit => (
                JobState::Cancelled,
                Some(
                    if quit {
                        "stopped when corral quit"
                    } else {
                        "killed by request"
                    }
                    .to_string(),
                ),
            ),
            _ if run.verdict == Some(false) => (
                JobState::Failed,
                Some(format!(
                    "reported or verified as failing ({})",
                    describe_end(run.state)
                )),
            ),
            _ => (JobState::Failed, Some(describe_end(run.state))),
        };
        if let Some(job) = self.jobs.get_mut(&run.job) {
            job.state = job_state;
            job.last_error = error.clone();
            effects.push(Effect::SaveJob {
                job: job.id,
                state: job_state,
                last_error: error.clone(),
            });
        }
        self.trim_jobs();
        let max_attempts = self.policy.max_attempts;
        match (
            run.role,
            run.feature.and_then(|f| self.features.get_mut(&f)),
        ) {
            (Role::Coding, Some(feature)) => {
                if quit {
                    // The attempt was cut short by us, not spent by the feature.
                    feature.attempts = feature.attempts.saturating_sub(1);
                }
                feature.status = match () {
                    _ if passed => FeatureStatus::Passing,
                    // Not the feature's fault: picked up again on the next start.
                    _ if quit => FeatureStatus::Pending,
                    // A person stopped it: it waits for a person to start it again.
                    _ if by_person => FeatureStatus::Failed,
                    _ if feature.attempts >= max_attempts => FeatureStatus::Failed,
                    _ => FeatureStatus::Failing,
                };
                feature.last_error = error;
                effects.push(save_feature(feature));
            }
            (Role::Testing, Some(feature)) if !quit && !by_person => {
                let at_ms = run.finished_at_ms.unwrap_or(run.started_at_ms);
                feature.last_tested_at = Some(at_ms);
                effects.push(Effect::SaveTestedAt {
                    id: feature.id,
                    at_ms,
                });
                if !passed && feature.status == FeatureStatus::Passing {
                    // A regression: coding work again, with a fresh set of attempts.
                    feature.status = FeatureStatus::Failing;
                    feature.attempts = 0;
                    feature.last_error =
                        Some(format!("re-check failed: {}", error.unwrap_or_default()));
                    effects.push(save_feature(feature));
                }
            }
            // The initializer filled the backlog through corral's commands: read it.
            (Role::Initializer, _) => effects.push(Effect::ReloadBacklog),
            _ => {}
        }
        if run.restart_after
            && let Some(feature) = run.feature
        {
            effects.extend(self.start(Some(feature), run.role));
        }
        effects
    }
}
