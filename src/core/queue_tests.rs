//! The job queue driven through the model: retries, backoff, breaker, budget, restore.
//! No processes and no clock: time is whatever `now_ms` the test sets.

use crate::api::{
    BreakerState, Command, FeatureId, FeatureStatus, JobId, JobState, Role, RunId, Usage,
};
use crate::core::failure::{Class, Wait};
use crate::core::*;

fn feature(id: i64) -> Feature {
    Feature {
        id: FeatureId(id),
        category: String::new(),
        name: format!("F{id}"),
        priority: 0,
        dependencies: Vec::new(),
        status: FeatureStatus::Pending,
        attempts: 0,
        last_error: None,
        last_tested_at: None,
        profile: None,
        usage: Usage::default(),
        unmerged: false,
        merge: None,
    }
}

/// `n` independent features, a coding profile, retry base 1 s / cap 10 s, breaker at 3
/// failures with a 60 s cooldown; the clock at 100 s.
fn queue(n: i64, max_agents: u32) -> Model {
    let (mut m, _) = Model::new((1..=n).map(feature).collect(), max_agents);
    m.profiles.insert(
        Role::Coding,
        scheduler::ProfileSlot {
            name: "coding".into(),
            max_parallel: None,
        },
    );
    m.retry = scheduler::RetryPolicy {
        base_ms: 1_000,
        cap_ms: 10_000,
        transient_budget: 5,
    };
    m.breaker_config = breaker::Config {
        threshold: 3,
        cooldown_ms: 60_000,
        max_cooldown_ms: 600_000,
    };
    m.now_ms = 100_000;
    m
}

/// Job ids of the spawns asked for.
fn spawned_jobs(effects: &[Effect]) -> Vec<i64> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn { job, .. } => Some(job.0),
            _ => None,
        })
        .collect()
}

/// Answers the spawn of `job` with run `run` (on the job's feature).
fn spawn(m: &mut Model, job: i64, run: i64) -> Vec<Effect> {
    let feature = m.jobs[&JobId(job)].feature;
    m.handle(Input::Spawned(NewRun {
        id: RunId(run),
        job: JobId(job),
        feature,
        profile: "coding".into(),
        role: Role::Coding,
        pid: 2000 + run as u32,
        started_at_ms: m.now_ms,
        grace_ms: 1000,
        timeout_ms: None,
        silence_ms: None,
    }))
}

fn end(m: &mut Model, run: i64, code: i32, class: Class, evidence: &str) -> Vec<Effect> {
    let at_ms = m.now_ms;
    m.handle(Input::Exited {
        run: RunId(run),
        code: Some(code),
        signal: None,
        group_alive: false,
        at_ms,
        verdict: None,
        failure: Some(Failure {
            class,
            evidence: Some(evidence.into()),
        }),
        usage: None,
        random: u32::MAX,
        unjudged: None,
    })
}

/// Ends `run` with exit 1 and a transient failure whose service said to wait `after_ms`.
fn limited(m: &mut Model, run: i64, after_ms: i64, evidence: &str) -> Vec<Effect> {
    let class = Class::Transient {
        wait: Some(Wait {
            until_ms: m.now_ms + after_ms,
        }),
    };
    end(m, run, 1, class, evidence)
}

