//! `corral run --headless`: the same supervisor and scheduler without a dashboard, printing
//! one line per event, for CI, scripts and servers without a terminal.

use crate::api::{Command, Event, FeatureId, FeatureStatus, Role, Snapshot};
use crate::config::Config;
use crate::core::waiting::{LoginWait, waiting_for_logins};
use crate::runtime::{self, RuntimeOptions};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use tokio::sync::broadcast::error::RecvError;

use super::dashboard::DashboardError;

/// How a headless run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadlessEnd {
    /// Every feature passes (only with `until_done`).
    AllPassing,
    /// Nothing more can happen: some features failed (only with `until_done`).
    Stuck,
    /// A signal stopped it.
    Signal(i32),
}

fn clock() -> String {
    let now = jiff::Zoned::now();
    now.strftime("%H:%M:%S").to_string()
}

/// Prints one event line. Names, errors and notices in it are escaped, newlines included, so
/// one event stays one line and nothing in it can drive the terminal.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let line = crate::core::printable::printable(line, false);
    // A closed stdout (`| head`) must not stop the agents' supervisor.
    let _ = writeln!(out, "{} {line}", clock());
    let _ = out.flush();
}

/// "coding (profile) #3 Name", from what a run's start event says.
fn describe(role: Role, profile: &str, feature: Option<FeatureId>, snap: &Snapshot) -> String {
    let name = feature
        .and_then(|id| snap.features.iter().find(|f| f.id == id))
        .map_or(String::new(), |f| format!(" {}", f.name));
    let id = feature.map_or(String::new(), |f| format!(" #{f}"));
    format!("{role} ({profile}){id}{name}")
}

/// True when no work is live and no feature can be started any more. An empty backlog is
/// stuck only once an initializer (if there is one) has had its turn.
fn stuck(s: &Snapshot, max_attempts: u32) -> bool {
    let live = s.runs.iter().any(|r| r.state.is_live());
    if s.features.is_empty() {
        let has_initializer = s
            .profiles
            .iter()
            .any(|p| p.enabled && p.role == Role::Initializer);
        let initializer_ran = s
            .runs
            .iter()
            .any(|r| r.role == Role::Initializer && !r.state.is_live());
        return !live && (!has_initializer || initializer_ran);
    }
    let startable = s.features.iter().any(|f| match f.status {
        FeatureStatus::Ready | FeatureStatus::InProgress => true,
        FeatureStatus::Failing => f.attempts < max_attempts && f.blocked_by.is_empty(),
        _ => false,
    });
    !live && !startable && !s.scheduler_paused
}

/// The recorded costs reached `[budget] usd`.
fn budget_spent(s: &Snapshot) -> bool {
    s.totals
        .budget_micros
        .is_some_and(|b| s.totals.usage.cost_micros.unwrap_or(0) >= b)
}

