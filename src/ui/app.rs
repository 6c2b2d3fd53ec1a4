//! View state: focus, selections, popups and the log being shown. Pure over snapshots: a key
//! press turns into [`Command`]s for the runtime and nothing else.

use super::detail::DetailView;
use super::features_view::FeatureFilter;
use super::keymap::{Action, Binding, Context};
use super::log_view::LogView;
use super::prompt::Prompt;
use super::scroll::Scroll;
use crate::api::{Command, FeatureId, JobId, LogLine, RunId, RunView, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Agents,
    Features,
    Queue,
    Log,
}

impl Pane {
    const ORDER: [Pane; 4] = [Pane::Agents, Pane::Features, Pane::Queue, Pane::Log];

    fn step(self, by: isize) -> Pane {
        let i = Pane::ORDER.iter().position(|p| *p == self).unwrap_or(0) as isize;
        Pane::ORDER[(i + by).rem_euclid(4) as usize]
    }

    /// Where keys pressed in this pane are looked up.
    pub fn context(self) -> Context {
        match self {
            Pane::Agents => Context::Agents,
            Pane::Features => Context::Features,
            Pane::Queue => Context::Queue,
            Pane::Log => Context::Log,
        }
    }
}

/// A question waiting for `y` or `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Kill(RunId),
    Quit {
        live: usize,
    },
    /// `q` in `corral demo`: stop the demo's daemon (y, Enter) or keep it running (k).
    QuitDemo {
        live: usize,
    },
    /// Put the feature back to pending with its attempts reset.
    Requeue(FeatureId),
    /// Mark the feature passing, or failing.
    Mark {
        feature: FeatureId,
        passing: bool,
    },
    /// Drop a waiting job, or kill a running one.
    CancelJob(JobId),
}

/// What is drawn over the panes and takes the keys while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    /// A line being typed: every key goes to it until Enter or Esc.
    Prompt(Prompt),
    /// Something to read that replaced a prompt which could not open: every key is swallowed
    /// until Enter or Esc, so text typed for that prompt cannot act as commands.
    Notice(String),
}

/// What fills the body between the header and the hint bar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum View {
    /// The four panes.
    #[default]
    Dashboard,
    /// One feature, in full.
    Detail(DetailView),
    /// The profiles from corral.toml.
    Profiles,
    /// One feature's change against its base.
    Diff(super::diff_view::DiffView),
}

/// What the event loop must do after a key or a snapshot.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub commands: Vec<Command>,
    /// Read this feature's detail from the runtime and give it to [`App::set_detail`]. The
    /// App never reads it itself: that is a database read, and the App stays pure.
    pub want_detail: Option<FeatureId>,
    /// Read this feature's diff and give it to [`App::set_diff`].
    pub want_diff: Option<FeatureId>,
}

/// How long a runtime notice stays in the hint bar when no key is pressed.
pub const NOTICE_MS: i64 = 6_000;

/// The most notices waiting their turn (the one on screen included).
const MAX_QUEUED_NOTICES: usize = 5;

