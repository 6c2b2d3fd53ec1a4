//! `corral breaker list|close` and `corral scheduler pause|resume`: what the dashboard's `b`
//! and `space` do, for people running corral headless. While a corral runs the project, its
//! core owns breakers and the scheduler: the request goes through the control socket.

use super::backlog::{BacklogCommandError, Result, emit, open_store};
use crate::api::Command;
use crate::cli::{BreakerCmd, SchedulerCmd};
use crate::core::breaker::{Saved, State};
use crate::runtime::store::Store;
use crate::runtime::{control, lock, now_ms};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long `breaker close` sent to a running corral waits for the store to show it.
const SETTLE: Duration = Duration::from_secs(3);

/// Runs one `corral breaker` subcommand on `project`.
pub fn run_breaker_command(project: &Path, cmd: &BreakerCmd) -> Result<()> {
    match cmd {
        BreakerCmd::List { json } => list(project, *json),
        BreakerCmd::Close { account } => close(project, account),
    }
}

/// One line about a stored breaker, for people.
pub fn describe(account: &str, saved: &Saved, now_ms: i64) -> String {
    match saved.state {
        State::Closed { failures: 0 } => format!("{account}: closed"),
        State::Closed { failures } => {
            format!("{account}: closed, {failures} transient failure(s) in a row")
        }
        State::Open { until_ms, .. } if until_ms == i64::MAX => format!(
            "{account}: open, credentials refused: log in again, then `corral breaker close {account}`"
        ),
        State::Open { until_ms, .. } => {
            let secs = ((until_ms - now_ms).max(0) + 999) / 1000;
            format!("{account}: open, one probe may start in {secs}s")
        }
        State::HalfOpen { .. } => format!("{account}: half-open, one probe may run"),
    }
}

fn list(project: &Path, json: bool) -> Result<()> {
    let store = open_store(project)?;
    let breakers = store.load_breakers()?;
    if json {
        let rows: Vec<serde_json::Value> = breakers
            .iter()
            .map(|(account, saved)| breaker_json(account, saved))
            .collect();
        return emit(&serde_json::to_string_pretty(&rows).unwrap_or_default());
    }
    if breakers.is_empty() {
        return emit("no breaker has been used yet: every account is closed");
    }
    let now = now_ms();
    let lines: Vec<String> = breakers
        .iter()
        .map(|(account, saved)| describe(account, saved, now))
        .collect();
    emit(&lines.join("\n"))
}

/// A stored breaker as JSON: account, state, failures, until_ms (null: none or by hand), auth.
pub fn breaker_json(account: &str, saved: &Saved) -> serde_json::Value {
    let (state, failures, until, auth) = match saved.state {
        State::Closed { failures } => ("closed", failures, None, false),
        State::Open { until_ms, .. } if until_ms == i64::MAX => ("open", 0, None, true),
        State::Open { until_ms, .. } => ("open", 0, Some(until_ms), false),
        State::HalfOpen { .. } => ("half_open", 0, None, false),
    };
    serde_json::json!({
        "account": account,
        "state": state,
        "failures": failures,
        "until_ms": until,
        "auth": auth,
    })
}

fn close(project: &Path, account: &str) -> Result<()> {
    let store = open_store(project)?;
    let stored = store.breaker_updated_at(account)?;
    if stored.is_none() {
        // Never opened: closed already, if the account exists at all.
        let config = crate::config::Config::load(project)?;
        let mut accounts: Vec<&str> = config
            .profiles
            .values()
            .map(|p| p.account.as_str())
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        if !accounts.contains(&account) {
            return Err(BacklogCommandError::Refused(format!(
                "no account {account:?} in corral.toml (accounts: {})",
                accounts.join(", ")
            )));
        }
        return emit(&format!("{account}: closed (it has not opened)"));
    }
    match lock::acquire(project) {
        Ok(_lock) => {
            store.close_breaker(account, now_ms())?;
            emit(&format!("{account}: closed"))
        }
        Err(lock::LockError::Held { .. }) => {
            let command = Command::CloseBreaker {
                account: account.to_string(),
            };
            if !control::send(project, &command) {
                return Err(BacklogCommandError::Refused(
                    "a corral runs this project but its control socket does not answer; try again"
                        .into(),
                ));
            }
            wait_stored(&store, account, stored)
        }
        Err(e) => Err(BacklogCommandError::Refused(e.to_string())),
    }
}

/// Waits (a bounded while) for the running corral to store the breaker again, then says how
/// it stands: a probe may already have failed and opened it again.
fn wait_stored(store: &Store, account: &str, before: Option<i64>) -> Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        if store.breaker_updated_at(account)? != before {
            let now = now_ms();
            let state = store
                .load_breakers()?
                .into_iter()
                .find(|(a, _)| a == account)
                .map(|(_, s)| s);
            return match state {
                Some(saved) if matches!(saved.state, State::Open { .. }) => emit(&format!(
                    "{account}: closed by hand, then opened again by a new failure: {}",
                    describe(account, &saved, now)
                )),
                _ => emit(&format!("{account}: closed")),
            };
        }
        if Instant::now() >= deadline {
            // Closing a closed breaker stores nothing: say how it stands.
            return emit(&format!("{account}: closed (nothing to close)"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs one `corral scheduler` subcommand: only a running corral has a scheduler.
pub fn run_scheduler_command(project: &Path, cmd: &SchedulerCmd) -> Result<()> {
    open_store(project)?;
    let paused = matches!(cmd, SchedulerCmd::Pause);
    match lock::acquire(project) {
        Ok(_lock) => Err(BacklogCommandError::Refused(
            "no corral is running this project; its scheduler starts when corral does".into(),
        )),
        Err(lock::LockError::Held { .. }) => {
            if control::send(project, &Command::SetSchedulerPaused { paused }) {
                emit(if paused {
                    "scheduler paused (running agents go on)"
                } else {
                    "scheduler resumed"
                })
            } else {
                Err(BacklogCommandError::Refused(
                    "a corral runs this project but its control socket does not answer".into(),
                ))
            }
        }
        Err(e) => Err(BacklogCommandError::Refused(e.to_string())),
    }
}
