//! The [`App`]'s side of the job queue: whether anything on screen counts down.

use super::app::App;
use crate::api::{BreakerState, JobState};

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{BreakerView, JobId, JobView, Role, Snapshot, Usage};

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
