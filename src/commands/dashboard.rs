//! `corral` and `corral demo`: start the runtime and run the dashboard in the terminal.

use crate::api::Command;
use crate::config::{Config, ConfigError};
use crate::runtime::{self, RuntimeOptions, StartError};
use crate::ui::{self, theme::Theme};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("cannot attach to the project's corral daemon: {0}")]
    Attach(String),
    #[error("cannot start the async runtime: {0}")]
    Tokio(std::io::Error),
    #[error(
        "the dashboard needs a terminal{0}; without one, `corral run --headless` runs the agents \
         (one line per event) and `corral status` shows where the project stands"
    )]
    Terminal(String),
}

pub struct DashboardOptions {
    pub project: PathBuf,
    pub theme: Theme,
    /// Run the agents in this process (they stop with the dashboard) instead of attaching to
    /// the project's daemon, started first when none runs.
    pub no_daemon: bool,
    /// Attach only to watch: nothing is sent that would change anything.
    pub read_only: bool,
    /// The dashboard of `corral demo`: `q` offers to keep the demo running and by default
    /// stops its daemon.
    pub demo: bool,
}

/// How the dashboard ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// The signal (SIGTERM, SIGHUP, SIGINT) that stopped corral, if one did.
    pub signal: Option<i32>,
    /// The project's daemon still runs (the dashboard detached from it).
    pub daemon_runs: bool,
}

/// Whether the environment asks for the in-process runtime (`CORRAL_NO_DAEMON=1`).
pub fn no_daemon_from_env() -> bool {
    std::env::var_os("CORRAL_NO_DAEMON").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Loads the project's config and attaches to the project's daemon, starting it first when
/// none runs (see [`attach`]). With `no_daemon`: takes the terminal, starts the supervisor in
/// this process, and runs the dashboard until quit; nothing starts unless all of that works,
/// and every agent is stopped before this returns, whichever way the dashboard ended.
pub fn open_dashboard(opts: DashboardOptions) -> Result<Ended, DashboardError> {
    let config = Config::load(&opts.project)?;
    // Loading checked `[keys]` already; this cannot fail where that passed.
    let keymap = ui::keys_config::build(&config.keys)?;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(DashboardError::Terminal(
            ": stdin or stdout is not a terminal".into(),
        ));
    }
    let notify = config.notify.terminal;
    if crate::runtime::daemon::running(&opts.project).is_some() {
        return attach(opts, keymap, notify);
    }
    if opts.read_only {
        return Err(DashboardError::Attach(
            "--read-only watches a running daemon, and none runs for this project \
             (`corral daemon start` starts one)"
                .into(),
        ));
    }
    if !opts.no_daemon {
        use crate::runtime::daemon::{self, DaemonError};
        match daemon::start(&opts.project) {
            // Another dashboard started it a moment ago: attach to that one.
            Ok(_) | Err(DaemonError::AlreadyRunning { .. }) => {}
            Err(e) => return Err(DashboardError::Attach(e.to_string())),
        }
        return attach(opts, keymap, notify);
    }
    tokio_runtime()?.block_on(async move {
        let mut terminal =
            enter_terminal().map_err(|e| DashboardError::Terminal(format!(": {e}")))?;
        let (handle, supervisor) = match runtime::start(RuntimeOptions {
            project: opts.project.clone(),
            // `[logs] ring_lines` from corral.toml (10,000 when left out).
            ring_lines: config.logs.ring_lines,
            config,
        }) {
            Ok(started) => started,
            Err(e) => {
                leave_terminal();
                return Err(e.into());
            }
        };
        log::info!("dashboard opened on {}", opts.project.display());
        let stopped_by = Arc::new(AtomicI32::new(0));
        spawn_signal_watch(handle.clone(), stopped_by.clone());
        let result = ui::run(
            &mut terminal,
            std::sync::Arc::new(handle.clone()),
            opts.theme,
            keymap,
            ui::Mode::default(),
            notify,
        )
        .await;
        leave_terminal();
        if let Err(e) = &result {
            log::error!("dashboard ended: {e}");
        }
        // Whatever ended the UI, no agent may outlive corral. (Not a second time after a
        // signal: a second Shutdown means "kill now", and a dropped terminal is no reason to
        // cut the agents' grace period short.)
        if stopped_by.load(Ordering::SeqCst) == 0 && !handle.snapshots().borrow().shut_down {
            handle.send(Command::Shutdown);
        }
        let _ = supervisor.await;
        result.map_err(|e| DashboardError::Terminal(format!(": {e}")))?;
        let signal = stopped_by.load(Ordering::SeqCst);
        Ok(Ended {
            signal: (signal != 0).then_some(signal),
            daemon_runs: false,
        })
    })
}

