//! A guard that stops the project's daemon however a test ends, so no daemon and no agent of
//! it outlives the test (a dashboard now starts a daemon that runs on after it).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// On drop: `corral daemon stop` for the project (agents get TERM, grace, KILL), then KILL
/// for a daemon that is still there.
pub struct StopsDaemon(pub PathBuf);

impl StopsDaemon {
    pub fn new(project: &Path) -> StopsDaemon {
        StopsDaemon(project.to_path_buf())
    }
}

impl Drop for StopsDaemon {
    fn drop(&mut self) {
        let _ = super::cli::corral(&self.0)
            .args(["daemon", "stop"])
            .timeout(Duration::from_secs(60))
            .output();
        if let Some(info) = corral::runtime::daemon::running(&self.0) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(info.pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
