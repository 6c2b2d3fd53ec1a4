//! What the end of a run means: for its job (done, retried, backing off, held by its
//! account's breaker, failed), its feature, its account's breaker and the money spent.

use super::breaker;
use super::effect::Effect;
use super::failure::Class;
use super::model::{Model, Verdict, describe_end, save_feature};
use super::run::Run;
use crate::api::{FeatureStatus, JobState, Role, RunState, Usage};

/// Longest piece of a log line kept as a job's last error.
const EVIDENCE_CHARS: usize = 160;

/// Where a job goes after one of its runs ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    Done,
    /// A person killed it.
    Cancelled(String),
    /// Interrupted by us (quit, restart): queued again, the attempt not counted.
    Requeued(String),
    /// Failed transiently: waits until the time, the attempt not counted.
    Backoff(i64, String),
    /// Credentials refused: queued, held by the open breaker until a person closes it.
    Held(String),
    /// Failed for real with attempts left: queued again.
    Retry(String),
    Failed(String),
    /// Failed transiently once more than the transient budget allows.
    GaveUp(String),
}

impl Model {
    pub(crate) fn run_ended(&mut self, run: &Run) -> Vec<Effect> {
        let mut effects = self.record_usage(run);
        let Some(job) = self.jobs.get(&run.job).cloned() else {
            return effects;
        };
        let by_person = run.kill_requested && matches!(run.state, RunState::Killed { .. });
        let quit = self.shutting_down && !matches!(run.state, RunState::Exited);
        // The agent's own verdict (report, verify) counts only when it ended by itself.
        let passed = match run.state {
            RunState::Exited | RunState::Failed { .. } => run
                .verdict
                .map_or(run.state == RunState::Exited, |v| v == Verdict::Passed),
            _ => false,
        };
        let class = match (run.failure.as_ref().map(|f| f.class), run.state) {
            // corral stopped it for its timeout or its silence: the attempt failed, whatever
            // network trouble its log shows (an agent retrying a dead network until the
            // timeout would otherwise come back as transient, attempt after attempt, for
            // hours). Refused credentials still hold it: only a login helps.
            (Some(Class::Transient { .. }), RunState::TimedOut | RunState::Stalled) => {
                Class::Permanent
            }
            (class, _) => class.unwrap_or(Class::Permanent),
        };
        let ended = match run.verdict {
            Some(v) => v.describe(&describe_end(run.state)),
            None => describe_end(run.state),
        };
        // The tool's own words lead and corral's account of the end follows them, so a
        // column cut to its width still shows what the tool said ("Not logged in · Please
        // run /login — credentials refused, exit 1").
        let evidence = run
            .failure
            .as_ref()
            .and_then(|f| f.evidence.as_deref())
            .map(one_line)
            .filter(|l| !l.is_empty());
        let said = |ours: String| match &evidence {
            Some(line) => format!("{line} — {ours}"),
            None => ours,
        };
        let why = said(ended.clone());
        let next = match () {
            // Before any verdict: corral's own failure says nothing about the work.
            _ if run.unjudged.is_some() => Next::Requeued(format!(
                "not judged: {}",
                run.unjudged.as_deref().unwrap_or_default()
            )),
            _ if passed => Next::Done,
            _ if quit => Next::Requeued("stopped when corral quit".into()),
            _ if run.restart_after => Next::Requeued("restarted by request".into()),
            _ if by_person => Next::Cancelled("killed by request".into()),
            _ => match class {
                Class::Auth => Next::Held(said(format!("credentials refused, {ended}"))),
                Class::Transient { wait } if job.transient_attempts < job.transient_budget => {
                    let delay = super::backoff::transient_delay_ms(
                        job.transient_attempts,
                        self.retry.base_ms,
                        self.retry.cap_ms,
                        f64::from(run.random) / f64::from(u32::MAX),
                        wait.map(|w| w.until_ms),
                        self.now_ms,
                    );
                    Next::Backoff(self.now_ms.saturating_add(delay as i64), why)
                }
                Class::Transient { .. } => Next::GaveUp(said(format!(
                    "gave up after {} transient failures (transient_budget {}), {ended}",
                    job.transient_attempts + 1,
                    job.transient_budget
                ))),
                Class::Permanent if job.attempts >= job.max_attempts => Next::Failed(why),
                Class::Permanent => Next::Retry(why),
            },
        };
        let breaker_input = match &next {
            Next::Done => breaker::Input::Success,
            Next::Cancelled(_) | Next::Requeued(_) => breaker::Input::ProbeAbandoned,
            // Stopped by the watchdog with nothing from the service: says nothing about the
            // account either way.
            Next::Retry(_) | Next::Failed(_)
                if matches!(run.state, RunState::TimedOut | RunState::Stalled) =>
            {
                breaker::Input::ProbeAbandoned
            }
            _ => Model::breaker_input(class),
        };
        effects.extend(self.breaker_step(&job.account, breaker_input));
        effects.extend(self.apply_next(run, &next));
        effects.extend(self.feature_after(run, &next, passed, quit || by_person));
        self.trim_jobs();
        if run.restart_after && !quit {
            effects.extend(self.start_job(run.job));
        }
        effects
    }

