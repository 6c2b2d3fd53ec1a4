//! Answering runs that need a person: allow, deny (asking why) or allow a tool for the rest
//! of the run, and going to the run that has waited longest.

use super::app::{App, Outcome, Overlay, Pane};
use super::keymap::Action;
use super::prompt::{Prompt, PromptKind};
use crate::api::{Answer, Ask, Command, RunId};

impl App {
    /// Runs waiting for a person, oldest wait first.
    pub fn waiting_runs(&self) -> Vec<&crate::api::RunView> {
        let mut runs: Vec<_> = self
            .snapshot
            .runs
            .iter()
            .filter(|r| r.state.is_live() && r.waiting.is_some())
            .collect();
        runs.sort_by_key(|r| r.waiting.as_ref().map_or(i64::MAX, |w| w.since_ms));
        runs
    }

    /// `!`: selects the run that has waited longest in the Agents pane.
    pub(super) fn next_waiting(&mut self) {
        let Some(id) = self.waiting_runs().first().map(|r| r.id) else {
            self.message = Some("no run needs you".into());
            return;
        };
        self.focus = Pane::Agents;
        self.selected_run = Some(id);
        self.run_pinned = true;
    }

    /// `a`, `d` and `A` on the target run (the selected agent, the run the Log pane shows).
    pub(super) fn answer_ask(&mut self, action: Action) -> Outcome {
        let mut out = Outcome::default();
        let Some(run) = self.target_run() else {
            self.message = Some("no agent selected".into());
            return out;
        };
        let id = run.id;
        match run.waiting.as_ref().map(|w| &w.ask) {
            None => self.message = Some(format!("run {id} asks nothing")),
            Some(Ask::Approval { .. }) => match action {
                Action::Deny => {
                    self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Deny(id))));
                }
                Action::AllowTool => out.commands.push(Command::Answer {
                    run: id,
                    answer: Answer::AllowTool,
                }),
                _ => out.commands.push(Command::Answer {
                    run: id,
                    answer: Answer::Allow,
                }),
            },
            Some(ask) => {
                self.message = Some(format!("run {id} {}: answer with i", ask.describe()));
            }
        }
        out
    }

    /// The deny prompt's Enter: the reason goes to the agent (an empty one says just no).
    pub(super) fn deny(&mut self, run: RunId, reason: String) -> Outcome {
        let reason = Some(reason.trim().to_string()).filter(|r| !r.is_empty());
        Outcome {
            commands: vec![Command::Answer {
                run,
                answer: Answer::Deny { reason },
            }],
            ..Outcome::default()
        }
    }
}
