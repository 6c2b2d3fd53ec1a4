//! The per-project daemon: the runtime in a process of its own, detached from any terminal,
//! which clients reach through the project's socket. `corral run --headless` is the same
//! thing in the foreground; `corral daemon start` starts it detached.

mod answer;
pub mod client;
mod log_file;
mod remote;

pub use answer::answer;
pub use client::{Client, ClientError};
pub use log_file::{LOG_LIMIT, keep_log_bounded, log_path};
pub use remote::Remote;

use crate::runtime::process::process_start_time;
use crate::runtime::store::state_dir;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `.corral/lock` says about the corral owning the project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LockInfo {
    pub pid: u32,
    /// The process's start time (clock ticks since boot), to tell it from a reused pid.
    pub start_time: Option<u64>,
    pub version: Option<String>,
    pub protocol: Option<u32>,
    pub socket: Option<PathBuf>,
}

impl LockInfo {
    /// Reads `.corral/lock`; `None` when there is none or it names nobody.
    pub fn read(project: &Path) -> Option<LockInfo> {
        let text = std::fs::read_to_string(state_dir(project).join("lock")).ok()?;
        let mut lines = text.lines();
        let mut first = lines.next()?.split_whitespace();
        let pid = first.next()?.parse().ok()?;
        let start_time = first.next().and_then(|t| t.parse().ok());
        let mut info = LockInfo {
            pid,
            start_time,
            version: None,
            protocol: None,
            socket: None,
        };
        for line in lines {
            match line.split_once('=') {
                Some(("version", v)) => info.version = Some(v.to_string()),
                Some(("protocol", v)) => info.protocol = v.parse().ok(),
                Some(("socket", v)) => info.socket = Some(PathBuf::from(v)),
                _ => {}
            }
        }
        Some(info)
    }

    /// Whether the process the lock names is still the one that wrote it (an exited one
    /// its parent has not reaped yet does not count).
    pub fn alive(&self) -> bool {
        if is_zombie(self.pid) {
            return false;
        }
        match (process_start_time(self.pid), self.start_time) {
            (Some(now), Some(then)) => now == then,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

/// Whether `pid` has exited and waits to be reaped (state `Z` in /proc/PID/stat).
fn is_zombie(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    stat.rfind(')')
        .and_then(|close| stat[close + 1..].split_whitespace().next())
        .is_some_and(|state| state == "Z")
}

/// The corral owning `project` now, as its lock file names it.
pub fn running(project: &Path) -> Option<LockInfo> {
    LockInfo::read(project).filter(LockInfo::alive)
}

/// How long `start` waits for the new daemon to answer.
pub const START_PATIENCE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(
        "a corral (pid {pid}, version {version}) already runs this project's agents \
         (`corral daemon stop` stops it)"
    )]
    AlreadyRunning { pid: u32, version: String },
    #[error("cannot start the corral daemon: {0}")]
    Spawn(std::io::Error),
    #[error(
        "the corral daemon did not answer within {secs} s; the end of {log}:\n{tail}",
        secs = START_PATIENCE.as_secs()
    )]
    NoAnswer { log: String, tail: String },
    #[error("no corral daemon runs for this project")]
    NotRunning,
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the corral daemon (pid {pid}) has not exited after {secs} s")]
    StillRunning { pid: u32, secs: u64 },
}

/// Starts the daemon of `project` detached (its own session, stdin from /dev/null, output to
/// `.corral/daemon.log`) and returns once it answers a hello.
pub fn start(project: &Path) -> Result<Client, DaemonError> {
    use std::os::unix::process::CommandExt;
    if let Some(info) = running(project) {
        return Err(DaemonError::AlreadyRunning {
            pid: info.pid,
            version: info.version.unwrap_or_else(|| "unknown".into()),
        });
    }
    crate::runtime::store::ensure_state_dir(project)
        .map_err(|e| DaemonError::Spawn(std::io::Error::other(e.to_string())))?;
    let log = log_path(project);
    log_file::rotate_if_large(&log);
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(DaemonError::Spawn)?;
    let err = out.try_clone().map_err(DaemonError::Spawn)?;
    let exe = std::env::current_exe().map_err(DaemonError::Spawn)?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("--project")
        .arg(project)
        .args(["run", "--headless"])
        .env(log_file::DAEMON_LOG_ENV, &log)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid(2) is async-signal-safe and allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid()?;
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(DaemonError::Spawn)?;
    let deadline = Instant::now() + START_PATIENCE;
    let mut pause = Duration::from_millis(10);
    loop {
        match Client::connect(project) {
            Ok(client) if client.daemon.pid == child.id() => {
                // This process may live on (a dashboard): it reaps the daemon when that exits,
                // so no zombie is left to look like a running daemon.
                std::thread::spawn(move || child.wait());
                return Ok(client);
            }
            Err(ClientError::Mismatch(m)) => return Err(ClientError::Mismatch(m).into()),
            _ => {}
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if exited || Instant::now() >= deadline {
            if !exited {
                // Not left running half-started behind the error.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(child.id() as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            return Err(DaemonError::NoAnswer {
                log: log.display().to_string(),
                tail: log_file::tail(&log, 20),
            });
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Asks the daemon of `project` to stop every agent (TERM, grace, KILL) and exit, and waits
/// until its process is gone. Returns its pid.
pub fn stop(project: &Path, patience: Duration) -> Result<u32, DaemonError> {
    let info = running(project).ok_or(DaemonError::NotRunning)?;
    let mut client = Client::connect(project)?;
    client.request(crate::api::Request::Command {
        command: crate::api::Command::Shutdown,
    })?;
    let deadline = Instant::now() + patience;
    while info.alive() {
        if Instant::now() >= deadline {
            return Err(DaemonError::StillRunning {
                pid: info.pid,
                secs: patience.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(info.pid)
}
