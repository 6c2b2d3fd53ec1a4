//! `corral daemon start|stop|restart|status`.

use crate::api::{DaemonInfo, Outcome, Request, View};
use crate::cli::DaemonCmd;
use crate::runtime::daemon::{self, Client, ClientError, DaemonError, LockInfo};
use crate::runtime::now_ms;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DaemonCommandError {
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{0}")]
    Refused(String),
    #[error("writing to stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, DaemonCommandError>;

/// How long `stop` waits for the daemon to end: agents get their grace period, then KILL.
const STOP_PATIENCE: Duration = Duration::from_secs(120);

pub fn run_daemon_command(project: &Path, cmd: &DaemonCmd) -> Result<()> {
    match cmd {
        DaemonCmd::Start => {
            let client = daemon::start(project)?;
            say(&format!(
                "corral daemon started: pid {}, version {}, log {}",
                client.daemon.pid,
                client.daemon.version,
                daemon::log_path(project).display()
            ))
        }
        DaemonCmd::Stop => {
            let live = live_runs(project);
            let pid = daemon::stop(project, STOP_PATIENCE)?;
            say(&format!(
                "corral daemon (pid {pid}) stopped{}",
                live.map_or(String::new(), |n| format!(" with its {n} running agent(s)"))
            ))
        }
        DaemonCmd::Restart { now } => {
            if daemon::running(project).is_some() {
                if !now {
                    wait_for_agents(project)?;
                }
                let pid = daemon::stop(project, STOP_PATIENCE)?;
                say(&format!("corral daemon (pid {pid}) stopped"))?;
            }
            let client = daemon::start(project)?;
            say(&format!(
                "corral daemon started: pid {}, version {}",
                client.daemon.pid, client.daemon.version
            ))
        }
        DaemonCmd::Reload => reload(project),
        DaemonCmd::Status { json } => status(project, *json),
    }
}

/// Pauses the daemon's scheduler and waits until none of its agents runs any more.
fn wait_for_agents(project: &Path) -> Result<()> {
    let paused = crate::api::Command::SetSchedulerPaused { paused: true };
    if let Err(reason) = ask_command(project, paused) {
        return Err(DaemonCommandError::Refused(reason));
    }
    let mut told = None;
    loop {
        let live = ask_status(project)?.live_runs;
        if live == 0 {
            return Ok(());
        }
        if told != Some(live) {
            say(&format!(
                "scheduler paused; waiting for {live} running agent(s) to finish \
                 (`corral daemon restart --now` stops them instead)"
            ))?;
            told = Some(live);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Asks the daemon to read corral.toml again; an error when it kept the old config.
fn reload(project: &Path) -> Result<()> {
    match ask_command(project, crate::api::Command::ReloadConfig) {
        Ok(Asked::Done { .. }) => {}
        Ok(Asked::NoDaemon) => return Err(DaemonError::NotRunning.into()),
        Err(reason) => return Err(DaemonCommandError::Refused(reason)),
    }
    match ask_status(project)?.config_error {
        None => say("corral.toml reloaded"),
        Some(error) => Err(DaemonCommandError::Refused(format!(
            "corral.toml not applied, the daemon keeps the config it had: {error}"
        ))),
    }
}

fn say(text: &str) -> Result<()> {
    Ok(super::output::print_text(text)?)
}

/// How many agents the daemon runs now, when it answers.
fn live_runs(project: &Path) -> Option<usize> {
    match ask_status(project) {
        Ok(info) => Some(info.live_runs),
        Err(_) => None,
    }
}

fn ask_status(project: &Path) -> Result<DaemonInfo> {
    let mut client = Client::connect(project)?;
    match client.request(Request::Status)? {
        Outcome::Done {
            view: Some(View::Daemon { daemon }),
        } => Ok(daemon),
        Outcome::Refused { reason, .. } => Err(DaemonCommandError::Refused(reason)),
        other => Err(DaemonCommandError::Refused(format!(
            "unexpected reply: {other:?}"
        ))),
    }
}

#[derive(serde::Serialize)]
struct StatusJson {
    running: bool,
    /// What `.corral/lock` names (also when the process has gone).
    lock: Option<LockInfo>,
    /// What the daemon itself says, when it answers.
    daemon: Option<DaemonInfo>,
    uptime_ms: Option<i64>,
}

fn status(project: &Path, json: bool) -> Result<()> {
    let lock = LockInfo::read(project);
    let running = lock.as_ref().is_some_and(LockInfo::alive);
    let daemon = running.then(|| ask_status(project).ok()).flatten();
    let uptime_ms = daemon.as_ref().map(|d| now_ms() - d.started_at_ms);
    if json {
        return Ok(super::output::print_json(&StatusJson {
            running,
            lock,
            daemon,
            uptime_ms,
        })?);
    }
    let Some(lock) = lock.filter(|_| running) else {
        return say("no corral daemon runs for this project (`corral daemon start` starts one)");
    };
    let version = lock.version.as_deref().unwrap_or("unknown");
    let protocol = lock.protocol.map_or("unknown".into(), |p| p.to_string());
    let mut text = format!(
        "corral daemon running: pid {}, version {version}, protocol {protocol}",
        lock.pid
    );
    match &daemon {
        Some(d) => text.push_str(&format!(
            ", up {}, {} agent(s) running, {} client(s) attached",
            crate::config::format_duration(Duration::from_millis(
                uptime_ms.unwrap_or(0).max(0) as u64 / 1000 * 1000
            )),
            d.live_runs,
            // This status request is one of them.
            d.clients.saturating_sub(1)
        )),
        None => text.push_str(" (it does not answer on its socket now)"),
    }
    if let Some(d) = &daemon {
        if let Some(why) = &d.paused {
            text.push_str(&format!("\nscheduler paused: {why}"));
        }
        if let Some(error) = &d.config_error {
            text.push_str(&format!("\ncorral.toml not applied: {error}"));
        }
    }
    if let Some(socket) = &lock.socket {
        text.push_str(&format!("\nsocket {}", socket.display()));
    }
    say(&text)
}

/// What asking the daemon to carry out a command came to.
pub(super) enum Asked {
    /// No daemon answers on the socket (none runs, or one too old to speak the protocol).
    NoDaemon,
    /// The core has handled it; `view` is what it left (the job, the run), if anything.
    Done { pid: u32, view: Option<View> },
}

/// Sends `command` to the running daemon and waits for its one reply. A refusal (and a
/// daemon of another protocol) is an error with the daemon's reason.
pub(super) fn ask_command(
    project: &Path,
    command: crate::api::Command,
) -> std::result::Result<Asked, String> {
    let mut client = match Client::connect(project) {
        Ok(c) => c,
        Err(ClientError::Connect { .. } | ClientError::Closed) => return Ok(Asked::NoDaemon),
        Err(e) => return Err(e.to_string()),
    };
    match client.request(Request::Command { command }) {
        Ok(Outcome::Done { view }) => Ok(Asked::Done {
            pid: client.daemon.pid,
            view,
        }),
        Ok(Outcome::Refused { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
    }
}
