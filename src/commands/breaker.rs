//! `corral breaker list|close` and `corral scheduler pause|resume`: what the dashboard's `b`
//! and `space` do, for people running corral headless. While a corral runs the project, its
//! core owns breakers and the scheduler: the request goes to it, with one reply. Otherwise
//! `breaker close` applies the core's rule to the stored breaker (`runtime::stored`).

use super::backlog::{BacklogCommandError, Result, emit, emit_json, open_store};
use crate::api::Command;
use crate::api::{BreakerState, BreakerView};
use crate::cli::{BreakerCmd, SchedulerCmd};
use crate::runtime::store::Store;
use crate::runtime::{lock, now_ms};
use std::path::Path;

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
    let command = Command::CloseBreaker {
        account: account.to_string(),
    };
    match lock::acquire(project) {
        Ok(_lock) => {
            let mut store = store;
            crate::runtime::stored::apply(&mut store, command, now_ms())?;
            emit(&format!("{account}: closed"))
        }
        Err(lock::LockError::Held { holder, .. }) => {
            match super::daemon::ask_command(project, command) {
                Ok(super::daemon::Asked::Done { .. }) => said_stored(&store, account),
                Ok(super::daemon::Asked::NoDaemon) => Err(not_answering(&holder)),
                Err(reason) => Err(BacklogCommandError::Refused(reason)),
            }
        }
        Err(e) => Err(BacklogCommandError::Refused(e.to_string())),
    }
}

/// A corral holds the project's lock but does not answer on its socket.
fn not_answering(holder: &str) -> BacklogCommandError {
    BacklogCommandError::Refused(format!(
        "a corral (pid {holder}) runs this project but does not answer on its socket (starting \
         or stopping?); nothing changed, try again in a moment"
    ))
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

/// Runs one `corral scheduler` subcommand: only a running corral has a scheduler.
pub fn run_scheduler_command(project: &Path, cmd: &SchedulerCmd) -> Result<()> {
    open_store(project)?;
    let paused = matches!(cmd, SchedulerCmd::Pause);
    match lock::acquire(project) {
        Ok(_lock) => Err(BacklogCommandError::Refused(
            "no corral is running this project; its scheduler starts when corral does".into(),
        )),
        Err(lock::LockError::Held { holder, .. }) => {
            let command = Command::SetSchedulerPaused { paused };
            match super::daemon::ask_command(project, command) {
                Ok(super::daemon::Asked::Done { .. }) => emit(if paused {
                    "scheduler paused (running agents go on)"
                } else {
                    "scheduler resumed"
                }),
                Ok(super::daemon::Asked::NoDaemon) => Err(not_answering(&holder)),
                Err(reason) => Err(BacklogCommandError::Refused(reason)),
            }
        }
        Err(e) => Err(BacklogCommandError::Refused(e.to_string())),
    }
}