fn wakes(effects: &[Effect]) -> Vec<(WakeKey, u64)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Wake { key, after_ms } => Some((key.clone(), *after_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_rate_limit_backs_off_until_retry_after_without_spending_an_attempt() {
    let mut m = queue(1, 1);
    assert_eq!(spawned_jobs(&m.handle(Input::Kick)), vec![1]);
    spawn(&mut m, 1, 1);
    let e = limited(
        &mut m,
        1,
        7_000,
        "HTTP 429 Too Many Requests; retry-after: 7",
    );
    let job = &m.jobs[&JobId(1)];
    assert_eq!(job.state, JobState::Backoff);
    assert_eq!((job.attempts, job.transient_attempts), (0, 1));
    // Full jitter of the first retry is at most the 1 s base; the Retry-After floor wins.
    assert_eq!(job.available_at_ms, Some(107_000));
    assert!(
        spawned_jobs(&e).is_empty(),
        "nothing starts during the backoff"
    );
    let timers = wakes(&e);
    assert_eq!(timers.len(), 1);
    assert_eq!(timers[0].1, 7_000);
    // Not the work's failure: the feature waits (pending), its job shows why.
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Pending);
    assert_eq!(m.features[&FeatureId(1)].attempts, 0);
    let error = job.last_error.clone().unwrap_or_default();
    assert!(
        error.starts_with("HTTP 429"),
        "the tool's words lead: {error}"
    );
    assert!(error.ends_with(" — exit 1"), "{error}");

    // A stale timer (an older epoch) changes nothing, even once the time has come.
    m.now_ms = 107_000;
    let WakeKey::Job { job, epoch } = timers[0].0.clone() else {
        panic!("a job timer")
    };
    let e = m.handle(Input::Wake(WakeKey::Job {
        job,
        epoch: epoch - 1,
    }));
    // The scheduler itself notices the backoff is over: a lost timer cannot strand a job.
    assert_eq!(spawned_jobs(&e), vec![1]);
    assert_eq!(m.jobs[&JobId(1)].attempts, 1);
}

#[test]
fn a_stale_wake_does_not_end_a_later_backoff() {
    let mut m = queue(1, 1);
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    let first = wakes(&limited(&mut m, 1, 2_000, "429"));
    m.now_ms += 2_000;
    let e = m.handle(Input::Wake(first[0].0.clone()));
    assert_eq!(spawned_jobs(&e), vec![1]);
    spawn(&mut m, 1, 2);
    limited(&mut m, 2, 9_000, "429");
    // The first backoff's timer arriving late must not cut the second one short.
    let e = m.handle(Input::Wake(first[0].0.clone()));
    assert!(spawned_jobs(&e).is_empty());
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Backoff);
}

#[test]
fn the_transient_budget_runs_out_and_then_the_job_fails() {
    let mut m = queue(1, 1);
    m.retry.transient_budget = 2;
    m.handle(Input::Kick);
    for run in 1..=3 {
        spawn(&mut m, 1, run);
        limited(&mut m, run, 0, "overloaded_error");
        m.now_ms += 20_000;
        m.handle(Input::Kick);
    }
    let job = &m.jobs[&JobId(1)];
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(
        (job.transient_attempts, job.attempts),
        (2, 0),
        "no attempt spent"
    );
    let error = job.last_error.clone().unwrap_or_default();
    assert!(
        error.contains(" — gave up after 3 transient failures (transient_budget 2), exit 1"),
        "{error}"
    );
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failed);
}

#[test]
fn permanent_failures_retry_until_max_attempts_then_fail_the_feature() {
    let mut m = queue(1, 1);
    m.policy.max_attempts = 2;
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    let e = end(&mut m, 1, 2, Class::Permanent, "");
    assert_eq!(spawned_jobs(&e), vec![1], "retried at once, same job");
    spawn(&mut m, 1, 2);
    let e = end(&mut m, 2, 2, Class::Permanent, "");
    assert!(spawned_jobs(&e).is_empty());
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Failed);
    assert_eq!(m.jobs[&JobId(1)].attempts, 2);
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failed);
}

