//! The terminal dashboard (ratatui). It renders snapshots and sends commands; it never touches
//! a process, a file or the database.

pub mod app;
mod app_answer;
mod app_keys;
mod app_moves;
pub mod detail;
pub mod diff_view;
pub mod features_view;
mod help;
pub mod keymap;
pub mod keys_config;
mod log_steps;
mod log_view;
pub mod notify_term;
mod profiles;
pub mod prompt;
mod queue_view;
pub mod render;
mod sanitize;
pub mod scroll;
mod search;
pub mod theme;

use crate::api::{Link, LogLine, RunId};
use app::{App, Outcome};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use std::time::Duration;
use theme::Theme;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// Lines fetched from the ring when the Log pane switches to a run.
const TAIL_ON_SWITCH: usize = log_view::LOG_VIEW_LINES;
/// Lines of the daemon's log the `L` view asks for.
const DAEMON_LOG_LINES: usize = 500;
/// At most this many frames a second, however fast agents print.
const FRAME: Duration = Duration::from_millis(33);
/// While something counts down on screen (a backoff, an open breaker) it is redrawn this often,
/// snapshots or not.
const TICK: Duration = Duration::from_secs(1);

/// The screen's clock (ms since the epoch): uptimes and countdowns are measured from it.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How an attached dashboard behaves beyond its link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode {
    /// `corral demo`: `q` asks whether to keep the demo's daemon running.
    pub demo: bool,
    /// `--read-only`: keys that would change something say so, and nothing is sent.
    pub read_only: bool,
}

/// Runs the dashboard until the runtime reports that every agent has stopped (after a quit,
/// or a Shutdown sent from elsewhere, e.g. on SIGTERM). The terminal must already be set up.
/// `keymap` is what [`keys_config::build`] made of corral.toml's `[keys]`.
pub async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    handle: Link,
    theme: Theme,
    keymap: Vec<keymap::Binding>,
    mode: Mode,
    notify: crate::config::TerminalNotify,
) -> std::io::Result<()> {
    let env = notify_term::TermEnv::from_env();
    let notify_kind = notify_term::choose(notify, &env);
    let mut snapshots = handle.snapshots();
    let mut events = handle.events();
    let mut app = App::new(snapshots.borrow_and_update().clone());
    app.start_clock(now_ms());
    app.attached = handle.is_remote();
    app.demo = mode.demo;
    app.read_only = mode.read_only;
    app.keymap = keymap;
    let mut keys = EventStream::new();
    let mut shown: Option<RunId> = None;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    // When the daemon's log was last fetched for the `L` view (attached only).
    let mut app_log_at: Option<Instant> = None;
    // While runs are live the sampler's snapshot arrives once a second, which redraws the
    // uptimes. The sampler is quiet without live runs, so a countdown (a backoff, an open
    // breaker) has a tick of its own, armed only while the snapshot holds one: idle, nothing
    // wakes the UI.

    loop {
        let wanted = app.log_run();
        if wanted != shown {
            let tail = handle.follow(wanted, TAIL_ON_SWITCH).await;
            app.show_log(wanted, tail);
            shown = wanted;
            dirty = true;
        }
        if app.snapshot.shut_down || app.detached {
            return Ok(());
        }
        let daemon_log = app.show_app_log && app.attached;
        if !daemon_log {
            app_log_at = None;
        } else if app_log_at.is_none_or(|at| at.elapsed() >= TICK) {
            app.daemon_log = handle.app_log(DAEMON_LOG_LINES).await;
            app_log_at = Some(Instant::now());
            dirty = true;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(last_draw + FRAME), if dirty => {
                app.now_ms = now_ms();
                terminal.draw(|f| render::draw(f, &app, &theme))?;
                last_draw = Instant::now();
                dirty = false;
            }
            // The daemon's log, again once a second while it shows.
            _ = tokio::time::sleep_until(app_log_at.unwrap_or_else(Instant::now) + TICK), if daemon_log => {}
            // A second after the last frame, whatever caused it: one redraw a second at most.
            _ = tokio::time::sleep_until(last_draw + TICK), if !dirty && app.ticking() => {
                dirty = true;
            }
            ev = keys.next() => match ev {
                Some(Ok(ev)) => {
                    let outcome = on_event(&mut app, &ev);
                    apply(&handle, &mut app, outcome).await;
                    dirty = true;
                }
                Some(Err(e)) => return Err(e),
                // No more terminal input (stdin closed): stop the agents and leave.
                None if app.attached => return Ok(()),
                None => {
                    handle.send(crate::api::Command::Shutdown);
                    app.quitting = true;
                }
            },
            changed = snapshots.changed() => {
                if changed.is_err() {
                    return Ok(()); // the runtime is gone
                }
                // A notice's time on screen counts from now, not from the last frame.
                app.now_ms = now_ms();
                let outcome = app.set_snapshot(snapshots.borrow_and_update().clone());
                apply(&handle, &mut app, outcome).await;
                dirty = true;
            }
            event = events.recv() => match event {
                Ok(crate::api::Event::Log(lines)) => {
                    for line in lines {
                        dirty |= push_line(&mut app, line);
                    }
                }
                // Tell the terminal, unless the person is looking at that run already (the
                // daemon sends each once and caps how many).
                Ok(crate::api::Event::Notify { title, body, run, .. }) => {
                    if run.is_none() || run != app.log_run() {
                        use std::io::Write;
                        let bytes = notify_term::bytes(notify_kind, &title, &body, env.tmux);
                        let mut out = std::io::stdout().lock();
                        let _ = out.write_all(&bytes).and_then(|()| out.flush());
                    }
                }
                // Starts, ends and notices arrive in the next snapshot too.
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // Too far behind: take the tail again from the ring.
                    shown = None;
                }
                Err(RecvError::Closed) => {}
            },
        }
    }
}

/// Sends the commands and, if the App asked for a feature's detail, reads it for the App.
async fn apply(handle: &Link, app: &mut App, outcome: Outcome) {
    // A read-only dashboard's keys send nothing already; this holds for any other path too.
    if !app.read_only {
        for cmd in outcome.commands {
            handle.send(cmd);
        }
    }
    if let Some(id) = outcome.want_detail {
        let detail = handle.feature_detail(id).await;
        app.set_detail(id, detail);
    }
    if let Some(id) = outcome.want_diff {
        let diff = handle.feature_diff(id).await;
        app.set_diff(id, diff);
    }
}

fn push_line(app: &mut App, line: LogLine) -> bool {
    !app.show_app_log && app.log.push(line)
}

/// Maps a terminal event to the app: keys go to [`App::key`]; resize and focus changes just redraw.
fn on_event(app: &mut App, ev: &Event) -> Outcome {
    match ev {
        Event::Key(key) => app.key(key),
        _ => Outcome::default(),
    }
}
