//! Whether a project can go on by itself, or only once a person acts: what `corral run
//! --headless --until-done` needs to know before it stops waiting.
//!
//! Rules (the tests pin each one):
//! - Anything live (a running job or run) or timed (a backoff) can still move: no wait for a
//!   person.
//! - A queued job moves by itself (its breaker closed, half-open, or resting until a known
//!   time) unless its account's breaker is open with no time, which only happens when its
//!   credentials were refused: then it waits for a login. Breakers of accounts with no
//!   queued job do not matter.
//! - The project waits for a person when nothing live or timed is left and every queued job
//!   waits for a login (and there is at least one). A paused scheduler is left to the caller.

use crate::api::{BreakerState, BreakerView, FeatureId, JobState, Snapshot};

/// One account whose refused credentials hold work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginWait {
    pub account: String,
    /// How to log in again (from the breaker), if known.
    pub hint: Option<String>,
    /// Features whose jobs it holds, by id (a job on no feature is left out).
    pub features: Vec<FeatureId>,
    /// How many jobs it holds.
    pub jobs: usize,
}

/// The logins the project waits for when nothing else can happen; `None` while anything can
/// still move without a person (or nothing waits at all).
pub fn waiting_for_logins(s: &Snapshot) -> Option<Vec<LoginWait>> {
    if s.runs.iter().any(|r| r.state.is_live()) {
        return None;
    }
    let login_only = |b: &BreakerView| b.state == BreakerState::Open && b.until_ms.is_none();
    let mut waits: Vec<LoginWait> = Vec::new();
    for job in &s.jobs {
        match job.state {
            JobState::Running | JobState::Backoff => return None,
            JobState::Queued => {}
            JobState::Done | JobState::Failed | JobState::Cancelled => continue,
        }
        let breaker = s.breakers.iter().find(|b| b.account == job.account)?;
        if !login_only(breaker) {
            return None;
        }
        let wait = match waits.iter_mut().find(|w| w.account == job.account) {
            Some(w) => w,
            None => {
                waits.push(LoginWait {
                    account: job.account.clone(),
                    hint: breaker.login_hint.clone(),
                    features: Vec::new(),
                    jobs: 0,
                });
                waits.last_mut()?
            }
        };
        wait.jobs += 1;
        if let Some(f) = job.feature.filter(|f| !wait.features.contains(f)) {
            wait.features.push(f);
        }
    }
    for w in &mut waits {
        w.features.sort();
    }
    (!waits.is_empty()).then_some(waits)
}

/// The runs waiting for a person when nothing else can move: every live run waits for an
/// answer (none of them from a profile that denies by itself after a while, named in
/// `self_answering`) and no job waits out a backoff. `None` otherwise. Queued jobs do not
/// count: the scheduler would have started any it could.
pub fn waiting_for_people(
    s: &Snapshot,
    self_answering: &[String],
) -> Option<Vec<(crate::api::RunId, Option<FeatureId>, String)>> {
    let live: Vec<_> = s.runs.iter().filter(|r| r.state.is_live()).collect();
    if live.is_empty() || s.jobs.iter().any(|j| j.state == JobState::Backoff) {
        return None;
    }
    live.iter()
        .map(|r| match &r.waiting {
            Some(w) if !self_answering.contains(&r.profile) => {
                Some((r.id, r.feature, w.ask.describe()))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{JobId, JobView, Role, RunId, RunState, RunView, Usage};

    fn job(id: i64, feature: i64, account: &str, state: JobState) -> JobView {
        JobView {
            id: JobId(id),
            profile: account.into(),
            account: account.into(),
            role: Role::Coding,
            feature: Some(FeatureId(feature)),
            feature_name: None,
            priority: 0,
            state,
            attempt: 0,
            max_attempts: 3,
            transient_attempts: 0,
            transient_budget: 20,
            available_at_ms: None,
            last_error: None,
            runs: Vec::new(),
            usage: Usage::default(),
        }
    }

    fn breaker(account: &str, state: BreakerState, until_ms: Option<i64>) -> BreakerView {
        BreakerView {
            account: account.into(),
            state,
            failures: 0,
            until_ms,
            auth: state == BreakerState::Open && until_ms.is_none(),
            login_hint: Some("run `claude` and type /login, then press b".into()),
        }
    }

    fn held() -> Snapshot {
        Snapshot {
            jobs: vec![
                job(1, 1, "claude", JobState::Queued),
                job(2, 2, "claude", JobState::Queued),
                job(3, 3, "claude", JobState::Failed),
            ],
            breakers: vec![breaker("claude", BreakerState::Open, None)],
            ..Snapshot::default()
        }
    }

    #[test]
    fn every_queued_job_held_by_a_login_and_nothing_else_moving_waits_for_a_person() {
        let waits = waiting_for_logins(&held()).expect("waits");
        assert_eq!(
            waits,
            vec![LoginWait {
                account: "claude".into(),
                hint: Some("run `claude` and type /login, then press b".into()),
                features: vec![FeatureId(1), FeatureId(2)],
                jobs: 2,
            }]
        );
    }

    #[test]
    fn a_resting_breaker_with_no_work_does_not_keep_it_waiting() {
        let mut s = held();
        s.breakers
            .push(breaker("other", BreakerState::Open, Some(5_000)));
        assert!(waiting_for_logins(&s).is_some());
    }

    #[test]
    fn anything_live_timed_or_free_to_start_can_still_move() {
        let mut live = held();
        live.runs.push(RunView {
            id: RunId(9),
            job: JobId(3),
            feature: None,
            feature_name: None,
            profile: "p".into(),
            role: Role::Testing,
            state: RunState::Running,
            pid: Some(1),
            started_at_ms: 0,
            finished_at_ms: None,
            kill_requested: false,
            stats: None,
            usage: None,
            activity: None,
            waiting: None,
            session: None,
        });
        let mut backoff = held();
        backoff.jobs.push(job(4, 4, "other", JobState::Backoff));
        let mut resting = held();
        resting.jobs.push(job(4, 4, "other", JobState::Queued));
        resting
            .breakers
            .push(breaker("other", BreakerState::Open, Some(5_000)));
        let mut probing = held();
        probing.jobs.push(job(4, 4, "other", JobState::Queued));
        probing
            .breakers
            .push(breaker("other", BreakerState::HalfOpen, None));
        let mut free = held();
        free.jobs.push(job(4, 4, "other", JobState::Queued));
        free.breakers
            .push(breaker("other", BreakerState::Closed, None));
        let mut nothing = held();
        nothing.jobs.retain(|j| j.state != JobState::Queued);
        for (what, s) in [
            ("a live run", live),
            ("a backoff", backoff),
            ("a resting breaker", resting),
            ("a half-open breaker", probing),
            ("a job free to start", free),
            ("no queued job", nothing),
        ] {
            assert_eq!(waiting_for_logins(&s), None, "{what}");
        }
    }
}