#[test]
fn three_transient_failures_open_the_breaker_and_then_one_probe_runs() {
    let mut m = queue(3, 3);
    assert_eq!(spawned_jobs(&m.handle(Input::Kick)), vec![1, 2, 3]);
    for job in 1..=3 {
        spawn(&mut m, job, job);
    }
    let busy = Class::Transient { wait: None };
    end(&mut m, 1, 1, busy, "529 overloaded");
    end(&mut m, 2, 1, busy, "529 overloaded");
    let e = end(&mut m, 3, 1, busy, "529 overloaded");
    let breaker = m.snapshot(std::path::Path::new("/p"), 1).breakers;
    assert_eq!(breaker.len(), 1);
    assert_eq!(breaker[0].state, BreakerState::Open);
    assert_eq!(breaker[0].until_ms, Some(160_000));
    let timer = wakes(&e)
        .into_iter()
        .find(|(k, _)| matches!(k, WakeKey::Breaker { .. }))
        .expect("a breaker timer");
    assert_eq!(timer.1, 60_000);
    // Backoffs are over long before the cooldown: still nothing may start on the account.
    m.now_ms += 30_000;
    assert!(spawned_jobs(&m.handle(Input::Kick)).is_empty());
    assert!(
        m.notice
            .clone()
            .unwrap_or_default()
            .contains("breaker open")
    );
    m.now_ms = 160_000;
    let e = m.handle(Input::Wake(timer.0));
    assert_eq!(spawned_jobs(&e).len(), 1, "one probe, not three");
    let probe = spawned_jobs(&e)[0];
    spawn(&mut m, probe, 10);
    assert!(spawned_jobs(&m.handle(Input::Kick)).is_empty());
    let e = end(&mut m, 10, 0, Class::Permanent, "");
    assert_eq!(
        spawned_jobs(&e).len(),
        2,
        "the probe passed: the others start"
    );
}

#[test]
fn refused_credentials_hold_the_job_until_a_person_closes_the_breaker() {
    let mut m = queue(2, 2);
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    spawn(&mut m, 2, 2);
    let e = end(
        &mut m,
        1,
        1,
        Class::Auth,
        "Invalid API key · Please run /login",
    );
    assert!(spawned_jobs(&e).is_empty(), "never retried by itself");
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Queued);
    assert_eq!(m.jobs[&JobId(1)].attempts, 0);
    let views = m.snapshot(std::path::Path::new("/p"), 1).breakers;
    assert!(views[0].auth && views[0].until_ms.is_none());
    // Hours later, still nothing.
    m.now_ms += 10 * 3_600_000;
    assert!(spawned_jobs(&end(&mut m, 2, 0, Class::Permanent, "")).is_empty());
    let e = m.handle(Input::Command(Command::CloseBreaker {
        account: "coding".into(),
    }));
    assert_eq!(spawned_jobs(&e), vec![1]);
}

#[test]
fn retry_now_cancel_and_priority_act_on_waiting_jobs() {
    let mut m = queue(3, 1);
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    limited(&mut m, 1, 600_000, "usage limit reached");
    // Job 2 took the slot; job 1 waits ten minutes, unless a person says now.
    spawn(&mut m, 2, 2);
    let e = m.handle(Input::Command(Command::RetryJob { job: JobId(1) }));
    assert!(spawned_jobs(&e).is_empty(), "no free slot yet");
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Queued);
    // Lower priority number starts sooner: 3 goes before 1.
    m.handle(Input::Command(Command::SetJobPriority {
        job: JobId(3),
        priority: -5,
    }));
    let e = end(&mut m, 2, 0, Class::Permanent, "");
    assert_eq!(spawned_jobs(&e), vec![3]);
    m.handle(Input::Command(Command::CancelJob { job: JobId(1) }));
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Cancelled);
    assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failed);
    spawn(&mut m, 3, 3);
    let e = end(&mut m, 3, 0, Class::Permanent, "");
    assert!(
        spawned_jobs(&e).is_empty(),
        "a cancelled job's feature is not queued again"
    );
    // Retrying the cancelled job gives it fresh attempts.
    let e = m.handle(Input::Command(Command::RetryJob { job: JobId(1) }));
    assert_eq!(spawned_jobs(&e), vec![1]);
}

