//! View state: focus, selections, popups and the log being shown. Pure over snapshots: a key
//! press turns into [`Command`]s for the runtime and nothing else.

use super::keymap::Action;
use super::log_view::LogView;
use super::prompt::Prompt;
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
}

/// A question waiting for `y` or `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Kill(RunId),
    Quit { live: usize },
}

/// What is drawn over the panes and takes the keys while it is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    Confirm(Confirm),
    /// A line being typed: every key goes to it until Enter or Esc.
    Prompt(Prompt),
}

/// What the event loop must do after a key.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub commands: Vec<Command>,
}

pub struct App {
    pub snapshot: Snapshot,
    pub focus: Pane,
    /// Selections by id, so rows can move under them as snapshots change.
    pub selected_run: Option<RunId>,
    pub selected_feature: Option<FeatureId>,
    pub selected_job: Option<JobId>,
    pub overlay: Option<Overlay>,
    pub log: LogView,
    /// Show corral's own log in the Log pane instead of the agent's.
    pub show_app_log: bool,
    /// Quit was confirmed; waiting for the runtime to stop every agent.
    pub quitting: bool,
    /// A short message of the UI's own (the runtime's notices come in the snapshot).
    pub message: Option<String>,
}

impl App {
    pub fn new(snapshot: Snapshot) -> App {
        let mut app = App {
            snapshot: Snapshot::default(),
            focus: Pane::Agents,
            selected_run: None,
            selected_feature: None,
            selected_job: None,
            overlay: None,
            log: LogView::default(),
            show_app_log: false,
            quitting: false,
            message: None,
        };
        app.set_snapshot(snapshot);
        app
    }

    /// Takes a new snapshot, keeping selections on the same ids where they still exist.
    pub fn set_snapshot(&mut self, snapshot: Snapshot) {
        self.snapshot = snapshot;
        let s = &self.snapshot;
        if !self
            .selected_run
            .is_some_and(|id| s.runs.iter().any(|r| r.id == id))
        {
            self.selected_run = s.runs.first().map(|r| r.id);
        }
        if !self
            .selected_feature
            .is_some_and(|id| s.features.iter().any(|f| f.id == id))
        {
            self.selected_feature = s.features.first().map(|f| f.id);
        }
        if !self
            .selected_job
            .is_some_and(|id| s.jobs.iter().any(|j| j.id == id))
        {
            self.selected_job = s.jobs.first().map(|j| j.id);
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
        let mut out = Outcome::default();
        if let Some(overlay) = &self.overlay {
            // Only Help closes itself with its own key or q; everything else waits for y/n.
            if *overlay == Overlay::Help && matches!(action, Action::Help | Action::Quit) {
                self.overlay = None;
            }
            return out;
        }
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
            Action::Help => self.overlay = Some(Overlay::Help),
            Action::Quit => match self.live_agents() {
                0 => {
                    self.quitting = true;
                    send(Command::Shutdown);
                }
                live => self.overlay = Some(Overlay::Confirm(Confirm::Quit { live })),
            },
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
            match question {
                Confirm::Kill(run) => out.commands.push(Command::Kill { run, force: false }),
                Confirm::Quit { .. } => {
                    self.quitting = true;
                    out.commands.push(Command::Shutdown);
                }
            }
        }
        out
    }

    /// Closes Help or a prompt, says no to a question, or with nothing open clears the search.
    pub fn escape(&mut self) -> Outcome {
        match self.overlay {
            Some(Overlay::Confirm(_)) => self.answer(false),
            None => {
                self.log.search = None;
                Outcome::default()
            }
            _ => {
                self.overlay = None;
                Outcome::default()
            }
        }
    }

    fn move_by(&mut self, by: isize) {
        let s = &self.snapshot;
        fn step<T: Copy + PartialEq>(ids: Vec<T>, cur: Option<T>, by: isize) -> Option<T> {
            let last = ids.len().checked_sub(1)?;
            let i = cur
                .and_then(|c| ids.iter().position(|x| *x == c))
                .unwrap_or(0) as isize;
            Some(ids[(i + by).clamp(0, last as isize) as usize])
        }
        match self.focus {
            Pane::Agents => {
                self.selected_run =
                    step(s.runs.iter().map(|r| r.id).collect(), self.selected_run, by)
            }
            Pane::Features => {
                self.selected_feature = step(
                    s.features.iter().map(|f| f.id).collect(),
                    self.selected_feature,
                    by,
                )
            }
            Pane::Queue => {
                self.selected_job =
                    step(s.jobs.iter().map(|j| j.id).collect(), self.selected_job, by)
            }
            Pane::Log if by < 0 => self.log.scroll_up(1),
            Pane::Log => self.log.scroll_down(1),
        }
    }

    fn move_to(&mut self, top: bool) {
        let s = &self.snapshot;
        fn pick<T: Copy>(ids: Vec<T>, top: bool) -> Option<T> {
            if top {
                ids.first().copied()
            } else {
                ids.last().copied()
            }
        }
        match self.focus {
            Pane::Agents => self.selected_run = pick(s.runs.iter().map(|r| r.id).collect(), top),
            Pane::Features => {
                self.selected_feature = pick(s.features.iter().map(|f| f.id).collect(), top)
            }
            Pane::Queue => self.selected_job = pick(s.jobs.iter().map(|j| j.id).collect(), top),
            Pane::Log if top => self.log.scroll_to_top(),
            Pane::Log => self.log.follow_bottom(),
        }
    }
}
