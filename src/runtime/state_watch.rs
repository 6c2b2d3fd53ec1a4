//! `.corral/` deleted (or its files replaced) under a running corral: the lock file, the
//! database, the control socket and the open run logs are made again from what this corral
//! holds, and it says so. A second corral cannot start meanwhile: the project directory itself
//! stays locked (see `lock`).

use super::control;
use super::supervisor::Supervisor;
use crate::api::Event;
use crate::core::Input;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the state files are looked at while nothing else wakes the loop.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// (device, inode) of each state file, or `None` where it is missing.
fn ids(files: &[PathBuf]) -> Vec<Option<(u64, u64)>> {
    use std::os::unix::fs::MetadataExt;
    files
        .iter()
        .map(|p| {
            std::fs::symlink_metadata(p)
                .ok()
                .map(|m| (m.dev(), m.ino()))
        })
        .collect()
}

/// Wakes the supervisor whenever a state file changes identity. Only stats files: the loop
/// itself is woken only when something changed.
pub(super) fn watch(project: &Path, tx: mpsc::UnboundedSender<Input>) {
    let dir = super::store::state_dir(project);
    let files = vec![
        dir.join("lock"),
        dir.join("corral.db"),
        control::socket_path(project),
        dir.join("runs"),
    ];
    tokio::spawn(async move {
        let mut seen = ids(&files);
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let now = ids(&files);
            if now != seen {
                seen = now;
                if tx.send(Input::Kick).is_err() {
                    return;
                }
            }
        }
    });
}

impl Supervisor {
    /// Makes again whatever state file went missing; says so on every screen and in the log.
    pub(super) fn check_state_files(&mut self) -> Vec<Input> {
        let mut said = Vec::new();
        let mut inputs = Vec::new();
        match self.lock.relink(&self.project) {
            Ok(Some(s)) => said.push(s),
            Ok(None) => {}
            Err(e) => said.push(format!("could not make the lock file again: {e}")),
        }
        match self.store.relink() {
            Ok(Some(s)) => said.push(s),
            Ok(None) => {}
            Err(e) => {
                said.push(format!("could not write the database again: {e}"));
                inputs.extend(self.storage_failed(&e));
            }
        }
        if self.control.as_ref().is_some_and(control::Listening::gone)
            && let Some(old) = self.control.take()
        {
            let served = old.served.clone();
            drop(old);
            match control::listen(&self.project, served) {
                Ok(listening) => {
                    self.control = Some(listening);
                    said.push("the control socket was deleted; listening again".into());
                }
                Err(e) => said.push(format!("control socket: {e}")),
            }
        }
        // Looking at every open log costs a stat each: only when something is known gone.
        if !said.is_empty() || !self.runs_dir.is_dir() {
            let _ = super::store::ensure_state_dir(&self.project);
            let logs = self.logs.relink_files();
            if logs > 0 {
                said.push(format!("{logs} open run log(s) written again"));
            }
        }
        if !said.is_empty() {
            let text = format!("state in .corral/ went missing: {}", said.join("; "));
            log::error!("{text}");
            self.model.notice = Some(text.clone());
            self.logs.announce(Event::Notice { text });
        }
        inputs
    }
}