#[test]
fn usage_adds_up_per_job_feature_and_total_and_the_budget_pauses_once() {
    let mut m = queue(3, 1);
    m.budget_micros = Some(1_000_000);
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    let usage = Usage {
        input_tokens: 100,
        output_tokens: 50,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        cost_micros: Some(600_000),
    };
    let exit = |run: i64| Input::Exited {
        run: RunId(run),
        code: Some(0),
        signal: None,
        group_alive: false,
        at_ms: 1,
        verdict: None,
        failure: None,
        usage: Some(usage),
        random: 0,
        unjudged: None,
    };
    let e = m.handle(exit(1));
    assert!(e.contains(&Effect::SaveRunUsage {
        run: RunId(1),
        usage
    }));
    assert_eq!(spawned_jobs(&e), vec![2], "under budget: goes on");
    spawn(&mut m, 2, 2);
    let e = m.handle(exit(2));
    assert!(spawned_jobs(&e).is_empty(), "over budget: paused");
    assert!(m.scheduler_paused);
    let note = m.notice.clone().unwrap_or_default();
    assert!(note.contains("budget spent: $1.20 of $1.00"), "{note}");
    let s = m.snapshot(std::path::Path::new("/p"), 1);
    assert_eq!(s.totals.usage.cost_micros, Some(1_200_000));
    assert_eq!(s.features[0].usage.output_tokens, 50);
    // A person resumes knowingly: it is not paused again.
    let e = m.handle(Input::Command(Command::SetSchedulerPaused {
        paused: false,
    }));
    assert_eq!(spawned_jobs(&e), vec![3]);
}

#[test]
fn a_restored_queue_requeues_interrupted_jobs_and_rearms_backoffs() {
    let mut m = queue(2, 0);
    m.handle(Input::Kick);
    let mut jobs: Vec<Job> = m.jobs.values().cloned().collect();
    jobs[0].state = JobState::Running;
    jobs[0].attempts = 1;
    jobs[1].state = JobState::Backoff;
    jobs[1].available_at_ms = Some(m.now_ms + 5_000);
    let (mut fresh, _) = Model::new(vec![feature(1), feature(2)], 0);
    fresh.now_ms = m.now_ms;
    let e = fresh.restore_queue(jobs, Vec::new());
    assert_eq!(fresh.jobs[&JobId(1)].state, JobState::Queued);
    assert_eq!(
        fresh.jobs[&JobId(1)].attempts,
        0,
        "the lost run's attempt is given back"
    );
    assert_eq!(wakes(&e).len(), 1);
    assert_eq!(wakes(&e)[0].1, 5_000);
    assert_eq!(fresh.next_job, 3, "new jobs never reuse a stored id");
}

#[test]
fn a_probe_that_cannot_even_start_lets_another_job_probe() {
    let mut m = queue(3, 3);
    m.handle(Input::Kick);
    for job in 1..=3 {
        spawn(&mut m, job, job);
    }
    for run in 1..=3 {
        end(
            &mut m,
            run,
            1,
            Class::Transient { wait: None },
            "503 Service Unavailable",
        );
    }
    m.now_ms += 60_000;
    let probe = spawned_jobs(&m.handle(Input::Kick));
    assert_eq!(probe.len(), 1);
    let e = m.handle(Input::SpawnFailed {
        job: JobId(probe[0]),
        record: None,
        error: "program `claude` not found".into(),
    });
    assert_eq!(spawned_jobs(&e).len(), 1, "the next job probes");
    assert_ne!(spawned_jobs(&e), probe);
}

#[test]
fn the_snapshot_lists_running_then_queued_in_start_order_then_backoffs_then_ended() {
    let mut m = queue(5, 1);
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    limited(&mut m, 1, 9_000, "429"); // job 1: backoff, later
    spawn(&mut m, 2, 2);
    m.handle(Input::Command(Command::CancelJob { job: JobId(5) }));
    m.handle(Input::Command(Command::SetJobPriority {
        job: JobId(4),
        priority: -1,
    }));
    let s = m.snapshot(std::path::Path::new("/p"), 1);
    let order: Vec<(i64, JobState)> = s.jobs.iter().map(|j| (j.id.0, j.state)).collect();
    assert_eq!(
        order,
        vec![
            (2, JobState::Running),
            (4, JobState::Queued),
            (3, JobState::Queued),
            (1, JobState::Backoff),
            (5, JobState::Cancelled),
        ]
    );
    let backoff = &s.jobs[3];
    assert_eq!(backoff.available_at_ms, Some(109_000));
    assert_eq!(backoff.feature_name.as_deref(), Some("F1"));
    assert_eq!(
        (backoff.transient_attempts, backoff.transient_budget),
        (1, 5)
    );
}

