//! The job queue: creating jobs, starting them, backoff wake-ups, what a person can do to a
//! job, and taking the queue over from the store at start.

use super::effect::{Effect, WakeKey};
use super::graph;
use super::model::{Model, save_feature};
use super::records::Job;
use super::run::Run;
use crate::api::{FeatureId, FeatureStatus, JobId, JobState, Role, Usage};

impl Model {
    /// The account `profile` belongs to.
    pub(crate) fn account_of(&self, profile: &str) -> String {
        self.profile_info
            .get(profile)
            .map_or_else(|| profile.to_string(), |p| p.account.clone())
    }

    /// Creates a queued `role` job on `feature` and returns it with the effect that stores it;
    /// on error, the effects that tell why.
    pub(crate) fn new_job(
        &mut self,
        feature: Option<FeatureId>,
        role: Role,
    ) -> Result<(JobId, Vec<Effect>), Vec<Effect>> {
        let Some(profile) = self.profile_for(role, feature) else {
            return Err(self.notice(format!(
                "no enabled profile with role \"{role}\" in corral.toml"
            )));
        };
        let f = feature.and_then(|f| self.features.get(&f));
        let attempts = match role {
            Role::Coding => f.map_or(0, |f| f.attempts),
            _ => 0,
        };
        let max_attempts = match role {
            // A feature started by hand after it used every attempt still gets one.
            Role::Coding => self.policy.max_attempts.max(attempts + 1),
            _ => 1,
        };
        let id = JobId(self.next_job.max(1));
        self.next_job = id.0 + 1;
        let job = Job {
            id,
            account: self.account_of(&profile),
            profile,
            role,
            feature,
            priority: f.map_or(0, |f| f.priority),
            state: JobState::Queued,
            attempts,
            max_attempts,
            transient_attempts: 0,
            transient_budget: self.retry.transient_budget,
            available_at_ms: None,
            last_error: None,
            runs: Vec::new(),
            usage: Usage::default(),
            created_at_ms: self.now_ms,
            epoch: 0,
        };
        self.jobs.insert(id, job.clone());
        let mut effects = self.unusable_profile_notice(feature, &job.profile);
        effects.insert(0, Effect::SaveJob(job));
        Ok((id, effects))
    }

    /// A feature naming a profile that cannot run it (gone from corral.toml, disabled, or of
    /// another role) runs with `used`, the role's default: say so rather than do it silently.
    fn unusable_profile_notice(&mut self, feature: Option<FeatureId>, used: &str) -> Vec<Effect> {
        let Some((id, named)) = feature
            .and_then(|f| self.features.get(&f))
            .and_then(|f| Some((f.id, f.profile.clone()?)))
        else {
            return Vec::new();
        };
        let usable = self
            .profile_info
            .get(&named)
            .is_some_and(|p| matches!(p.role, Role::Coding | Role::Testing));
        if usable {
            return Vec::new();
        }
        self.notice(format!(
            "feature {id} names profile {named:?}, which is not an enabled coding or testing \
             profile in corral.toml: it runs with {used:?}"
        ))
    }

    /// The effect that stores `job` as it is now.
    pub(crate) fn saved_job(&self, job: JobId) -> Vec<Effect> {
        self.jobs
            .get(&job)
            .map(|j| Effect::SaveJob(j.clone()))
            .into_iter()
            .collect()
    }

