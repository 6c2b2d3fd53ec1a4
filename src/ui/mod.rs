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

use crate::api::{LogLine, RunId};
use crate::runtime::RuntimeHandle;
use crate::runtime::daemon::Remote;
use app::{App, Outcome};
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use std::time::Duration;
use theme::Theme;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

/// Lines fetched from the ring when the Log pane switches to a run.
const TAIL_ON_SWITCH: usize = log_view::LOG_VIEW_LINES;
/// At most this many frames a second, however fast agents print.
const FRAME: Duration = Duration::from_millis(33);
/// While something counts down on screen (a backoff, an open breaker) it is redrawn this often,
/// snapshots or not.
const TICK: Duration = Duration::from_secs(1);

fn now_ms() -> i64 {
    crate::runtime::now_ms()
}

/// What the dashboard is connected to: the runtime in this process, or a daemon's.
#[derive(Clone)]
pub enum Link {
    Local(RuntimeHandle),
    Attached(Remote),
}

impl Link {
    fn send(&self, cmd: crate::api::Command) {
        match self {
            Link::Local(h) => h.send(cmd),
            Link::Attached(r) => r.send(cmd),
        }
    }

    fn snapshots(&self) -> tokio::sync::watch::Receiver<crate::api::Snapshot> {
        match self {
            Link::Local(h) => h.snapshots(),
            Link::Attached(r) => r.snapshots(),
        }
    }

    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::api::Event> {
        match self {
            Link::Local(h) => h.subscribe(),
            Link::Attached(r) => r.subscribe(),
        }
    }

    /// The latest lines of `run`, which is followed from now on.
    async fn follow(&self, run: Option<RunId>, max: usize) -> Vec<LogLine> {
        match self {
            Link::Local(h) => run.map_or(Vec::new(), |r| h.log_tail(r, max)),
            Link::Attached(r) => r.follow(run, max).await,
        }
    }

    /// A feature's detail: a read of the database in-process (on a blocking thread, so the
    /// runtime's threads go on), a request to an attached daemon.
    async fn feature_detail(&self, id: crate::api::FeatureId) -> Option<crate::api::FeatureDetail> {
        match self {
            Link::Local(h) => {
                let reader = h.clone();
                tokio::task::spawn_blocking(move || reader.feature_detail(id))
                    .await
                    .ok()
                    .flatten()
            }
            Link::Attached(r) => r.feature_detail(id).await,
        }
    }

    /// A feature's diff against its base (a few git commands on a blocking thread
    /// in-process, a request to an attached daemon).
    async fn feature_diff(&self, id: crate::api::FeatureId) -> Option<crate::api::FeatureDiff> {
        match self {
            Link::Local(h) => {
                let reader = h.clone();
                tokio::task::spawn_blocking(move || reader.feature_diff(id))
                    .await
                    .ok()
                    .flatten()
            }
            Link::Attached(r) => r.feature_diff(id).await,
        }
    }
}

/// Runs the dashboard until the runtime reports that every agent has stopped (after a quit,
/// or a Shutdown sent from elsewhere, e.g. on SIGTERM). The terminal must already be set up.
/// `keymap` is what [`keys_config::build`] made of corral.toml's `[keys]`.
pub async fn run(
    terminal: &mut ratatui::DefaultTerminal,
    handle: Link,
    theme: Theme,
    keymap: Vec<keymap::Binding>,
    notify: crate::config::TerminalNotify,
) -> std::io::Result<()> {
    let env = notify_term::TermEnv::from_env();
    let notify_kind = notify_term::choose(notify, &env);
    let mut snapshots = handle.snapshots();
    let mut events = handle.subscribe();
    let mut app = App::new(snapshots.borrow_and_update().clone());
    app.attached = matches!(handle, Link::Attached(_));
    app.keymap = keymap;
    let mut keys = EventStream::new();
    let mut shown: Option<RunId> = None;
    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
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
        tokio::select! {
            _ = tokio::time::sleep_until(last_draw + FRAME), if dirty => {
                app.now_ms = now_ms();
                terminal.draw(|f| render::draw(f, &app, &theme))?;
                last_draw = Instant::now();
                dirty = false;
            }
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
    for cmd in outcome.commands {
        handle.send(cmd);
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