pub struct App {
    pub snapshot: Snapshot,
    pub focus: Pane,
    /// Selections by id, so rows can move under them as snapshots change.
    pub selected_run: Option<RunId>,
    pub selected_feature: Option<FeatureId>,
    pub selected_job: Option<JobId>,
    /// True once the user moved the Agents pane's selection (`j`, `k`, `G`...): it then
    /// stays on its run. Until then, and again after `g`, it rides on the first row, so the
    /// pane shows the live runs at its top however many ended runs are listed below them.
    pub run_pinned: bool,
    /// The same for the Queue pane's selection: unpinned, it rides on the first job (running
    /// and waiting jobs are listed first).
    pub job_pinned: bool,
    /// The Profiles view's selection, by name.
    pub selected_profile: Option<String>,
    /// Which features the Features pane lists.
    pub filter: FeatureFilter,
    pub view: View,
    pub overlay: Option<Overlay>,
    /// How far the help overlay is scrolled, when it is taller than the screen.
    pub help_scroll: Scroll,
    pub log: LogView,
    /// Show corral's own log in the Log pane instead of the agent's.
    pub show_app_log: bool,
    /// Attached: the daemon's latest log lines for that view (its own messages are the
    /// dashboard's), fetched while it shows; `None` before the first fetch.
    pub daemon_log: Option<Vec<String>>,
    /// Quit was confirmed; waiting for the runtime to stop every agent.
    pub quitting: bool,
    /// Attached to a daemon: quitting leaves its agents running (the dashboard detaches).
    pub attached: bool,
    /// The user detached from the daemon; the dashboard ends.
    pub detached: bool,
    /// The dashboard of `corral demo`: `q` asks whether to keep the demo running.
    pub demo: bool,
    /// Attached with `--read-only`: nothing that would change anything is sent.
    pub read_only: bool,
    /// A short message of the UI's own (the runtime's notices come in the snapshot).
    pub message: Option<String>,
    /// The runtime's notices not yet seen, oldest first: each is shown for [`NOTICE_MS`] (or
    /// until a key is pressed), then the next, so a start-up warning is not hidden by a
    /// notice that comes a moment later.
    notices: std::collections::VecDeque<String>,
    /// When the first of `notices` began to show (by [`App::now_ms`]).
    notice_since_ms: i64,
    /// The number of the newest notice taken from a snapshot.
    notice_seq: u64,
    /// Every key binding: the defaults with `[keys]` of corral.toml over them. Keys, the
    /// hint bar and the help overlay all read it.
    pub keymap: Vec<Binding>,
    /// The moment the screen shows (ms since the epoch): uptimes and countdowns are measured
    /// from it. The event loop sets it from the system clock before each draw; tests set it
    /// by hand, so what they draw never depends on when they run.
    pub now_ms: i64,
}

impl App {
    pub fn new(snapshot: Snapshot) -> App {
        let mut app = App {
            snapshot: Snapshot::default(),
            focus: Pane::Agents,
            selected_run: None,
            selected_feature: None,
            selected_job: None,
            run_pinned: false,
            job_pinned: false,
            selected_profile: None,
            filter: FeatureFilter::default(),
            view: View::Dashboard,
            overlay: None,
            help_scroll: Scroll::default(),
            log: LogView::default(),
            show_app_log: false,
            daemon_log: None,
            quitting: false,
            attached: false,
            detached: false,
            demo: false,
            read_only: false,
            message: None,
            keymap: super::keymap::DEFAULT_BINDINGS.to_vec(),
            notices: Default::default(),
            notice_since_ms: snapshot.sampled_at_ms,
            notice_seq: 0,
            now_ms: snapshot.sampled_at_ms,
        };
        app.set_snapshot(snapshot);
        app
    }

    /// Takes a new snapshot, keeping selections on the same ids where they still exist. Asks
    /// for the open detail again when its feature or one of its runs changed.
    pub fn set_snapshot(&mut self, snapshot: Snapshot) -> Outcome {
        let old = std::mem::replace(&mut self.snapshot, snapshot);
        self.take_notices(&old);
        let s = &self.snapshot;
        // The selected run ended and its job just started again (a retry): follow the job.
        if let Some(sel) = self.selected_run
            && let Some(job) = s.runs.iter().find(|r| r.id == sel).map(|r| r.job)
            && let Some(next) = s
                .runs
                .iter()
                .filter(|r| r.job == job && r.id > sel && r.state.is_live())
                .map(|r| r.id)
                .max()
            && !old.runs.iter().any(|r| r.id == next)
        {
            self.selected_run = Some(next);
        }
        if !self.run_pinned
            || !self
                .selected_run
                .is_some_and(|id| s.runs.iter().any(|r| r.id == id))
        {
            self.selected_run = s.runs.first().map(|r| r.id);
            self.run_pinned = false;
        }
        self.keep_feature_visible();
        self.keep_profile_selected();
        let s = &self.snapshot;
        if !self.job_pinned
            || !self
                .selected_job
                .is_some_and(|id| s.jobs.iter().any(|j| j.id == id))
        {
            self.selected_job = s.jobs.first().map(|j| j.id);
            self.job_pinned = false;
        }
        Outcome {
            want_detail: self.detail_changed(&old),
            ..Outcome::default()
        }
    }

