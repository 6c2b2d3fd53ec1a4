//! `corral breaker list|close` and `corral scheduler pause|resume`: what the dashboard's `b`
//! and `space` do, for people running corral headless. While a corral runs the project, its
//! core owns breakers and the scheduler: the request goes through the control socket.

use super::backlog::{BacklogCommandError, Result, emit, emit_json, open_store};
use crate::api::Command;
use crate::api::{BreakerState, BreakerView};
use crate::cli::{BreakerCmd, SchedulerCmd};
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

/// One line about a breaker, for people.
pub fn describe(b: &BreakerView, now_ms: i64) -> String {
    let account = &b.account;
    match (b.state, b.until_ms) {
        (BreakerState::Closed, _) if b.failures == 0 => format!("{account}: closed"),
        (BreakerState::Closed, _) => format!(
            "{account}: closed, {} transient failure(s) in a row",
            b.failures
        ),
        (BreakerState::Open, _) if b.auth => format!(
            "{account}: open, credentials refused: log in again, then `corral breaker close {account}`"
        ),
        (BreakerState::Open, until) => {
            let secs = ((until.unwrap_or(now_ms) - now_ms).max(0) + 999) / 1000;
            format!("{account}: open, one probe may start in {secs}s")
        }
        (BreakerState::HalfOpen, _) => format!("{account}: half-open, one probe may run"),
    }
}

/// The stored breakers as views, by account.
fn views(store: &Store) -> Result<Vec<BreakerView>> {
    Ok(store
        .load_breakers()?
        .iter()
        .map(|(account, saved)| saved.state.view(account))
        .collect())
}

fn list(project: &Path, json: bool) -> Result<()> {
    let store = super::live::read_store(project)?;
    let breakers = views(&store)?;
    if json {
        let rows: Vec<serde_json::Value> = breakers.iter().map(breaker_json).collect();
        return emit_json(&rows);
    }
    if breakers.is_empty() {
        return emit("no breaker has been used yet: every account is closed");
    }
    let now = now_ms();
    let lines: Vec<String> = breakers.iter().map(|b| describe(b, now)).collect();
    emit(&lines.join("\n"))
}

/// A breaker as JSON: account, state, failures, until_ms (null: none or by hand), auth.
pub fn breaker_json(b: &BreakerView) -> serde_json::Value {
    serde_json::json!({
        "account": b.account,
        "state": b.state.as_str(),
        "failures": b.failures,
        "until_ms": b.until_ms,
        "auth": b.auth,
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
            match super::daemon::ask_command(project, command.clone()) {
                Ok(super::daemon::Asked::Done { .. }) => return said_stored(&store, account),
                Ok(super::daemon::Asked::NoDaemon) => {}
                Err(reason) => return Err(BacklogCommandError::Refused(reason)),
            }
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

/// How the breaker stands once the daemon has handled the close: a probe may already have
/// failed and opened it again.
fn said_stored(store: &Store, account: &str) -> Result<()> {
    let view = views(store)?.into_iter().find(|b| b.account == account);
    match view {
        Some(b) if b.state == BreakerState::Open => emit(&format!(
            "{account}: closed by hand, then opened again by a new failure: {}",
            describe(&b, now_ms())
        )),
        _ => emit(&format!("{account}: closed")),
    }
}

/// Waits (a bounded while) for the running corral to store the breaker again, then says how
/// it stands: a probe may already have failed and opened it again.
fn wait_stored(store: &Store, account: &str, before: Option<i64>) -> Result<()> {
    let deadline = Instant::now() + SETTLE;
    loop {
        if store.breaker_updated_at(account)? != before {
            let now = now_ms();
            let view = views(store)?.into_iter().find(|b| b.account == account);
            return match view {
                Some(b) if b.state == BreakerState::Open => emit(&format!(
                    "{account}: closed by hand, then opened again by a new failure: {}",
                    describe(&b, now)
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
            let command = Command::SetSchedulerPaused { paused };
            match super::daemon::ask_command(project, command.clone()) {
                Ok(super::daemon::Asked::Done { .. }) => {
                    return emit(if paused {
                        "scheduler paused (running agents go on)"
                    } else {
                        "scheduler resumed"
                    });
                }
                Ok(super::daemon::Asked::NoDaemon) => {}
                Err(reason) => return Err(BacklogCommandError::Refused(reason)),
            }
            if control::send(project, &command) {
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