/// Runs the project's agents until a signal, or with `until_done` until every feature passes
/// (or nothing more can happen).
pub fn run_headless(project: &Path, until_done: bool) -> Result<HeadlessEnd, DashboardError> {
    let config = Config::load(project)?;
    let max_attempts = config.scheduler.max_attempts;
    // Profiles whose permission requests are denied by themselves after `deny_after`.
    let self_answering: Vec<String> = config
        .profiles
        .values()
        .filter(|p| p.deny_after.is_some())
        .map(|p| p.name.clone())
        .collect();
    let report = crate::config::start_report(&config, project, std::env::var_os("PATH").as_deref());
    super::dashboard::tokio_runtime()?.block_on(async move {
        let (handle, supervisor) = runtime::start(RuntimeOptions {
            project: project.to_path_buf(),
            ring_lines: config.logs.ring_lines,
            config,
        })?;
        // Started by `corral daemon start`: its output file is kept bounded.
        runtime::daemon::keep_log_bounded();
        let stopped_by = Arc::new(AtomicI32::new(0));
        super::dashboard::spawn_signal_watch(handle.clone(), stopped_by.clone());
        // Nothing here shows per-run figures: they are read only while a dashboard subscribes.
        handle.sample_only_while_watched();
        let mut events = handle.subscribe_without_logs();
        let mut snapshots = handle.snapshots();
        let mut statuses: HashMap<crate::api::FeatureId, FeatureStatus> = HashMap::new();
        let mut queue = QueueWatch::default();
        let mut end = None;
        // What each run is, from its start event (a snapshot may not show it yet).
        let mut runs: HashMap<crate::api::RunId, String> = HashMap::new();
        say(&format!("corral: running {} headless", project.display()));
        for line in &report {
            say(&format!("corral: {line}"));
        }
        let swept = handle.swept().clone();
        if !swept.lost.is_empty() {
            say(&format!("corral: {}", describe_swept(&swept)));
        }
        let mut last;
        loop {
            let snap = snapshots.borrow_and_update().clone();
            last = snap.clone();
            for f in &snap.features {
                if statuses.insert(f.id, f.status) != Some(f.status) {
                    say(&format!("feature {} {}: {}", f.id, f.name, f.status.as_str().replace('_', " ")));
                }
            }
            queue.report(&snap);
            if snap.shut_down {
                break;
            }
            if until_done && end.is_none() && let Some(why) = &snap.paused_reason {
                // A script waiting for a person would wait for ever: say why, and stop.
                say(&format!(
                    "corral: scheduler paused: {why}; nothing starts until a person resumes it \
                     (`resume_after_crash = true` in [scheduler] goes on at once)"
                ));
                end = Some(HeadlessEnd::Stuck);
                handle.send(Command::Shutdown);
            }
            if until_done && end.is_none() {
                let all = !snap.features.is_empty() && snap.features.iter().all(|f| f.status == FeatureStatus::Passing);
                if !all && budget_spent(&snap) && !snap.runs.iter().any(|r| r.state.is_live()) {
                    say("corral: the budget is spent and nothing runs; stopping");
                    end = Some(HeadlessEnd::Stuck);
                    handle.send(Command::Shutdown);
                } else if all || stuck(&snap, max_attempts) {
                    end = Some(if all { HeadlessEnd::AllPassing } else { HeadlessEnd::Stuck });
                    handle.send(Command::Shutdown);
                } else if let Some(waits) = crate::core::waiting::waiting_for_people(&snap, &self_answering) {
                    // Nobody will answer here: stopped as when corral quits (its feature back to
                    // pending, no attempt spent), saying what each asked.
                    for (run, feature, what) in &waits {
                        let on = feature.map_or(String::new(), |f| format!(" (feature {f})"));
                        say(&format!("corral: nothing more can run without you: run {run}{on} waited for: {what}"));
                    }
                    end = Some(HeadlessEnd::Stuck);
                    handle.send(Command::Shutdown);
                } else if let Some(waits) = waiting_for_logins(&snap).filter(|_| !snap.scheduler_paused) {
                    // Only a person can go on from here: say what for, and stop.
                    for w in &waits {
                        say(&format!("corral: nothing more can run without you: {}", describe_wait(w)));
                    }
                    end = Some(HeadlessEnd::Stuck);
                    handle.send(Command::Shutdown);
                }
            }
            tokio::select! {
                changed = snapshots.changed() => if changed.is_err() { break },
                ev = events.recv() => match ev {
                    Ok(Event::RunStarted { run, feature, role, profile, pid }) => {
                        let what = describe(role, &profile, feature, &snapshots.borrow());
                        say(&format!("run {run} started: {what} pid {pid}"));
                        runs.insert(run, what);
                    }
                    Ok(Event::RunEnded { run, state }) => {
                        let what = runs.remove(&run).unwrap_or_default();
                        say(&format!("run {run} ended: {} {what}", crate::core::describe_end(state)));
                    }
                    Ok(Event::Notice { text }) => say(&format!("notice: {text}")),
                    Ok(Event::Notify { title, body, .. }) => say(&format!("{title}: {body}")),
                    Ok(Event::Log(_)) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                },
            }
        }
        let _ = supervisor.await;
        if until_done {
            say(&closing_line(&last, &swept));
        }
        let signal = stopped_by.load(Ordering::SeqCst);
        Ok(match (signal, end) {
            (0, Some(end)) => end,
            (0, None) => HeadlessEnd::Signal(0),
            (s, _) => HeadlessEnd::Signal(s),
        })
    })
}

/// "features 1, 2 wait for a login on account claude: run `claude` and type /login (without a
/// dashboard: `corral breaker close claude` once logged in)".
fn describe_wait(w: &LoginWait) -> String {
    // The verb agrees with its subject: "feature 1 waits", "features 1, 2 wait".
    let what = match w.features.as_slice() {
        [] if w.jobs == 1 => "1 job waits".to_string(),
        [] => format!("{} jobs wait", w.jobs),
        [one] => format!("feature {one} waits"),
        many => {
            let ids: Vec<String> = many.iter().map(|f| f.to_string()).collect();
            format!("features {} wait", ids.join(", "))
        }
    };
    let hint = w
        .hint
        .as_deref()
        .map(|h| h.trim_end_matches(", then press b"))
        .unwrap_or("log in again");
    format!(
        "{what} for a login on account {}: {hint}, then `corral breaker close {}`",
        w.account, w.account
    )
}