    /// Starts the clock of the notices on screen at `now_ms` (the dashboard's first frame):
    /// the first snapshot's sample time may be long past, and a start-up warning must still
    /// get its time.
    pub fn start_clock(&mut self, now_ms: i64) {
        self.now_ms = now_ms;
        self.notice_since_ms = now_ms;
    }

    /// The notice on screen: the oldest not yet seen, each for [`NOTICE_MS`] in turn.
    pub fn notice(&self) -> Option<&str> {
        self.notices.get(self.notices_over()).map(String::as_str)
    }

    /// How many queued notices have had their time.
    fn notices_over(&self) -> usize {
        let elapsed = self.now_ms.saturating_sub(self.notice_since_ms).max(0);
        usize::try_from(elapsed / NOTICE_MS).unwrap_or(usize::MAX)
    }

    /// Forgets the notices that have had their time; the next one's time starts where the
    /// last one's ended.
    fn drop_shown_notices(&mut self) {
        let over = self.notices_over().min(self.notices.len());
        self.notices.drain(..over);
        self.notice_since_ms += over as i64 * NOTICE_MS;
    }

    /// Queues the notices `self.snapshot` has that were not taken yet.
    fn take_notices(&mut self, old: &Snapshot) {
        let s = &self.snapshot;
        let new: Vec<String> = if s.notices.is_empty() {
            // A snapshot without the list (an older daemon): its one notice, when it changed.
            s.notice
                .clone()
                .filter(|_| s.notice != old.notice)
                .into_iter()
                .collect()
        } else {
            s.notices
                .iter()
                .filter(|n| n.seq > self.notice_seq)
                .map(|n| n.text.clone())
                .collect()
        };
        self.notice_seq = s
            .notices
            .iter()
            .map(|n| n.seq)
            .max()
            .unwrap_or(self.notice_seq);
        if new.is_empty() {
            return;
        }
        self.drop_shown_notices();
        if self.notices.is_empty() {
            self.notice_since_ms = self.now_ms;
        }
        for text in new {
            if self.notices.back() != Some(&text) {
                self.notices.push_back(text);
            }
        }
        // A flood keeps the one on screen and the latest few.
        while self.notices.len() > MAX_QUEUED_NOTICES {
            self.notices.remove(1);
        }
    }

    /// A key went to the keymap: the notice on screen has been seen; the next one (if any)
    /// shows from now.
    pub(super) fn dismiss_notice(&mut self) {
        self.drop_shown_notices();
        if self.notices.pop_front().is_some() {
            self.notice_since_ms = self.now_ms;
        }
    }

    /// True while something on screen changes with time alone (a countdown, a notice that
    /// will go): the event loop then redraws once a second.
    pub fn ticking(&self) -> bool {
        self.counting_down() || self.notice().is_some()
    }

    /// Where keys are looked up: the open view, else the focused pane.
    pub fn context(&self) -> Context {
        match self.view {
            View::Dashboard => self.focus.context(),
            View::Detail(_) => Context::Detail,
            View::Profiles => Context::Profiles,
            View::Diff(_) => Context::Diff,
        }
    }

    /// The run whose output the Log pane should show.
    pub fn log_run(&self) -> Option<RunId> {
        match self.focus {
            Pane::Features => self.feature_run().or(self.selected_run),
            Pane::Queue => self.job_run().or(self.selected_run),
            Pane::Agents => self.selected_run,
            // Moving focus to the Log pane keeps what it shows.
            Pane::Log => self.log.run.or(self.selected_run),
        }
    }

    fn feature_run(&self) -> Option<RunId> {
        let f = self.selected_feature?;
        // Runs are listed live first, then newest first: the first match is the one to show.
        self.snapshot
            .runs
            .iter()
            .find(|r| r.feature == Some(f))
            .map(|r| r.id)
    }

    fn job_run(&self) -> Option<RunId> {
        let j = self.selected_job?;
        self.snapshot.runs.iter().find(|r| r.job == j).map(|r| r.id)
    }

    /// The run that pause, resume, kill and restart act on from the focused pane.
    pub fn target_run(&self) -> Option<&RunView> {
        let id = match self.focus {
            Pane::Agents => self.selected_run,
            Pane::Log => self.log.run,
            Pane::Features => self.feature_run(),
            Pane::Queue => self.job_run(),
        }?;
        self.snapshot.runs.iter().find(|r| r.id == id)
    }