/// Shows the dashboard of the project's running daemon. `q`, a closed terminal and SIGHUP,
/// SIGTERM or SIGINT end only this dashboard; the agents go on in the daemon.
fn attach(
    opts: DashboardOptions,
    keymap: Vec<ui::keymap::Binding>,
    notify: crate::config::TerminalNotify,
) -> Result<Ended, DashboardError> {
    use crate::runtime::daemon::Remote;
    tokio_runtime()?.block_on(async move {
        let remote = Remote::attach(&opts.project)
            .await
            .map_err(|e| DashboardError::Attach(e.to_string()))?;
        let pid = remote.daemon.pid;
        let snapshots = remote.snapshots();
        let mut terminal =
            enter_terminal().map_err(|e| DashboardError::Terminal(format!(": {e}")))?;
        log::info!(
            "dashboard attached to the daemon (pid {pid}) of {}",
            opts.project.display()
        );
        let signal = detaching_signal();
        let mode = ui::Mode {
            demo: opts.demo,
            read_only: opts.read_only,
        };
        let link: crate::api::client::Link = std::sync::Arc::new(remote);
        let ended = tokio::select! {
            r = ui::run(&mut terminal, link, opts.theme, keymap, mode, notify) => {
                r.map(|()| None)
            }
            s = signal => Ok(Some(s)),
        };
        leave_terminal();
        let signal = ended.map_err(|e| DashboardError::Terminal(format!(": {e}")))?;
        let live = snapshots
            .borrow()
            .runs
            .iter()
            .filter(|r| r.state.is_live())
            .count();
        if opts.demo && signal.is_some() {
            // The demo's terminal went away: nobody can answer its quit question, so it gets
            // the question's default, and no demo fleet is left working in the background.
            let project = opts.project.clone();
            let stop = move || crate::runtime::daemon::stop(&project, Duration::from_secs(60));
            if let Ok(Err(e)) = tokio::task::spawn_blocking(stop).await {
                log::warn!("stopping the demo's daemon: {e}");
            }
        }
        // (Not the closed watch: leaving closes the connection itself.)
        let stopping = snapshots.borrow().shut_down
            || (opts.demo && crate::runtime::daemon::running(&opts.project).is_none());
        if stopping {
            // Asked to stop (Q, the demo's q): the agents are gone; give the daemon its moment
            // to exit, so nothing of the project is left running when this returns.
            wait_until_gone(&opts.project, std::time::Duration::from_secs(15)).await;
        }
        let gone = stopping || crate::runtime::daemon::running(&opts.project).is_none();
        let text = if gone {
            "corral: the daemon has stopped".to_string()
        } else if opts.demo {
            format!(
                "corral: the demo keeps running in its daemon (pid {pid}, {live} agent(s)); \
                 `corral --project {0}` attaches again, `corral --project {0} daemon stop` \
                 stops it",
                opts.project.display()
            )
        } else {
            format!(
                "corral: detached; the daemon (pid {pid}) keeps {live} agent(s) running \
                 (`corral` attaches again, `corral daemon stop` stops them)"
            )
        };
        let _ = super::output::print_text(&text);
        Ok(Ended {
            signal,
            daemon_runs: !gone,
        })
    })
}

/// Waits, at most `patience`, until no process owns the project any more.
async fn wait_until_gone(project: &std::path::Path, patience: std::time::Duration) {
    let deadline = tokio::time::Instant::now() + patience;
    while crate::runtime::daemon::running(project).is_some()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The first of SIGHUP, SIGTERM and SIGINT (never, when none can be watched).
async fn detaching_signal() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let kinds = [
        SignalKind::hangup(),
        SignalKind::terminate(),
        SignalKind::interrupt(),
    ];
    let mut streams: Vec<_> = kinds
        .iter()
        .filter_map(|k| signal(*k).ok().map(|s| (k.as_raw_value(), s)))
        .collect();
    if streams.is_empty() {
        return std::future::pending().await;
    }
    let waits = streams.iter_mut().map(|(n, s)| {
        let n = *n;
        Box::pin(async move {
            s.recv().await;
            n
        })
    });
    futures::future::select_all(waits).await.0
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

/// Takes the terminal: raw mode and the alternate screen. (Not `ratatui::init`: its panic hook
/// prints when restoring fails, and on a terminal that is gone, a dropped SSH link, that print
/// panics inside the hook and aborts corral before its agents are stopped.)
fn enter_terminal() -> std::io::Result<ratatui::DefaultTerminal> {
    use crossterm::{execute, terminal};
    terminal::enable_raw_mode()?;
    if let Err(e) = execute!(std::io::stdout(), terminal::EnterAlternateScreen) {
        leave_terminal();
        return Err(e);
    }
    install_panic_hook();
    ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
}

/// Gives the terminal back, quietly: when it is gone there is nobody to tell.
fn leave_terminal() {
    let _ = ratatui::try_restore();
}

/// On a panic: first stop every agent (a crashed corral must not leave agents working
/// unsupervised), then give the terminal back, then report as before.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        runtime::process::stop_all_groups_now(std::time::Duration::from_secs(3));
        leave_terminal();
        previous(info);
    }));
}

/// SIGTERM, SIGHUP (the SSH link dropped) and SIGINT stop every agent; the dashboard then sees
/// the shutdown and exits, restoring the terminal. Each further signal is another Shutdown,
/// which kills whatever is still stopping at once.
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
                    while stream.recv().await.is_some() {
                        // The exit code names the first signal.
                        let first = stopped_by
                            .compare_exchange(
                                0,
                                kind.as_raw_value(),
                                Ordering::SeqCst,
                                Ordering::SeqCst,
                            )
                            .is_ok();
                        if first {
                            log::warn!("signal {kind:?} received: stopping every agent");
                        } else {
                            log::warn!("signal {kind:?} received again: killing every agent now");
                        }
                        handle.send(Command::Shutdown);
                    }
                });
            }
            Err(e) => log::error!("cannot watch {kind:?}: {e}"),
        }
    }
}