/// "runs 4, 5 of an earlier corral recorded lost; leftover processes of run 4 killed".
fn describe_swept(swept: &runtime::Swept) -> String {
    let ids = |runs: &[crate::api::RunId]| {
        runs.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!(
        "run(s) {} of an earlier corral recorded lost",
        ids(&swept.lost)
    );
    if !swept.killed.is_empty() {
        text.push_str(&format!(
            "; leftover processes of run(s) {} killed",
            ids(&swept.killed)
        ));
    }
    text
}

/// The last word of `--until-done`: how many features pass, which failed, which wait for a
/// person, and what a restart cleaned up.
fn closing_line(s: &Snapshot, swept: &runtime::Swept) -> String {
    let passing = s
        .features
        .iter()
        .filter(|f| f.status == FeatureStatus::Passing)
        .count();
    let mut parts = vec![format!(
        "corral: finished: {passing}/{} features passing",
        s.features.len()
    )];
    let failed: Vec<String> = s
        .features
        .iter()
        .filter(|f| f.status == FeatureStatus::Failed)
        .map(|f| format!("#{} {}", f.id, f.name))
        .collect();
    if !failed.is_empty() {
        parts.push(format!("failed: {}", failed.join(", ")));
    }
    if let Some(waits) = waiting_for_logins(s) {
        let held: Vec<String> = waits
            .iter()
            .map(|w| {
                let ids: Vec<String> = w.features.iter().map(|f| format!("#{f}")).collect();
                format!("{} (login on {})", ids.join(", "), w.account)
            })
            .collect();
        parts.push(format!("waiting: {}", held.join(", ")));
    }
    if !swept.lost.is_empty() {
        parts.push(describe_swept(swept));
    }
    parts.join("; ")
}

/// Says when a job or an account's breaker changes, so a headless log shows retries, backoffs
/// and waits as they happen.
#[derive(Default)]
struct QueueWatch {
    jobs: HashMap<crate::api::JobId, (crate::api::JobState, u32, u32)>,
    breakers: HashMap<String, (crate::api::BreakerState, Option<i64>)>,
    spent: crate::api::Usage,
}

impl QueueWatch {
    fn report(&mut self, snap: &Snapshot) {
        use crate::api::{BreakerState, JobState, Usage};
        for j in &snap.jobs {
            let key = (j.state, j.attempt, j.transient_attempts);
            if self.jobs.insert(j.id, key) == Some(key) {
                continue;
            }
            let feature = j.feature.map_or(String::new(), |f| format!(" #{f}"));
            let error = j
                .last_error
                .as_deref()
                .map_or(String::new(), |e| format!(": {e}"));
            let detail = match j.state {
                JobState::Running => format!(" (attempt {}/{})", j.attempt, j.max_attempts),
                JobState::Backoff => format!(
                    " until {} (transient {}/{}){error}",
                    j.available_at_ms.map_or("?".into(), clock_at),
                    j.transient_attempts,
                    j.transient_budget
                ),
                JobState::Done => String::new(),
                _ => error,
            };
            say(&format!(
                "job {} {}{feature}: {}{detail}",
                j.id,
                j.role,
                j.state.as_str()
            ));
        }
        let spent = snap.totals.usage;
        let over = snap
            .totals
            .budget_micros
            .is_some_and(|b| spent.cost_micros.unwrap_or(0) >= b);
        if over && self.spent.cost_micros < spent.cost_micros && snap.scheduler_paused {
            say("corral: the budget is spent; `corral scheduler resume` goes on anyway");
        }
        if spent != self.spent {
            self.spent = spent;
            let cost = spent.cost_micros.map_or("no cost reported".into(), |c| {
                let budget = snap.totals.budget_micros;
                let of = budget.map_or(String::new(), |b| format!(" of {}", Usage::format_usd(b)));
                format!("{}{of}", Usage::format_usd(c))
            });
            say(&format!(
                "spent {cost}: {} tokens in, {} out, {} cache read, {} cache write",
                spent.input_tokens,
                spent.output_tokens,
                spent.cache_read_tokens,
                spent.cache_write_tokens
            ));
        }
        for b in &snap.breakers {
            let key = (b.state, b.until_ms);
            let before = self.breakers.insert(b.account.clone(), key);
            if before == Some(key) || (before.is_none() && b.state == BreakerState::Closed) {
                continue;
            }
            let text = match (b.state, b.until_ms) {
                (BreakerState::Open, Some(t)) => format!("breaker open until {}", clock_at(t)),
                (BreakerState::Open, None) => format!(
                    "breaker open: credentials refused; {} (without a dashboard: `corral breaker close {}`)",
                    b.login_hint.as_deref().unwrap_or("log in again"),
                    b.account
                ),
                (BreakerState::HalfOpen, _) => "breaker half-open: one probe may run".into(),
                (BreakerState::Closed, _) => "breaker closed".into(),
            };
            say(&format!("account {}: {text}", b.account));
        }
    }
}

/// A moment (ms since the epoch) as local `HH:MM:SS`.
fn clock_at(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::FeatureId;

    fn wait(features: &[i64], jobs: usize) -> String {
        describe_wait(&LoginWait {
            account: "claude".into(),
            hint: None,
            features: features.iter().map(|f| FeatureId(*f)).collect(),
            jobs,
        })
    }

    #[test]
    fn the_verb_agrees_with_how_many_wait() {
        assert!(wait(&[1], 1).starts_with("feature 1 waits for a login on account claude"));
        assert!(wait(&[1, 2], 2).starts_with("features 1, 2 wait for a login"));
        assert!(wait(&[], 1).starts_with("1 job waits for a login"));
        assert!(wait(&[], 3).starts_with("3 jobs wait for a login"));
    }
}
