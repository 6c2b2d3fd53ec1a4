//! The Profiles view's keys: move the selection, turn a profile on or off.

use super::app::{App, Outcome, View};
use super::keymap::Action;
use crate::api::{Command, ProfileView};

impl App {
    /// The profile the selection is on.
    pub fn current_profile(&self) -> Option<&ProfileView> {
        let name = self.selected_profile.as_ref()?;
        self.snapshot.profiles.iter().find(|p| &p.name == name)
    }

    /// Keeps the selection on the same profile by name, else on the first.
    pub(super) fn keep_profile_selected(&mut self) {
        if self.current_profile().is_none() {
            self.selected_profile = self.snapshot.profiles.first().map(|p| p.name.clone());
        }
    }

    pub(super) fn act_on_profiles(&mut self, action: Action) -> Outcome {
        let mut out = Outcome::default();
        let profiles = &self.snapshot.profiles;
        let last = profiles.len().saturating_sub(1);
        let at = self
            .current_profile()
            .and_then(|p| profiles.iter().position(|q| q.name == p.name))
            .unwrap_or(0);
        let to = match action {
            Action::Down => Some(at + 1),
            Action::Up => Some(at.saturating_sub(1)),
            Action::PageDown => Some(at + 10),
            Action::PageUp => Some(at.saturating_sub(10)),
            Action::Top => Some(0),
            Action::Bottom => Some(last),
            _ => None,
        };
        if let Some(to) = to {
            self.selected_profile = profiles.get(to.min(last)).map(|p| p.name.clone());
            return out;
        }
        match action {
            Action::ToggleProfile => match self.current_profile() {
                Some(p) => {
                    let (profile, enabled) = (p.name.clone(), !p.enabled);
                    let verb = if enabled { "enabling" } else { "disabling" };
                    self.message = Some(format!("{verb} profile {profile}"));
                    out.commands
                        .push(Command::SetProfileEnabled { profile, enabled });
                }
                None => self.message = Some("no profile selected".into()),
            },
            Action::Back => self.view = View::Dashboard,
            _ => {}
        }
        out
    }
}