    /// Moves the run's job to where `next` says and stores it.
    fn apply_next(&mut self, run: &Run, next: &Next) -> Vec<Effect> {
        let Some(job) = self.jobs.get_mut(&run.job) else {
            return Vec::new();
        };
        let (state, error) = match next {
            Next::Done => (JobState::Done, None),
            Next::Cancelled(e) => (JobState::Cancelled, Some(e)),
            Next::Requeued(e) | Next::Held(e) => {
                job.attempts = job.attempts.saturating_sub(1);
                (JobState::Queued, Some(e))
            }
            Next::Backoff(until, e) => {
                job.attempts = job.attempts.saturating_sub(1);
                job.transient_attempts += 1;
                job.last_error = Some(e.clone());
                let until = *until;
                return self.back_off(run.job, until);
            }
            Next::Retry(e) => (JobState::Queued, Some(e)),
            Next::Failed(e) => (JobState::Failed, Some(e)),
            Next::GaveUp(e) => {
                // A transient failure, even the last one, spends no attempt.
                job.attempts = job.attempts.saturating_sub(1);
                (JobState::Failed, Some(e))
            }
        };
        job.state = state;
        job.last_error = error.cloned();
        vec![Effect::SaveJob(job.clone())]
    }

    /// What the run's end means for its feature.
    fn feature_after(
        &mut self,
        run: &Run,
        next: &Next,
        passed: bool,
        stopped: bool,
    ) -> Vec<Effect> {
        let mut effects = Vec::new();
        let (attempts, last_error) = match self.jobs.get(&run.job) {
            Some(j) => (j.attempts, j.last_error.clone()),
            None => (0, None),
        };
        match (
            run.role,
            run.feature.and_then(|f| self.features.get_mut(&f)),
        ) {
            (Role::Coding, Some(feature)) => {
                feature.status = match next {
                    Next::Done => FeatureStatus::Passing,
                    Next::Requeued(_) => FeatureStatus::Pending,
                    // A person stopped it: it waits for a person to start it again.
                    Next::Cancelled(_) | Next::Failed(_) | Next::GaveUp(_) => FeatureStatus::Failed,
                    // The service said "not now": the work did not fail. Its job waits in
                    // the queue (backoff, or held by the account's breaker).
                    Next::Backoff(..) | Next::Held(_) => FeatureStatus::Pending,
                    Next::Retry(_) => FeatureStatus::Failing,
                };
                feature.attempts = attempts;
                feature.last_error = last_error;
                effects.push(save_feature(feature));
                // Failed for good (not stopped by a person): no agent will try it again.
                if matches!(next, Next::Failed(_) | Next::GaveUp(_)) {
                    effects.push(Effect::Notify(super::effect::Notification {
                        event: "feature_failed".into(),
                        title: format!("feature {} failed", feature.id),
                        body: format!(
                            "{}: {}",
                            feature.name,
                            feature
                                .last_error
                                .as_deref()
                                .unwrap_or("every attempt failed")
                        ),
                        run: Some(run.id),
                        feature: Some(feature.id),
                    }));
                }
            }
            // A re-check that really ran (not stopped, not cut short by the service).
            (Role::Testing, Some(feature))
                if !stopped && matches!(next, Next::Done | Next::Retry(_) | Next::Failed(_)) =>
            {
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
                    feature.last_error = Some(format!(
                        "re-check failed: {}",
                        last_error.unwrap_or_default()
                    ));
                    effects.push(save_feature(feature));
                }
            }
            // The initializer filled the backlog through corral's commands: read it.
            (Role::Initializer, _) => effects.push(Effect::ReloadBacklog),
            _ => {}
        }
        effects
    }

    /// Adds what the run reported spending to its job, its feature and the project's total.
    fn record_usage(&mut self, run: &Run) -> Vec<Effect> {
        let Some(usage) = run.usage.filter(|u| !u.is_empty()) else {
            return Vec::new();
        };
        self.spent.add(&usage);
        if let Some(job) = self.jobs.get_mut(&run.job) {
            job.usage.add(&usage);
        }
        if let Some(f) = run.feature.and_then(|f| self.features.get_mut(&f)) {
            f.usage.add(&usage);
        }
        vec![Effect::SaveRunUsage { run: run.id, usage }]
    }

    /// Pauses the scheduler once the recorded costs reach `[budget] usd`. Only once: a person
    /// who resumes after that goes on knowingly.
    pub(crate) fn check_budget(&mut self) -> Vec<Effect> {
        let Some(budget) = self.budget_micros.filter(|_| !self.budget_tripped) else {
            return Vec::new();
        };
        let spent = self.spent.cost_micros.unwrap_or(0);
        if spent < budget {
            return Vec::new();
        }
        self.budget_tripped = true;
        self.scheduler_paused = true;
        let mut effects = vec![Effect::Notify(super::effect::Notification {
            event: "budget_reached".into(),
            title: "budget reached".into(),
            body: format!(
                "{} of {} spent: the scheduler is paused",
                Usage::format_usd(spent),
                Usage::format_usd(budget)
            ),
            run: None,
            feature: None,
        })];
        effects.extend(self.notice(format!(
            "budget spent: {} of {}: scheduler paused; space or `corral scheduler resume` goes on",
            Usage::format_usd(spent),
            Usage::format_usd(budget)
        )));
        effects
    }
}

/// The first line of `text`, at most [`EVIDENCE_CHARS`] characters.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(EVIDENCE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}
