//! `corral` and `corral demo`: start the runtime and run the dashboard in the terminal.

use crate::api::Command;
use crate::config::{Config, ConfigError};
use crate::runtime::{self, RuntimeOptions, StartError};
use crate::ui::{self, theme::Theme};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot start the async runtime: {0}")]
    Tokio(std::io::Error),
    #[error("the dashboard needs a terminal{0} (for a non-interactive view use `corral status`)")]
    Terminal(String),
}

pub struct DashboardOptions {
    pub project: PathBuf,
    pub theme: Theme,
}

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// The signal (SIGTERM, SIGHUP, SIGINT) that stopped corral, if one did.
    pub signal: Option<i32>,
}

/// Loads the project's config, takes the terminal, starts the supervisor, and runs the
/// dashboard until quit. Nothing starts unless all of that works, and every agent is stopped
/// before this returns, whichever way the dashboard ended.
pub fn open_dashboard(opts: DashboardOptions) -> Result<Ended, DashboardError> {
    let config = Config::load(&opts.project)?;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(DashboardError::Terminal(
            ": stdin or stdout is not a terminal".into(),
        ));
    }
    tokio_runtime()?.block_on(async move {
        let mut terminal =
            ratatui::try_init().map_err(|e| DashboardError::Terminal(format!(": {e}")))?;
        let (handle, supervisor) = match runtime::start(RuntimeOptions {
            project: opts.project.clone(),
            // `[logs] ring_lines` from corral.toml (10,000 when left out).
            ring_lines: config.logs.ring_lines,
            config,
        }) {
            Ok(started) => started,
            Err(e) => {
                ratatui::restore();
                return Err(e.into());
            }
        };
        stop_agents_on_panic();
        log::info!("dashboard opened on {}", opts.project.display());
        let stopped_by = Arc::new(AtomicI32::new(0));
        spawn_signal_watch(handle.clone(), stopped_by.clone());
        let result = ui::run(&mut terminal, handle.clone(), opts.theme).await;
        ratatui::restore();
        if let Err(e) = &result {
            log::error!("dashboard ended: {e}");
        }
        // Whatever ended the UI, no agent may outlive corral.
        handle.send(Command::Shutdown);
        let _ = supervisor.await;
        result.map_err(|e| DashboardError::Terminal(format!(": {e}")))?;
        let signal = stopped_by.load(Ordering::SeqCst);
        Ok(Ended {
            signal: (signal != 0).then_some(signal),
        })
    })
}

/// The async runtime corral's supervisor runs on: two workers are plenty for a supervisor
/// that mostly waits, and leave the machine's cores to the agents.
pub(super) fn tokio_runtime() -> Result<tokio::runtime::Runtime, DashboardError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(DashboardError::Tokio)
}

/// After the terminal-restoring hook (and the error report) has run, stop every agent: a
/// crashed corral must not leave agents working unsupervised.
fn stop_agents_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        runtime::process::stop_all_groups_now(std::time::Duration::from_secs(3));
    }));
}

/// SIGTERM, SIGHUP (the SSH link dropped) and SIGINT stop every agent; the dashboard then sees
/// the shutdown and exits, restoring the terminal.
pub(super) fn spawn_signal_watch(handle: runtime::RuntimeHandle, stopped_by: Arc<AtomicI32>) {
    use tokio::signal::unix::{SignalKind, signal};
    for kind in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
    ] {
        let handle = handle.clone();
        let stopped_by = stopped_by.clone();
        match signal(kind) {
            Ok(mut stream) => {
                tokio::spawn(async move {
                    if stream.recv().await.is_some() {
                        log::warn!("signal {kind:?} received: stopping every agent");
                        stopped_by.store(kind.as_raw_value(), Ordering::SeqCst);
                        handle.send(Command::Shutdown);
                    }
                });
            }
            Err(e) => log::error!("cannot watch {kind:?}: {e}"),
        }
    }
}