#[test]
fn a_retry_that_the_queue_would_undo_is_refused_and_a_waiting_retry_keeps_attempts() {
    let mut m = queue(2, 1);
    m.handle(Input::Kick);
    spawn(&mut m, 1, 1);
    end(&mut m, 1, 0, Class::Permanent, "");
    let e = m.handle(Input::Command(Command::RetryJob { job: JobId(1) }));
    assert!(spawned_jobs(&e).is_empty());
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Done);
    spawn(&mut m, 2, 2);
    m.policy.max_attempts = 3;
    end(&mut m, 2, 1, Class::Permanent, "");
    spawn(&mut m, 2, 3);
    limited(&mut m, 3, 60_000, "overloaded_error");
    assert_eq!(m.jobs[&JobId(2)].attempts, 1);
    let e = m.handle(Input::Command(Command::RetryJob { job: JobId(2) }));
    assert_eq!(spawned_jobs(&e), vec![2], "the wait ends at once");
    // The attempt already spent stays spent, for job and feature alike: this run is the 2nd.
    assert_eq!(m.jobs[&JobId(2)].attempts, 2);
    assert_eq!(m.features[&FeatureId(2)].attempts, 1);
    let mut passing = queue(1, 0);
    passing.features.get_mut(&FeatureId(1)).unwrap().status = FeatureStatus::Passing;
    let (job, _) = passing.new_job(Some(FeatureId(1)), Role::Coding).unwrap();
    passing.finish_job(job, JobState::Cancelled, "x".into());
    passing.handle(Input::Command(Command::RetryJob { job }));
    assert_eq!(passing.jobs[&job].state, JobState::Cancelled);
    let note = passing.notice.clone().unwrap_or_default();
    assert!(
        note.contains("feature 1 passes (requeue it to redo it)"),
        "{note}"
    );
}

#[test]
fn a_restored_open_breaker_holds_its_account_until_its_time_then_lets_one_probe() {
    let mut m = queue(2, 2);
    let open = breaker::Saved {
        state: breaker::State::Open {
            until_ms: m.now_ms + 30_000,
            epoch: 7,
        },
        cooldown_ms: 120_000,
    };
    let e = m.restore_breakers(vec![("coding".into(), open)]);
    let timer = wakes(&e);
    assert_eq!(timer.len(), 1);
    assert_eq!(timer[0].1, 30_000);
    assert!(spawned_jobs(&m.handle(Input::Kick)).is_empty());
    m.now_ms += 30_000;
    let e = m.handle(Input::Wake(timer[0].0.clone()));
    assert_eq!(spawned_jobs(&e).len(), 1, "one probe");
    // Every change is stored, so the next restart finds it.
    assert!(
        e.iter()
            .any(|e| matches!(e, Effect::SaveBreaker { account, .. } if account == "coding"))
    );
}

#[test]
fn a_refused_claim_takes_the_job_as_stored_and_frees_the_slot() {
    let mut m = queue(2, 1);
    assert_eq!(spawned_jobs(&m.handle(Input::Kick)), vec![1]);
    let mut stored = m.jobs[&JobId(1)].clone();
    stored.state = JobState::Cancelled;
    stored.attempts = 0;
    let e = m.handle(Input::ClaimRefused(stored));
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Cancelled);
    assert_eq!(spawned_jobs(&e), vec![2], "the slot goes to the next job");
    assert!(
        m.notice
            .clone()
            .unwrap_or_default()
            .contains("job 1 was cancelled in the store")
    );
}

