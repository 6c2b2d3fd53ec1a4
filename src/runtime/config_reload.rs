//! Taking a changed corral.toml into use without a restart: `corral daemon reload` asks for
//! it, and a change to the file is noticed by looking at it every two seconds. A file that
//! does not load changes nothing: the config before it stays, and the error is shown (the
//! notice, the header, corral's log and `corral daemon status`) until a good one loads.

use super::model_config::{build_classifiers, configure_model};
use super::supervisor::Supervisor;
use crate::api::Command;
use crate::config::Config;
use crate::core::Input;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// How often corral.toml is looked at.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// What tells one version of the file from the next: its modification time and size.
fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Asks the supervisor to reload whenever corral.toml's time or size changes.
pub(super) fn watch(project: &Path, tx: mpsc::UnboundedSender<Input>) {
    let file: PathBuf = project.join("corral.toml");
    tokio::spawn(async move {
        let mut seen = stamp(&file);
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let now = stamp(&file);
            if now != seen {
                seen = now;
                log::info!("{} changed: reloading it", file.display());
                if tx.send(Input::Command(Command::ReloadConfig)).is_err() {
                    return;
                }
            }
        }
    });
}

impl Supervisor {
    /// Loads corral.toml again and takes it into use, or keeps the config in use and says
    /// why the new one was refused. What was fixed at start (the output ring's size, the
    /// redaction patterns) waits for a restart.
    pub(super) fn reload_config(&mut self) {
        match Config::load(&self.project) {
            Ok(config) => {
                self.config = config;
                configure_model(&mut self.model, &self.config, &self.project);
                self.classifiers = build_classifiers(&self.config);
                self.config_error = None;
                log::info!("corral.toml reloaded");
                self.model.notice = Some("corral.toml reloaded".into());
            }
            Err(e) => {
                let text = e.to_string();
                log::error!("corral.toml not applied, the config before it stays: {text}");
                self.model.notice = Some(format!("corral.toml not applied: {text}"));
                self.config_error = Some(text);
            }
        }
    }
}
