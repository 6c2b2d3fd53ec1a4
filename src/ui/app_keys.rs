//! Key routing, and the [`App`]'s side of prompts: opening them, feeding them keys and what
//! Enter does (set the log search or the feature filter, or send a line to an agent).

use super::app::{App, Outcome, Overlay};
use super::keymap;
use super::prompt::{Edit, Prompt, PromptKind};
use crate::api::{Command, RunState};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

impl App {
    /// Handles one key press. An open prompt takes every key (so `q` types a q), a question
    /// takes only y, n and Esc, and anything else goes through the keymap of the open view or
    /// focused pane.
    pub fn key(&mut self, key: &KeyEvent) -> Outcome {
        if key.kind == KeyEventKind::Release {
            return Outcome::default();
        }
        match self.overlay {
            Some(Overlay::Prompt(_)) => return self.prompt_key(key),
            Some(Overlay::Notice(_)) => {
                if matches!(key.code, KeyCode::Enter | KeyCode::Esc) {
                    self.overlay = None;
                }
                return Outcome::default();
            }
            Some(Overlay::Confirm(ref question)) => {
                let demo = matches!(question, super::app::Confirm::QuitDemo { .. });
                return match key.code {
                    // The demo's question defaults to stopping it.
                    KeyCode::Enter if demo => self.answer(true),
                    KeyCode::Char('k' | 'K') if demo => self.keep_demo(),
                    KeyCode::Char('y' | 'Y') => self.answer(true),
                    KeyCode::Char('n' | 'N') | KeyCode::Esc => self.answer(false),
                    _ => Outcome::default(),
                };
            }
            _ => {}
        }
        self.dismiss_notice();
        match keymap::lookup(&self.keymap, self.context(), key) {
            Some(action) => self.act(action),
            None => Outcome::default(),
        }
    }

    /// The open prompt, if any.
    pub fn prompt(&self) -> Option<&Prompt> {
        match &self.overlay {
            Some(Overlay::Prompt(p)) => Some(p),
            _ => None,
        }
    }

    fn prompt_key(&mut self, key: &KeyEvent) -> Outcome {
        let Some(Overlay::Prompt(prompt)) = &mut self.overlay else {
            return Outcome::default();
        };
        match prompt.editor.key(key) {
            Edit::Editing => Outcome::default(),
            Edit::Cancel => {
                self.overlay = None;
                Outcome::default()
            }
            Edit::Submit => {
                let (kind, text) = (prompt.kind, prompt.editor.text());
                self.overlay = None;
                match kind {
                    PromptKind::Search => {
                        self.log.set_search(&text);
                        Outcome::default()
                    }
                    PromptKind::Input(run) => self.send_input(run, text),
                    PromptKind::Filter => {
                        self.set_filter_text(&text);
                        Outcome::default()
                    }
                    PromptKind::Reject(feature) => self.reject(feature, text),
                    PromptKind::Deny(run) => self.deny(run, text),
                }
            }
        }
    }

    /// `/`: opens the search prompt. Corral's own log is drawn by tui-logger, outside the
    /// lines the search counts, so there it only says how to get back.
    pub(super) fn open_search(&mut self) {
        if self.show_app_log {
            self.message = Some("search works on agent output: L to return".into());
        } else {
            self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Search)));
        }
    }

    /// `n` and `N`.
    pub(super) fn step_match(&mut self, forward: bool) {
        match self.log.search.as_ref().map(|s| s.total()) {
            None => self.message = Some("no search: / to search".into()),
            Some(0) => {} // the title already says "no match"
            Some(_) => {
                if self.log.step_match(forward) == Some(true) {
                    let end = if forward { "top" } else { "bottom" };
                    self.message = Some(format!("search wrapped to the {end}"));
                }
            }
        }
    }

    /// `i`: opens a prompt for a line to the target run, if it is running. A paused agent
    /// would not read it, and an ended one has no stdin left.
    pub(super) fn open_input(&mut self) {
        let target = self.target_run().map(|r| (r.id, r.state));
        match target {
            None => self.message = Some("no agent selected".into()),
            Some((run, RunState::Running)) => {
                self.overlay = Some(Overlay::Prompt(Prompt::new(PromptKind::Input(run))));
            }
            Some((run, state)) => {
                self.overlay = Some(Overlay::Notice(format!(
                    "run {run} is {}: only a running agent takes input",
                    state_word(state)
                )))
            }
        }
    }

    fn send_input(&mut self, run: crate::api::RunId, text: String) -> Outcome {
        let mut out = Outcome::default();
        // The run may have ended while the line was typed; say so rather than send into nothing.
        match self.snapshot.runs.iter().find(|r| r.id == run) {
            Some(r) if r.state != RunState::Running => {
                self.message = Some(format!("run {run} is {}: not sent", state_word(r.state)));
            }
            _ => {
                self.message = Some(format!("sent to run {run}"));
                out.commands.push(Command::SendInput { run, text });
            }
        }
        out
    }
}

/// A run state as a message says it ("timed out", not "timed_out").
fn state_word(state: RunState) -> String {
    state.label().replace('_', " ")
}