/// The issue's own example with the default breaker (threshold 3): a lone job's third 429 with
/// `retry-after: 2` opens the breaker only until that reset, so the fourth run follows 2 s later,
/// not after the cooldown.
#[test]
fn a_breaker_opened_with_a_known_reset_rests_exactly_that_long() {
    let mut m = queue(1, 1);
    assert_eq!(spawned_jobs(&m.handle(Input::Kick)), vec![1]);
    for run in 1..=3 {
        spawn(&mut m, 1, run);
        let e = limited(
            &mut m,
            run,
            2_000,
            "HTTP/1.1 429 Too Many Requests · retry-after: 2",
        );
        assert!(spawned_jobs(&e).is_empty());
        m.now_ms += 1_999;
        assert!(
            spawned_jobs(&m.handle(Input::Kick)).is_empty(),
            "not before 2 s"
        );
        m.now_ms += 1;
        let mut started = spawned_jobs(&m.handle(Input::Kick));
        for (key, _) in wakes(&e) {
            started.extend(spawned_jobs(&m.handle(Input::Wake(key))));
        }
        assert_eq!(
            started,
            vec![1],
            "run {} starts 2 s after run {run} failed",
            run + 1
        );
    }
    let views = m.snapshot(std::path::Path::new("/p"), 1).breakers;
    assert_eq!(
        views[0].state,
        BreakerState::HalfOpen,
        "the 4th run is the probe"
    );
    spawn(&mut m, 1, 4);
    end(&mut m, 4, 0, Class::Permanent, "");
    assert_eq!(m.jobs[&JobId(1)].state, JobState::Done);
    let views = m.snapshot(std::path::Path::new("/p"), 1).breakers;
    assert_eq!(views[0].state, BreakerState::Closed);
}

#[test]
fn a_waiting_job_whose_profile_is_gone_runs_with_the_role_s_profile_now() {
    let mut m = queue(1, 0);
    m.handle(Input::Kick);
    assert_eq!(m.jobs[&JobId(1)].profile, "coding");
    // corral.toml renamed the profile (and gave it an account) before the next start.
    m.profiles.insert(
        Role::Coding,
        scheduler::ProfileSlot {
            name: "claude".into(),
            max_parallel: None,
        },
    );
    m.profile_info.insert(
        "claude".into(),
        scheduler::ProfileInfo {
            role: Role::Coding,
            account: "anthropic-main".into(),
            max_parallel: None,
        },
    );
    m.max_agents = 1;
    let e = m.handle(Input::Kick);
    let spawn = e.iter().find_map(|e| match e {
        Effect::Spawn { profile, .. } => Some(profile.clone()),
        _ => None,
    });
    assert_eq!(spawn.as_deref(), Some("claude"));
    assert_eq!(m.jobs[&JobId(1)].account, "anthropic-main");
}

