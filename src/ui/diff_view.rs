//! The diff view: `d` on a feature shows its change against its base, files with their line
//! counts first, then the patch, scrollable, with keys to jump from file to file. The diff is
//! not in snapshots: the App asks for it ([`Outcome::want_diff`]) and the event loop reads it.

use super::app::{App, Outcome, Pane, View};
use super::keymap::Action;
use super::scroll::Scroll;
use crate::api::{FeatureDiff, FeatureId};

impl App {
    /// The reject prompt's Enter: an empty reason is refused (the agent needs to know what
    /// to change).
    pub(super) fn reject(&mut self, feature: FeatureId, reason: String) -> Outcome {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            self.message = Some("not rejected: say what should change".into());
            return Outcome::default();
        }
        self.view = View::Dashboard;
        self.message = Some(format!("feature {feature} rejected: back to the queue"));
        Outcome {
            commands: vec![crate::api::Command::RejectFeature { feature, reason }],
            ..Outcome::default()
        }
    }
}

/// Rows above the patch: the summary line, one per file, a blank line.
pub fn header_rows(diff: &FeatureDiff) -> usize {
    diff.files.len() + 2
}

/// One feature's diff, shown over the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffView {
    pub feature: FeatureId,
    /// `None` while it is read; `Some(None)` when the feature has no worktree.
    pub diff: Option<Option<Box<FeatureDiff>>>,
    pub scroll: Scroll,
}

impl App {
    /// `d` in the Features pane or the detail view.
    pub(super) fn open_diff(&mut self) -> Outcome {
        let feature = match &self.view {
            View::Detail(d) => Some(d.feature),
            _ => self
                .selected_feature
                .filter(|_| self.focus == Pane::Features),
        };
        let Some(feature) = feature else {
            self.message = Some("no feature selected".into());
            return Outcome::default();
        };
        self.view = View::Diff(DiffView {
            feature,
            diff: None,
            scroll: Scroll::default(),
        });
        Outcome {
            want_diff: Some(feature),
            ..Outcome::default()
        }
    }

    /// The event loop's answer to [`Outcome::want_diff`].
    pub fn set_diff(&mut self, feature: FeatureId, diff: Option<FeatureDiff>) {
        if let View::Diff(view) = &mut self.view
            && view.feature == feature
        {
            view.diff = Some(diff.map(Box::new));
        }
    }

    pub(super) fn act_on_diff(&mut self, action: Action) -> Outcome {
        let View::Diff(view) = &mut self.view else {
            return Outcome::default();
        };
        if view.scroll.apply(action) {
            return Outcome::default();
        }
        match action {
            Action::Back => self.view = View::Dashboard,
            Action::MergeFeature => {
                let feature = view.feature;
                self.message = Some(format!(
                    "merging feature {feature}: the Features pane shows how it went"
                ));
                return Outcome {
                    commands: vec![crate::api::Command::MergeFeature { feature }],
                    ..Outcome::default()
                };
            }
            Action::RejectFeature => {
                let kind = super::prompt::PromptKind::Reject(view.feature);
                self.overlay = Some(super::app::Overlay::Prompt(super::prompt::Prompt::new(
                    kind,
                )));
            }
            Action::NextFile | Action::PrevFile => {
                if let Some(Some(diff)) = &view.diff {
                    let rows: Vec<u16> = diff
                        .file_starts()
                        .iter()
                        .map(|s| (s + header_rows(diff)) as u16)
                        .collect();
                    let at = view.scroll.offset();
                    let target = if action == Action::NextFile {
                        rows.iter().copied().find(|r| *r > at)
                    } else {
                        rows.iter().rev().copied().find(|r| *r < at)
                    };
                    match target {
                        Some(row) => view.scroll.set_offset(row),
                        None if action == Action::PrevFile => view.scroll.set_offset(0),
                        None => {}
                    }
                }
            }
            _ => {}
        }
        Outcome::default()
    }
}