    /// A waiting job whose profile was disabled or removed from corral.toml since it was queued
    /// moves to the profile its role uses now (and that profile's account).
    pub(crate) fn refresh_profile(&mut self, id: JobId) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        if self.profile_info.contains_key(&job.profile) {
            return;
        }
        let Some(profile) = self.profile_for(job.role, job.feature) else {
            return;
        };
        let account = self.account_of(&profile);
        if let Some(job) = self.jobs.get_mut(&id) {
            job.profile = profile;
            job.account = account;
        }
    }

    /// Claims a waiting job and asks the runtime to run it. The store's claim is the one that
    /// counts: the runtime refuses a job that is not queued or in backoff there.
    pub(crate) fn start_job(&mut self, id: JobId) -> Vec<Effect> {
        self.refresh_profile(id);
        let Some(job) = self.jobs.get_mut(&id) else {
            return Vec::new();
        };
        if !matches!(job.state, JobState::Queued | JobState::Backoff) {
            return Vec::new();
        }
        job.state = JobState::Running;
        job.attempts += 1;
        job.available_at_ms = None;
        // The error was the previous run's; this run has its own story (the run history keeps it).
        job.last_error = None;
        // A backoff timer still set for it is moot now.
        job.epoch += 1;
        self.pending_spawns.push(id);
        vec![Effect::Spawn {
            job: id,
            feature: job.feature,
            role: job.role,
            profile: job.profile.clone(),
            attempts: job.attempts,
        }]
    }

    /// Puts `job` in backoff until `until_ms` and sets the timer that ends it.
    pub(crate) fn back_off(&mut self, id: JobId, until_ms: i64) -> Vec<Effect> {
        let now = self.now_ms;
        let Some(job) = self.jobs.get_mut(&id) else {
            return Vec::new();
        };
        job.state = JobState::Backoff;
        job.available_at_ms = Some(until_ms);
        job.epoch += 1;
        vec![
            Effect::SaveJob(job.clone()),
            Effect::Wake {
                key: WakeKey::Job {
                    job: id,
                    epoch: job.epoch,
                },
                after_ms: until_ms.saturating_sub(now).max(0) as u64,
            },
        ]
    }

    /// Backoffs whose time has come go back to the queue (a late or lost timer must not keep a
    /// job waiting).
    pub(crate) fn end_due_backoffs(&mut self) -> Vec<Effect> {
        let now = self.now_ms;
        let mut effects = Vec::new();
        for job in self.jobs.values_mut() {
            if job.state == JobState::Backoff && job.available_at_ms.is_none_or(|t| t <= now) {
                job.state = JobState::Queued;
                job.available_at_ms = None;
                effects.push(Effect::SaveJob(job.clone()));
            }
        }
        effects
    }

    pub(crate) fn wake(&mut self, key: WakeKey) -> Vec<Effect> {
        match key {
            WakeKey::Job { job, epoch } => {
                let Some(j) = self.jobs.get_mut(&job) else {
                    return Vec::new();
                };
                if j.state != JobState::Backoff || j.epoch != epoch {
                    return Vec::new();
                }
                j.state = JobState::Queued;
                j.available_at_ms = None;
                vec![Effect::SaveJob(j.clone())]
            }
            WakeKey::Breaker { account, epoch } => self.breaker_timer(&account, epoch),
        }
    }

    /// Waiting coding jobs whose feature no longer needs them are cancelled: the feature was
    /// removed, passed (marked by hand), or now waits on a dependency that regressed.
    pub(crate) fn cancel_stale_jobs(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        let waiting: Vec<(JobId, Option<FeatureId>)> = self
            .jobs
            .values()
            .filter(|j| j.role == Role::Coding)
            .filter(|j| matches!(j.state, JobState::Queued | JobState::Backoff))
            .map(|j| (j.id, j.feature))
            .collect();
        for (id, feature) in waiting {
            let why = match feature.and_then(|f| self.features.get(&f)) {
                None => Some("its feature was removed".to_string()),
                Some(f) if f.status == FeatureStatus::Passing => {
                    Some("its feature is passing".to_string())
                }
                Some(f) => {
                    let blocked = graph::blocked_by(&self.features, f.id);
                    (!blocked.is_empty()).then(|| {
                        let ids: Vec<String> = blocked.iter().map(|b| b.to_string()).collect();
                        format!("its feature waits on {}", ids.join(", "))
                    })
                }
            };
            if let Some(why) = why {
                effects.extend(self.finish_job(id, JobState::Cancelled, why));
            }
        }
        effects
    }

    /// Ends a job that is not running with `state` and a reason.
    pub(crate) fn finish_job(&mut self, id: JobId, state: JobState, why: String) -> Vec<Effect> {
        let Some(job) = self.jobs.get_mut(&id) else {
            return Vec::new();
        };
        job.state = state;
        job.available_at_ms = None;
        job.epoch += 1;
        job.last_error = Some(why);
        vec![Effect::SaveJob(job.clone())]
    }

    /// Takes over the queue as stored: jobs that were running lost their run with the corral
    /// that ran them, so they wait again without that attempt counted; backoffs get their
    /// timers back. Ended runs and jobs come along for display.
    pub fn restore_queue(&mut self, jobs: Vec<Job>, runs: Vec<Run>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for mut job in jobs {
            self.next_job = self.next_job.max(job.id.0 + 1);
            if job.state == JobState::Running {
                job.state = JobState::Queued;
                job.attempts = job.attempts.saturating_sub(1);
                job.last_error = Some("interrupted when corral stopped".into());
                effects.push(Effect::SaveJob(job.clone()));
            }
            let backoff = (job.state == JobState::Backoff).then_some(job.id);
            let until = job.available_at_ms.unwrap_or(self.now_ms);
            self.jobs.insert(job.id, job);
            if let Some(id) = backoff {
                effects.extend(self.back_off(id, until));
            }
        }
        for run in runs.into_iter().filter(|r| !r.state.is_live()) {
            self.runs.insert(run.id, run);
        }
        self.trim_jobs();
        effects
    }

    /// `RetryJob`: a waiting job starts as soon as a slot is free (its backoff is over); a
    /// failed or cancelled one is queued again with fresh attempts (and its feature with it).
    /// A coding job whose feature passes, is gone or waits on a dependency is refused: the
    /// queue would cancel it again at once. So is a running or done job, and a failed or
    /// cancelled one while another open job does its work.
    pub(crate) fn retry_job(&mut self, id: JobId) -> Result<Vec<Effect>, String> {
        let Some(job) = self.jobs.get(&id) else {
            return Err(format!("no job {id}"));
        };
        let (state, feature, role) = (job.state, job.feature, job.role);
        match state {
            JobState::Running => {
                return Err(format!(
                    "job {id} is running; cancel it first (`corral job cancel {id}`, x in the \
                     Queue pane) or let it end"
                ));
            }
            JobState::Done => return Err(format!("job {id} is done")),
            JobState::Failed | JobState::Cancelled | JobState::Queued | JobState::Backoff => {}
        }
        if role == Role::Coding
            && let Some(why) = self.why_not_runnable(feature)
        {
            return Err(format!("job {id} not retried: {why}"));
        }
        if matches!(state, JobState::Failed | JobState::Cancelled)
            && let Some(other) = self.open_job(feature, role)
        {
            let other_state = self.jobs.get(&other).map_or("open", |j| j.state.as_str());
            let on = feature.map_or("without a feature".to_string(), |f| {
                format!("on feature {f}")
            });
            return Err(format!(
                "job {other} ({other_state}) already does that work ({role} {on}); retry or \
                 cancel that one"
            ));
        }
        let fresh = matches!(state, JobState::Failed | JobState::Cancelled);
        let Some(job) = self.jobs.get_mut(&id) else {
            return Ok(Vec::new());
        };
        if fresh {
            job.attempts = 0;
            job.transient_attempts = 0;
        }
        job.state = JobState::Queued;
        job.available_at_ms = None;
        if fresh {
            // A new start; a waiting job keeps saying why it waits until it runs.
            job.last_error = None;
        }
        job.epoch += 1;
        let mut effects = vec![Effect::SaveJob(job.clone())];
        // Fresh attempts for the job are fresh attempts for its feature.
        if fresh
            && role == Role::Coding
            && let Some(f) = feature.and_then(|f| self.features.get_mut(&f))
        {
            f.status = FeatureStatus::Pending;
            f.attempts = 0;
            f.last_error = None;
            effects.push(save_feature(f));
        }
        let account = self
            .jobs
            .get(&id)
            .map(|j| j.account.clone())
            .unwrap_or_default();
        let text = if self.breaker_closed(&account) {
            format!("job {id} queued to run now")
        } else {
            format!("job {id} queued; it waits for the breaker of {account} (b closes it)")
        };
        effects.extend(self.notice(text));
        Ok(effects)
    }

    /// Why a coding job on `feature` cannot run now, if it cannot.
    fn why_not_runnable(&self, feature: Option<FeatureId>) -> Option<String> {
        let Some(f) = feature.and_then(|f| self.features.get(&f)) else {
            return Some("its feature is gone".into());
        };
        if f.status == FeatureStatus::Passing {
            return Some(format!("feature {} passes (requeue it to redo it)", f.id));
        }
        let blocked = graph::blocked_by(&self.features, f.id);
        (!blocked.is_empty()).then(|| {
            let ids: Vec<String> = blocked.iter().map(|b| b.to_string()).collect();
            format!("feature {} waits on {}", f.id, ids.join(", "))
        })
    }

    /// `CancelJob`: a waiting job is dropped, a running one is killed; either way its feature
    /// waits for a person (`failed`) instead of being queued again at once. An ended job, and
    /// one whose run is still being started, are refused.
    pub(crate) fn cancel_job(&mut self, id: JobId) -> Result<Vec<Effect>, String> {
        let Some(job) = self.jobs.get(&id) else {
            return Err(format!("no job {id}"));
        };
        let (state, feature, role) = (job.state, job.feature, job.role);
        let mut effects = match state {
            JobState::Running => {
                let live = self
                    .runs
                    .values()
                    .find(|r| r.job == id && r.state.is_live())
                    .map(|r| r.id);
                return match live {
                    Some(run) => self.try_command(crate::api::Command::Kill { run, force: false }),
                    None => Err(format!("job {id} is starting; cancel it once it runs")),
                };
            }
            JobState::Queued | JobState::Backoff => {
                self.finish_job(id, JobState::Cancelled, "cancelled by request".into())
            }
            JobState::Done | JobState::Failed | JobState::Cancelled => {
                return Err(format!("job {id} has ended already ({})", state.as_str()));
            }
        };
        if role == Role::Coding
            && let Some(f) = feature.and_then(|f| self.features.get_mut(&f))
        {
            f.status = FeatureStatus::Failed;
            f.last_error = Some(format!("job {id} cancelled by request"));
            effects.push(save_feature(f));
        }
        effects.extend(self.notice(format!("job {id} cancelled")));
        Ok(effects)
    }

    /// `SetJobPriority`.
    pub(crate) fn set_job_priority(&mut self, id: JobId, priority: i64) -> Vec<Effect> {
        match self.jobs.get_mut(&id) {
            Some(job) => {
                job.priority = priority;
                vec![Effect::SaveJob(job.clone())]
            }
            None => self.notice(format!("no job {id}")),
        }
    }
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
