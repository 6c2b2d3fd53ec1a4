//! `.corral/daemon.log`: the detached daemon's stdout and stderr, kept under [`LOG_LIMIT`]
//! by moving it to `daemon.log.1` (one older file kept) when it grows past it.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Set by `corral daemon start` for the daemon it starts: where its output goes.
pub const DAEMON_LOG_ENV: &str = "CORRAL_DAEMON_LOG";
/// The most `daemon.log` holds before it is moved aside.
pub const LOG_LIMIT: u64 = 4 * 1024 * 1024;
/// How often a running daemon looks at its log's size.
const LOOK_EVERY: Duration = Duration::from_secs(30);

pub fn log_path(project: &Path) -> PathBuf {
    crate::runtime::store::state_dir(project).join("daemon.log")
}

/// Moves `log` to `log.1` when it holds more than [`LOG_LIMIT`]. True when it did.
pub(super) fn rotate_if_large(log: &Path) -> bool {
    let big = std::fs::metadata(log).is_ok_and(|m| m.len() > LOG_LIMIT);
    big && std::fs::rename(log, log.with_extension("log.1")).is_ok()
}

/// The last `lines` lines of `log`, or a word saying it could not be read.
pub(super) fn tail(log: &Path, lines: usize) -> String {
    match std::fs::read(log) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            let shown = all[all.len().saturating_sub(lines)..].join("\n");
            crate::core::printable::printable(&shown, true).into_owned()
        }
        Err(e) => format!("(cannot read it: {e})"),
    }
}

/// In a daemon started by `corral daemon start` (its output going to `daemon.log`): looks at
/// the log's size now and then and, past [`LOG_LIMIT`], moves it aside and points stdout and
/// stderr at a fresh one. Does nothing in a foreground `corral run --headless`.
pub fn keep_log_bounded() {
    let Some(log) = std::env::var_os(DAEMON_LOG_ENV).map(PathBuf::from) else {
        return;
    };
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let log = log.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if rotate_if_large(&log) {
                    reopen(&log);
                }
            })
            .await;
        }
    });
}

/// Points stdout and stderr at a fresh `log`.
fn reopen(log: &Path) {
    use std::os::fd::AsFd;
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    else {
        return;
    };
    let fd = file.as_fd();
    let _ = nix::unistd::dup2_stdout(fd);
    let _ = nix::unistd::dup2_stderr(fd);
    log::info!("daemon.log passed {LOG_LIMIT} bytes; the older part is in daemon.log.1");
}
