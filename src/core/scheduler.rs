//! What starts when: coding jobs for ready features (queued by score, started by priority up to
//! `max_agents`), testing agents re-checking passing features least recently tested first, and
//! the initializer on an empty backlog. Every start goes through its account's breaker.

use super::effect::Effect;
use super::graph;
use super::graph_live::ReadyKey;
use super::model::Model;
use crate::api::{FeatureId, FeatureStatus, JobId, JobState, Role};
use std::collections::HashSet;

/// Most coding jobs kept queued ahead of the free slots; the rest of the ready features wait
/// in the backlog, so a huge backlog does not become a huge queue.
const QUEUE_AHEAD: usize = 100;

/// The enabled profile the scheduler uses for one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileSlot {
    pub name: String,
    /// Most runs of this profile at once.
    pub max_parallel: Option<u32>,
}

/// What the core knows of each enabled profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileInfo {
    pub role: Role,
    /// Whose breaker guards it (default: the profile's own name).
    pub account: String,
    pub max_parallel: Option<u32>,
}

/// `[retry]`: how transiently failed jobs wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub base_ms: u64,
    pub cap_ms: u64,
    pub transient_budget: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_ms: 5_000,
            cap_ms: 30 * 60_000,
            transient_budget: 20,
        }
    }
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
        live + self.pending_of(|j| j.role == role)
    }

    /// Live coding runs plus coding spawns in flight.
    pub fn busy_slots(&self) -> usize {
        self.busy(Role::Coding)
    }

    fn pending_of(&self, keep: impl Fn(&super::Job) -> bool) -> usize {
        self.pending_spawns
            .iter()
            .filter_map(|j| self.jobs.get(j))
            .filter(|j| keep(j))
            .count()
    }

    /// How many more runs `profile` may start under its `max_parallel`.
    fn profile_room(&self, profile: &str) -> usize {
        let Some(max) = self.profile_info.get(profile).and_then(|p| p.max_parallel) else {
            return usize::MAX;
        };
        let live = self
            .runs
            .values()
            .filter(|r| r.state.is_live() && r.profile == profile)
            .count();
        (max as usize).saturating_sub(live + self.pending_of(|j| j.profile == profile))
    }

    /// The open (queued, running or backing off) job of `role` on `feature`.
    pub(crate) fn open_job(&self, feature: Option<FeatureId>, role: Role) -> Option<JobId> {
        self.jobs
            .values()
            .find(|j| j.feature == feature && j.role == role && j.state.is_open())
            .map(|j| j.id)
    }

    /// The profile a `role` job on `feature` runs with: the feature's own choice when that is
    /// an enabled profile of the role, else the role's default.
    pub(crate) fn profile_for(&self, role: Role, feature: Option<FeatureId>) -> Option<String> {
        let named = feature
            .and_then(|f| self.features.get(&f))
            .and_then(|f| f.profile.clone())
            .filter(|p| self.profile_info.get(p).is_some_and(|i| i.role == role));
        named.or_else(|| self.profiles.get(&role).map(|s| s.name.clone()))
    }

    /// A start a person asked for: it may pass `max_agents`, a blocked dependency or an open
    /// breaker, and says so rather than doing it silently.
    pub(crate) fn start_by_hand(&mut self, id: FeatureId) -> Vec<Effect> {
        if self.shutting_down {
            return Vec::new();
        }
        if !self.profiles.contains_key(&Role::Coding) {
            return self.notice("no enabled profile with role \"coding\" in corral.toml".into());
        }
        let Some(feature) = self.features.get(&id) else {
            return self.notice(format!("no feature {id}"));
        };
        if feature.status == FeatureStatus::InProgress {
            return self.notice(format!("feature {id} is already in progress"));
        }
        if let Some(why) = self.held.clone() {
            return self.notice(format!("feature {id} not started: {why}"));
        }
        let mut effects = Vec::new();
        let mut notes = Vec::new();
        let job = match self.open_job(Some(id), Role::Coding) {
            Some(job) => job,
            None => {
                // A person starting a feature that used every attempt means "try it again":
                // fresh attempts, as `feature requeue` gives, so the job shows 1/3, not 4/4.
                let spent = feature.attempts;
                if spent >= self.policy.max_attempts
                    && let Some(f) = self.features.get_mut(&id)
                {
                    f.attempts = 0;
                    effects.push(super::model::save_feature(f));
                    notes.push(format!("with fresh attempts (it had used {spent})"));
                }
                match self.new_job(Some(id), Role::Coding) {
                    Ok((job, _)) => job,
                    Err(e) => return e,
                }
            }
        };
        effects.extend(self.saved_job(job));
        effects.extend(self.start_job(job));
        let blocked = graph::blocked_by(&self.features, id);
        let busy = self.busy_slots();
        if !blocked.is_empty() {
            let ids: Vec<String> = blocked.iter().map(|b| b.to_string()).collect();
            notes.push(format!("although it waits on {}", ids.join(", ")));
        }
        if busy > self.max_agents as usize {
            notes.push(format!("past max agents ({busy}/{})", self.max_agents));
        }
        let account = self.jobs.get(&job).map(|j| j.account.clone());
        if let Some(account) = account.filter(|a| !self.breaker_closed(a)) {
            notes.push(format!("although the breaker of {account} is open"));
        }
        if !notes.is_empty() {
            effects.extend(self.notice(format!("started feature {id} {}", notes.join(" and "))));
        }
        effects
    }

    /// Fills free slots from the queue: the initializer on an empty backlog; coding jobs by
    /// priority then score; testing agents on passing features, least recently tested first.
    /// A job whose account's breaker is open waits.
    pub(crate) fn schedule(&mut self) -> Vec<Effect> {
        if self.scheduler_paused || self.shutting_down || self.held.is_some() {
            return Vec::new();
        }
        let mut effects = self.check_budget();
        if self.scheduler_paused {
            return effects;
        }
        effects.extend(self.end_due_backoffs());
        if self.features.is_empty() {
            if !self.initializer_started && self.profiles.contains_key(&Role::Initializer) {
                let job = match self.open_job(None, Role::Initializer) {
                    Some(job) => Some(job),
                    None => self.new_job(None, Role::Initializer).ok().map(|(j, e)| {
                        effects.extend(e);
                        j
                    }),
                };
                if let Some(job) = job.filter(|j| self.may_start(*j)) {
                    self.initializer_started = true;
                    effects.extend(self.start_job(job));
                }
            }
            return effects;
        }
        if self.profiles.contains_key(&Role::Coding) {
            effects.extend(self.cancel_stale_jobs());
            effects.extend(self.enqueue_ready());
            let mut free = (self.max_agents as usize).saturating_sub(self.busy(Role::Coding));
            self.features.sync();
            for job in self.queued_in_order(Role::Coding, true) {
                if free == 0 {
                    break;
                }
                if self.may_start(job) {
                    effects.extend(self.start_job(job));
                    free -= 1;
                }
            }
        }
        if self.profiles.contains_key(&Role::Testing) {
            effects.extend(self.schedule_testing());
        }
        effects
    }

    /// Whether `job` may start now: its profile has room and its account's breaker allows.
    /// Checks the breaker last, since a half-open breaker hands out its one probe on asking.
    fn may_start(&mut self, job: JobId) -> bool {
        self.refresh_profile(job);
        let Some(j) = self.jobs.get(&job) else {
            return false;
        };
        let account = j.account.clone();
        self.profile_room(&j.profile) > 0 && self.breaker_allows(&account)
    }

    /// Queues a coding job for every ready feature (and failing one with attempts left) that
    /// has none, best first, keeping at most [`QUEUE_AHEAD`] queued.
    fn enqueue_ready(&mut self) -> Vec<Effect> {
        let queued = self
            .jobs
            .values()
            .filter(|j| j.role == Role::Coding && j.state == JobState::Queued)
            .count();
        let room = QUEUE_AHEAD.saturating_sub(queued);
        if room == 0 {
            return Vec::new();
        }
        let open: HashSet<FeatureId> = self
            .jobs
            .values()
            .filter(|j| j.role == Role::Coding && j.state.is_open())
            .filter_map(|j| j.feature)
            .collect();
        let max_attempts = self.policy.max_attempts;
        self.features.sync();
        let features = &self.features;
        let graph = features.graph();
        let retries = graph
            .retryable()
            .filter(|f| features.get(f).is_some_and(|f| f.attempts < max_attempts));
        // The graph keeps the ready order, so only the first `room` picks are looked at.
        let picks: Vec<FeatureId> = graph
            .ready_in_order()
            .chain(retries)
            .filter(|f| !open.contains(f))
            .take(room)
            .collect();
        let mut effects = Vec::new();
        for f in picks {
            if let Ok((_, saved)) = self.new_job(Some(f), Role::Coding) {
                effects.extend(saved);
            }
        }
        effects
    }

    /// The ready feature that starts first.
    pub(crate) fn next_ready(&mut self) -> Option<FeatureId> {
        self.features.synced_graph().ready_in_order().next()
    }

    /// Queued jobs of `role` in start order: priority, then (when `ranked`) the feature's
    /// place in the graph's ready order, then age.
    pub(crate) fn queued_in_order(&self, role: Role, ranked: bool) -> Vec<JobId> {
        let graph = self.features.graph();
        let mut queued: Vec<(i64, Option<ReadyKey>, JobId)> = self
            .jobs
            .values()
            .filter(|j| j.role == role && j.state == JobState::Queued)
            .map(|j| {
                let key = j
                    .feature
                    .filter(|_| ranked)
                    .and_then(|f| graph.ready_key(f));
                (j.priority, key, j.id)
            })
            .collect();
        // Jobs whose feature is not ready come after those whose feature is.
        queued.sort_by_key(|&(priority, key, job)| (priority, key.is_none(), key, job));
        queued.into_iter().map(|(_, _, j)| j).collect()
    }

    /// Testing jobs back from backoff first, then new ones on passing features, least recently
    /// tested first.
    fn schedule_testing(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut free =
            (self.policy.testing_agents as usize).saturating_sub(self.busy(Role::Testing));
        // Testing jobs are not ranked by the graph: age decides among equal priorities.
        for job in self.queued_in_order(Role::Testing, false) {
            if free == 0 {
                return effects;
            }
            if self.may_start(job) {
                effects.extend(self.start_job(job));
                free -= 1;
            }
        }
        if free == 0 {
            // Nothing to start: spare the walk over every passing feature.
            return effects;
        }
        let tested: HashSet<FeatureId> = self
            .jobs
            .values()
            .filter(|j| j.role == Role::Testing && j.state.is_open())
            .filter_map(|j| j.feature)
            .collect();
        let mut passing: Vec<(Option<i64>, FeatureId)> = self
            .features
            .values()
            .filter(|f| f.status == FeatureStatus::Passing && !tested.contains(&f.id))
            .map(|f| (f.last_tested_at, f.id))
            .collect();
        // Never tested (None) sorts first, then the oldest test.
        passing.sort();
        for (_, f) in passing {
            if free == 0 {
                break;
            }
            let Some(profile) = self.profile_for(Role::Testing, Some(f)) else {
                break;
            };
            let account = self.account_of(&profile);
            if self.profile_room(&profile) == 0 || !self.breaker_allows(&account) {
                break;
            }
            if let Ok((job, saved)) = self.new_job(Some(f), Role::Testing) {
                effects.extend(saved);
                effects.extend(self.start_job(job));
                free -= 1;
            }
        }
        effects
    }
}
