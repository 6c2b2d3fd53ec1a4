//! `corral` and `corral demo`: start the runtime and run the dashboard in the terminal.

use crate::api::Command;
use crate::config::{Config, ConfigError};
use crate::runtime::store::StoreError;
use crate::runtime::{self, RuntimeOptions, capture::DEFAULT_RING_LINES};
use crate::ui::{self, theme::Theme};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the async runtime: {0}")]
    Tokio(std::io::Error),
    #[error("the dashboard needs a terminal: {0} (for a non-interactive view use `corral status`)")]
    Terminal(std::io::Error),
}

pub struct DashboardOptions {
    pub project: PathBuf,
    pub theme: Theme,
}

/// Loads the project's config, starts the supervisor, and runs the dashboard until quit.
/// Every agent is stopped before this returns, whichever way the dashboard ended.
pub fn open_dashboard(opts: DashboardOptions) -> Result<(), DashboardError> {
    let config = Config::load(&opts.project)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(DashboardError::Tokio)?;
    rt.block_on(async move {
        let (handle, supervisor) = runtime::start(RuntimeOptions {
            project: opts.project.clone(),
            config,
            ring_lines: DEFAULT_RING_LINES,
        })?;
        log::info!("dashboard opened on {}", opts.project.display());
        spawn_signal_watch(handle.clone());
        let mut terminal = ratatui::try_init().map_err(DashboardError::Terminal)?;
        stop_agents_on_panic();
        let result = ui::run(&mut terminal, handle.clone(), opts.theme).await;
        ratatui::restore();
        if let Err(e) = &result {
            log::error!("dashboard ended: {e}");
        }
        // Whatever ended the UI, no agent may outlive corral.
        handle.send(Command::Shutdown);
        let _ = supervisor.await;
        result.map_err(DashboardError::Terminal)
    })
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
fn spawn_signal_watch(handle: runtime::RuntimeHandle) {
    use tokio::signal::unix::{SignalKind, signal};
    for kind in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
    ] {
        let handle = handle.clone();
        match signal(kind) {
            Ok(mut stream) => {
                tokio::spawn(async move {
                    if stream.recv().await.is_some() {
                        log::warn!("signal {kind:?} received: stopping every agent");
                        handle.send(Command::Shutdown);
                    }
                });
            }
            Err(e) => log::error!("cannot watch {kind:?}: {e}"),
        }
    }
}
