//! The [`App`]'s side of the job queue: the keys that act on the selected job (retry, cancel,
//! priority), closing a circuit breaker, and whether anything on screen counts down.

use super::app::{App, Confirm, Outcome, Overlay, Pane};
use super::keymap::Action;
use crate::api::{BreakerState, BreakerView, Command, JobState, JobView};

impl App {
    /// True while the screen shows a countdown that has not run out at [`App::now_ms`]: a job
    /// in backoff or a breaker open until a known time. The event loop redraws once a second
    /// only then; a countdown that reached `now` waits for the snapshot that ends it.
    pub fn counting_down(&self) -> bool {
        let s = &self.snapshot;
        let ahead = |t: Option<i64>| t.is_some_and(|t| t > self.now_ms);
        s.jobs
            .iter()
            .any(|j| j.state == JobState::Backoff && ahead(j.available_at_ms))
            || s.breakers
                .iter()
                .any(|b| b.state == BreakerState::Open && ahead(b.until_ms))
    }

    /// The breaker of `account`, if it holds jobs back (open or half-open).
    pub fn held_by(&self, account: &str) -> Option<&BreakerView> {
        self.snapshot
            .breakers
            .iter()
            .find(|b| b.account == account && b.state != BreakerState::Closed)
    }

    /// The job the queue keys act on: the Queue pane's selection, while that pane has focus.
    fn target_job(&self) -> Option<&JobView> {
        let id = self.selected_job.filter(|_| self.focus == Pane::Queue)?;
        self.snapshot.jobs.iter().find(|j| j.id == id)
    }

    /// `R` in the Queue pane (retry_job). A waiting, failed or cancelled job is retried (its backoff ends,
    /// or it gets fresh attempts); a running or done one is restarted through its run, as `R`
    /// does in the other panes.
    pub(super) fn retry_job(&mut self) -> Outcome {
        let mut out = Outcome::default();
        let Some(job) = self.target_job() else {
            self.message = Some("no job selected".into());
            return out;
        };
        let (id, state) = (job.id, job.state);
        match state {
            JobState::Queued | JobState::Backoff | JobState::Failed | JobState::Cancelled => {
                out.commands.push(Command::RetryJob { job: id });
            }
            JobState::Running | JobState::Done => match self.target_run().map(|r| r.id) {
                Some(run) => out.commands.push(Command::Restart { run }),
                None => self.message = Some(format!("job {id} has no run to restart")),
            },
        }
        out
    }

    /// `c`: asks before cancelling a job that still has work to do.
    pub(super) fn cancel_job(&mut self) {
        let Some(job) = self.target_job() else {
            self.message = Some("no job selected".into());
            return;
        };
        let (id, state) = (job.id, job.state);
        if state.is_open() {
            self.overlay = Some(Overlay::Confirm(Confirm::CancelJob(id)));
        } else {
            self.message = Some(format!("job {id} is {}: nothing to cancel", state.as_str()));
        }
    }

    /// `[` and `]` in the Queue pane: the priority one lower or higher, at once, from the
    /// snapshot's value (the runtime publishes the new one before a second press can come).
    pub(super) fn job_priority(&mut self, action: Action) -> Outcome {
        let mut out = Outcome::default();
        let Some(job) = self.target_job() else {
            self.message = Some("no job selected".into());
            return out;
        };
        let (id, state, priority) = (job.id, job.state, job.priority);
        if !state.is_open() {
            self.message = Some(format!(
                "job {id} is {}: priority unchanged",
                state.as_str()
            ));
            return out;
        }
        let priority = match action {
            Action::JobSooner => priority.saturating_sub(1),
            _ => priority.saturating_add(1),
        };
        out.commands
            .push(Command::SetJobPriority { job: id, priority });
        // Keys pressed in a burst arrive before the runtime's next snapshot: the next press
        // builds on this one, and that snapshot brings the stored value anyway.
        if let Some(j) = self.snapshot.jobs.iter_mut().find(|j| j.id == id) {
            j.priority = priority;
        }
        self.message = Some(format!("job {id} priority {priority} (lower: sooner)"));
        out
    }

    /// `b`, anywhere: closes the breaker of the selected job's account if it is open, else
    /// the only open one. With several open and none picked, says how to pick one.
    pub(super) fn close_breaker(&mut self) -> Outcome {
        let mut out = Outcome::default();
        let picked = self
            .target_job()
            .and_then(|j| self.held_by(&j.account))
            .map(|b| b.account.clone());
        let open: Vec<&str> = self
            .snapshot
            .breakers
            .iter()
            .filter(|b| b.state != BreakerState::Closed)
            .map(|b| b.account.as_str())
            .collect();
        let account = match (picked, open.as_slice()) {
            (Some(a), _) => a,
            (None, [only]) => only.to_string(),
            (None, []) => {
                self.message = Some("no breaker is open".into());
                return out;
            }
            (None, many) => {
                self.message = Some(format!(
                    "{} breakers are open: select one of their jobs in the Queue pane",
                    many.len()
                ));
                return out;
            }
        };
        out.commands.push(Command::CloseBreaker { account });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{JobId, Role, Snapshot, Usage};

    fn backoff_until(t: i64) -> JobView {
        JobView {
            id: JobId(1),
            profile: "coding".into(),
            account: "main".into(),
            role: Role::Coding,
            feature: None,
            feature_name: None,
            priority: 0,
            state: JobState::Backoff,
            attempt: 1,
            max_attempts: 3,
            transient_attempts: 1,
            transient_budget: 20,
            available_at_ms: Some(t),
            last_error: None,
            runs: Vec::new(),
            usage: Usage::default(),
        }
    }

    fn breaker(state: BreakerState, until_ms: Option<i64>) -> BreakerView {
        BreakerView {
            account: "main".into(),
            state,
            failures: 0,
            until_ms,
            auth: until_ms.is_none(),
            login_hint: None,
        }
    }

    #[test]
    fn counts_down_only_while_a_deadline_is_ahead_of_the_apps_clock() {
        let mut app = App::new(Snapshot::default());
        app.now_ms = 10_000;
        assert!(!app.counting_down(), "nothing waits");
        app.snapshot.jobs = vec![backoff_until(12_000)];
        assert!(app.counting_down());
        app.now_ms = 12_000;
        assert!(!app.counting_down(), "due: the next snapshot ends it");
        app.snapshot.breakers = vec![breaker(BreakerState::Open, Some(15_000))];
        assert!(app.counting_down());
        app.snapshot.breakers = vec![
            breaker(BreakerState::Open, None),
            breaker(BreakerState::HalfOpen, Some(15_000)),
        ];
        assert!(!app.counting_down(), "a login or a probe has no countdown");
    }
}