    pub fn live_agents(&self) -> usize {
        self.snapshot
            .runs
            .iter()
            .filter(|r| r.state.is_live())
            .count()
    }

    /// Replaces the Log pane's lines when it switches to another run.
    pub fn show_log(&mut self, run: Option<RunId>, tail: Vec<LogLine>) {
        self.log.reset(run, tail);
    }

    /// Applies one action and says which commands to send.
    pub fn act(&mut self, action: Action) -> Outcome {
        self.message = None;
        if self.overlay.is_some() {
            return self.act_on_overlay(action);
        }
        if self.read_only && action.changes_something() {
            self.message = Some(
                "read-only: that key would change something (attached with --read-only)".into(),
            );
            return Outcome::default();
        }
        match action {
            Action::Help => {
                self.help_scroll = Scroll::default();
                self.overlay = Some(Overlay::Help);
                return Outcome::default();
            }
            Action::Quit => return self.quit(),
            Action::StopAll => return self.stop_all(),
            // The header shows open breakers in every view, so `b` works in every view.
            Action::CloseBreaker => return self.close_breaker(),
            Action::Profiles => {
                self.view = match self.view {
                    View::Profiles => View::Dashboard,
                    _ => View::Profiles,
                };
                return Outcome::default();
            }
            _ => {}
        }
        match self.view {
            View::Dashboard => self.act_on_panes(action),
            View::Detail(_) => self.act_on_detail(action),
            View::Profiles => self.act_on_profiles(action),
            View::Diff(_) => self.act_on_diff(action),
        }
    }

    /// With Help open, movement keys scroll it and its own key, q or Esc close it; a question
    /// or a prompt takes no actions at all (they get their keys before the keymap).
    fn act_on_overlay(&mut self, action: Action) -> Outcome {
        if self.overlay == Some(Overlay::Help) {
            match action {
                Action::Help | Action::Quit | Action::Back => self.overlay = None,
                other => {
                    self.help_scroll.apply(other);
                }
            }
        }
        Outcome::default()
    }

    fn quit(&mut self) -> Outcome {
        if self.attached && self.demo {
            // Trying the demo must not leave a fleet working in the background: asked, and
            // stopped unless the user keeps it.
            let live = self.live_agents();
            self.overlay = Some(Overlay::Confirm(Confirm::QuitDemo { live }));
            return Outcome::default();
        }
        if self.attached {
            // The agents are the daemon's: leaving asks nothing and stops nothing.
            self.detached = true;
            return Outcome::default();
        }
        self.stop_all()
    }

    /// Stops every agent (asking first when some are live); the dashboard ends once they have.
    fn stop_all(&mut self) -> Outcome {
        let mut out = Outcome::default();
        match self.live_agents() {
            0 => {
                self.quitting = true;
                out.commands.push(Command::Shutdown);
            }
            live => self.overlay = Some(Overlay::Confirm(Confirm::Quit { live })),
        }
        out
    }

