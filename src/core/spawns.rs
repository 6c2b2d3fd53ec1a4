//! When a spawn the core asked for does not happen: the program cannot start, or the store
//! refused to hand the job over.

use super::effect::Effect;
use super::model::{Model, NewRun, save_feature};
use crate::api::{FeatureStatus, JobId, JobState, Role, RunState};

impl Model {
    /// A program that cannot start will not start on a retry either: the job fails at once.
    pub(crate) fn spawn_failed(
        &mut self,
        job_id: JobId,
        record: Option<NewRun>,
        error: String,
    ) -> Vec<Effect> {
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return self.notice(format!("no job {job_id}"));
        };
        self.pending_spawns.retain(|j| *j != job_id);
        job.state = JobState::Failed;
        job.last_error = Some(error.clone());
        if let Some(new) = &record {
            job.runs.push(new.id);
        }
        let (role, feature, account) = (job.role, job.feature, job.account.clone());
        let attempts = job.attempts;
        let mut effects = vec![Effect::SaveJob(job.clone())];
        // Had it been the half-open breaker's probe, another job may probe instead.
        effects.extend(self.breaker_step(&account, super::breaker::Input::ProbeAbandoned));
        if role == Role::Coding
            && let Some(feature) = feature.and_then(|f| self.features.get_mut(&f))
        {
            feature.attempts = attempts;
            feature.status = FeatureStatus::Failed;
            feature.last_error = Some(error.clone());
            effects.push(save_feature(feature));
        }
        if let Some(new) = record {
            let (at, run) = (new.started_at_ms, new.id);
            self.insert_run(new);
            if let Some(r) = self.runs.get_mut(&run) {
                r.state = RunState::SpawnFailed;
                r.finished_at_ms = Some(at);
            }
        }
        let what = feature.map_or(format!("the {role} agent"), |f| format!("feature {f}"));
        effects.extend(self.notice(format!("could not start {what}: {error}")));
        effects
    }

    /// corral lacked something to start `job_id`: the job waits in the queue with its attempt
    /// given back, and its feature keeps the status it had. The runtime holds the scheduler
    /// (see `hold`) until what was missing is back.
    pub(crate) fn spawn_deferred(
        &mut self,
        job_id: JobId,
        record: Option<NewRun>,
        reason: String,
    ) -> Vec<Effect> {
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return self.notice(format!("no job {job_id}"));
        };
        self.pending_spawns.retain(|j| *j != job_id);
        if job.state == JobState::Running {
            job.state = JobState::Queued;
            job.attempts = job.attempts.saturating_sub(1);
        }
        job.last_error = Some(format!("not started: {reason}"));
        if let Some(new) = &record {
            job.runs.push(new.id);
        }
        let account = job.account.clone();
        let mut effects = vec![Effect::SaveJob(job.clone())];
        effects.extend(self.breaker_step(&account, super::breaker::Input::ProbeAbandoned));
        if let Some(new) = record {
            let (at, run) = (new.started_at_ms, new.id);
            self.insert_run(new);
            if let Some(r) = self.runs.get_mut(&run) {
                r.state = RunState::SpawnFailed;
                r.finished_at_ms = Some(at);
            }
        }
        if self.held.is_none() {
            self.held = Some(reason.clone());
        }
        effects.extend(self.notice(format!(
            "job {job_id} waits, no attempt spent: {reason}; the scheduler is held, corral tries again every 2 s and goes on by itself"
        )));
        effects
    }

    /// Holds the scheduler for corral's own lack of resources, or lets it go again.
    pub(crate) fn hold(&mut self, why: Option<String>) -> Vec<Effect> {
        if self.held == why {
            return Vec::new();
        }
        let text = match (&why, &self.held) {
            (Some(why), _) => {
                format!("scheduler held: {why}; corral tries again every 2 s and goes on by itself")
            }
            (None, Some(was)) => format!("scheduler goes on: {} (was: {was})", over(was)),
            (None, None) => return Vec::new(),
        };
        self.held = why;
        self.notice(text)
    }

    /// The store refused to claim `stored.id` (something changed it there): the job as the
    /// store has it; a job ended there leaves its feature waiting for a person, as a cancel does.
    pub(crate) fn claim_refused(&mut self, stored: super::Job) -> Vec<Effect> {
        let id = stored.id;
        self.pending_spawns.retain(|j| *j != id);
        let (state, role, feature) = (stored.state, stored.role, stored.feature);
        self.jobs.insert(id, stored);
        let mut effects = Vec::new();
        // Ended by hand in the store: its feature waits for a person, as after a cancel.
        if !state.is_open()
            && role == Role::Coding
            && let Some(f) = feature.and_then(|f| self.features.get_mut(&f))
        {
            f.status = FeatureStatus::Failed;
            f.last_error = Some(format!("job {id} {} in the store", state.as_str()));
            effects.push(save_feature(f));
        }
        effects.extend(self.notice(format!(
            "job {id} was {} in the store; not started",
            state.as_str()
        )));
        effects
    }
}

/// What a hold's end means, in the words of what was short: the runtime's reasons name it.
pub(crate) fn over(was: &str) -> &'static str {
    let has = |w: &str| was.contains(w);
    if has("file descriptors") || has("Too many open files") || has("os error 24") {
        "file descriptors available again"
    } else if has("could not start a process") {
        "corral can start processes again"
    } else if has("disk full") || has("No space left") {
        "disk space available again"
    } else {
        "corral can write again"
    }
}