#[test]
fn a_feature_naming_a_profile_that_cannot_run_it_says_so_when_it_runs_the_default() {
    let mut m = queue(3, 3);
    let coding = scheduler::ProfileInfo {
        role: Role::Coding,
        account: "coding".into(),
        max_parallel: None,
    };
    m.profile_info.insert("coding".into(), coding.clone());
    m.profile_info.insert("careful".into(), coding);
    m.profile_info.insert(
        "starter".into(),
        scheduler::ProfileInfo {
            role: Role::Initializer,
            account: "starter".into(),
            max_parallel: None,
        },
    );
    for (id, profile) in [(1, "careful"), (2, "gone"), (3, "starter")] {
        m.features.get_mut(&FeatureId(id)).unwrap().profile = Some(profile.into());
    }
    let e = m.handle(Input::Kick);
    let notices: Vec<&String> = e
        .iter()
        .filter_map(|e| match e {
            Effect::Notice(text) => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices,
        [
            "feature 2 names profile \"gone\", which is not an enabled coding or testing \
             profile in corral.toml: it runs with \"coding\"",
            "feature 3 names profile \"starter\", which is not an enabled coding or testing \
             profile in corral.toml: it runs with \"coding\""
        ]
    );
    assert_eq!(m.jobs[&JobId(1)].profile, "careful");
}

/// A run corral stopped for its timeout or its silence failed its attempt, whatever its log
/// said about the network: retrying it as transient would loop for hours (45 min a run, a
/// budget of 20) without counting a single attempt.
#[test]
fn a_timed_out_or_stalled_run_is_a_failed_attempt_even_with_network_trouble_in_its_log() {
    for kind in [TimerKind::Timeout, TimerKind::Silence] {
        let mut m = queue(1, 1);
        m.policy.max_attempts = 2;
        m.handle(Input::Kick);
        let feature = m.jobs[&JobId(1)].feature;
        m.handle(Input::Spawned(NewRun {
            id: RunId(1),
            job: JobId(1),
            feature,
            profile: "coding".into(),
            role: Role::Coding,
            pid: 2001,
            started_at_ms: m.now_ms,
            grace_ms: 1000,
            timeout_ms: Some(90_000),
            silence_ms: Some(60_000),
        }));
        let stop = match kind {
            TimerKind::Silence => Input::Quiet {
                run: RunId(1),
                epoch: m.runs[&RunId(1)].epoch,
                quiet_ms: 60_000,
            },
            _ => Input::Timer {
                run: RunId(1),
                epoch: m.runs[&RunId(1)].epoch,
                kind,
            },
        };
        let effects = m.handle(stop);
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::Signal { sig: Sig::Term, .. })),
            "{kind:?}: the watchdog stops it: {effects:?}"
        );
        let at_ms = m.now_ms;
        let effects = m.handle(Input::Exited {
            run: RunId(1),
            code: None,
            signal: Some(15),
            group_alive: false,
            at_ms,
            verdict: None,
            failure: Some(Failure {
                class: Class::Transient { wait: None },
                evidence: Some("ERROR: Reconnecting... waiting for network".into()),
            }),
            usage: None,
            random: 0,
            unjudged: None,
        });
        let job = &m.jobs[&JobId(1)];
        // Counted: the retry that started at once is attempt 2 of 2.
        assert_eq!(job.attempts, 2, "{kind:?}: the attempt counts");
        assert_eq!(job.transient_attempts, 0, "{kind:?}");
        assert_ne!(job.state, JobState::Backoff, "{kind:?}");
        let error = m.features[&FeatureId(1)]
            .last_error
            .clone()
            .unwrap_or_default();
        assert!(
            error.contains("waiting for network"),
            "{kind:?}: the log still says why: {error}"
        );
        assert_eq!(spawned_jobs(&effects), vec![1], "{kind:?}: retried at once");
        assert_eq!(m.features[&FeatureId(1)].status, FeatureStatus::Failing);
        // The breaker heard nothing about the account.
        assert!(
            m.breakers
                .values()
                .all(|b| b.state().view("coding").state == BreakerState::Closed),
            "{kind:?}"
        );
    }
}

/// A feature failing for good, and the whole backlog passing, are told (`[notify]`), once.
#[test]
fn failing_for_good_and_finishing_the_backlog_are_notified() {
    let notes = |effects: &[Effect]| -> Vec<String> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Notify(n) => Some(n.event.clone()),
                _ => None,
            })
            .collect()
    };
    let run_once = |m: &mut Model, id: i64, code: i32| {
        let job = m
            .jobs
            .values()
            .find(|j| j.state == JobState::Running)
            .map(|j| j.id)
            .expect("a running job");
        let feature = m.jobs[&job].feature;
        m.handle(Input::Spawned(NewRun {
            id: RunId(id),
            job,
            feature,
            profile: "coding".into(),
            role: Role::Coding,
            pid: 3000 + id as u32,
            started_at_ms: m.now_ms,
            grace_ms: 1000,
            timeout_ms: None,
            silence_ms: None,
        }));
        let at_ms = m.now_ms;
        m.handle(Input::Exited {
            run: RunId(id),
            code: Some(code),
            signal: None,
            group_alive: false,
            at_ms,
            verdict: None,
            failure: None,
            usage: None,
            random: 0,
            unjudged: None,
        })
    };
    let mut m = queue(1, 1);
    m.policy.max_attempts = 1;
    m.handle(Input::Kick);
    let effects = run_once(&mut m, 1, 1);
    assert_eq!(notes(&effects), vec!["feature_failed".to_string()]);
    let mut m = queue(1, 1);
    m.handle(Input::Kick);
    let effects = run_once(&mut m, 1, 0);
    assert_eq!(notes(&effects), vec!["backlog_done".to_string()]);
    assert!(notes(&m.handle(Input::Kick)).is_empty(), "told once");
}