    fn act_on_panes(&mut self, action: Action) -> Outcome {
        let mut out = Outcome::default();
        let target = self.target_run().map(|r| (r.id, r.state.is_live()));
        let mut send = |c: Command| out.commands.push(c);
        match action {
            Action::NextPane => self.focus = self.focus.step(1),
            Action::PrevPane => self.focus = self.focus.step(-1),
            Action::Down => self.move_by(1),
            Action::Up => self.move_by(-1),
            Action::Top => self.move_to(true),
            Action::Bottom => self.move_to(false),
            Action::PageUp => self.log.scroll_up(10),
            Action::PageDown => self.log.scroll_down(10),
            Action::RetryJob => return self.retry_job(),
            Action::CancelJob => self.cancel_job(),
            Action::JobSooner | Action::JobLater => return self.job_priority(action),
            Action::Start => match (self.focus, self.selected_feature, target) {
                (Pane::Features, Some(feature), _) => send(Command::StartFeature { feature }),
                (Pane::Agents, _, Some((run, false))) => send(Command::Restart { run }),
                _ => send(Command::StartNext),
            },
            Action::Pause | Action::Resume | Action::Kill | Action::KillNow | Action::Restart => {
                let Some((run, live)) = target else {
                    self.message = Some("no agent selected".into());
                    return out;
                };
                match action {
                    Action::Pause => send(Command::Pause { run }),
                    Action::Resume => send(Command::Resume { run }),
                    Action::Kill if live => {
                        self.overlay = Some(Overlay::Confirm(Confirm::Kill(run)))
                    }
                    Action::KillNow if live => send(Command::Kill { run, force: true }),
                    Action::Kill | Action::KillNow => {
                        self.message = Some(format!("run {run} has already ended"))
                    }
                    _ => send(Command::Restart { run }),
                }
            }
            Action::ToggleScheduler => send(Command::SetSchedulerPaused {
                paused: !self.snapshot.scheduler_paused,
            }),
            Action::MoreAgents => send(Command::SetMaxAgents {
                max_agents: self.snapshot.max_agents.saturating_add(1),
            }),
            Action::FewerAgents => send(Command::SetMaxAgents {
                max_agents: self.snapshot.max_agents.saturating_sub(1),
            }),
            Action::Follow => self.log.toggle_follow(),
            Action::Wrap => self.log.wrap = !self.log.wrap,
            Action::AppLog => self.show_app_log = !self.show_app_log,
            Action::Search => self.open_search(),
            Action::NextMatch => self.step_match(true),
            Action::PrevMatch => self.step_match(false),
            Action::Input => self.open_input(),
            Action::Allow | Action::Deny | Action::AllowTool => return self.answer_ask(action),
            Action::NextWaiting => self.next_waiting(),
            Action::OpenStep => {
                if !self.log.toggle_open() {
                    self.message =
                        Some("no step to open: this run's lines are shown as printed".into());
                }
            }
            Action::RawView => match self.log.toggle_raw() {
                Some(true) => self.message = Some("showing steps".into()),
                Some(false) => self.message = Some("showing raw lines".into()),
                None => {
                    self.message = Some(
                        "this run prints no event stream: its lines are shown as printed".into(),
                    )
                }
            },
            Action::Detail => return self.open_detail(),
            Action::Diff => return self.open_diff(),
            Action::NextFile | Action::PrevFile | Action::MergeFeature | Action::RejectFeature => {}
            Action::FilterStatus(status) => self.filter_status(status),
            Action::FilterText => self.open_filter(),
            Action::Requeue
            | Action::MarkPassing
            | Action::MarkFailing
            | Action::Sooner
            | Action::Later => return self.act_on_feature(action),
            Action::Back => return self.escape(),
            // Handled in `act`, or only in the Profiles view.
            Action::Help
            | Action::Quit
            | Action::StopAll
            | Action::Profiles
            | Action::CloseBreaker
            | Action::ToggleProfile => {}
        }
        out
    }

    /// The answer to a y/n question (any other key is ignored while one is open; Esc is "no").
    pub fn answer(&mut self, yes: bool) -> Outcome {
        let mut out = Outcome::default();
        let Some(Overlay::Confirm(question)) = self.overlay.take() else {
            return out;
        };
        if yes {
            out.commands.push(match question {
                Confirm::Kill(run) => Command::Kill { run, force: false },
                Confirm::Quit { .. } | Confirm::QuitDemo { .. } => {
                    self.quitting = true;
                    Command::Shutdown
                }
                Confirm::Requeue(feature) => Command::RequeueFeature { feature },
                Confirm::Mark { feature, passing } => Command::MarkFeature { feature, passing },
                Confirm::CancelJob(job) => Command::CancelJob { job },
            });
        }
        out
    }

    /// `k` to the demo's quit question: leave, and let the demo's daemon go on.
    pub fn keep_demo(&mut self) -> Outcome {
        if let Some(Overlay::Confirm(Confirm::QuitDemo { .. })) = self.overlay {
            self.overlay = None;
            self.detached = true;
        }
        Outcome::default()
    }

    /// Closes Help or a prompt, says no to a question, closes the open view, or with nothing
    /// open clears the search.
    pub fn escape(&mut self) -> Outcome {
        match self.overlay {
            Some(Overlay::Confirm(_)) => return self.answer(false),
            Some(_) => self.overlay = None,
            None if self.view != View::Dashboard => self.view = View::Dashboard,
            None => self.log.search = None,
        }
        Outcome::default()
    }
}
