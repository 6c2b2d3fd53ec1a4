//! The Features pane's filters (a status, picked with `1`..`6`, and a text typed after `F`)
//! and the keys that act on one feature: requeue, mark passing or failing, priority.

use super::app::{App, Confirm, Outcome, Overlay, Pane, View};
use super::keymap::Action;
use super::prompt::{Prompt, PromptKind};
use crate::api::{Command, FeatureId, FeatureStatus, FeatureView};

/// Which features the Features pane lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeatureFilter {
    /// Only features with this status; `Blocked` takes in `Pending` too (a pending feature
    /// is waiting on something, like a blocked one).
    pub status: Option<FeatureStatus>,
    /// Only features whose name or category holds this, in any case; empty: no text filter.
    pub text: String,
}

impl FeatureFilter {
    /// True if some features may be left out.
    pub fn is_active(&self) -> bool {
        self.status.is_some() || !self.text.is_empty()
    }

    /// True if the pane lists `f`.
    pub fn matches(&self, f: &FeatureView) -> bool {
        let status = match self.status {
            None => true,
            Some(FeatureStatus::Blocked) => {
                matches!(f.status, FeatureStatus::Blocked | FeatureStatus::Pending)
            }
            Some(s) => f.status == s,
        };
        let needle = self.text.to_lowercase();
        status
            && (needle.is_empty()
                || f.name.to_lowercase().contains(&needle)
                || f.category.to_lowercase().contains(&needle))
    }

    /// What the pane title says of the filter: `failing`, `"cart"` or `failing "cart"`.
    pub fn describe(&self) -> String {
        let status = self.status.map(|s| s.as_str().replace('_', " "));
        let text = (!self.text.is_empty()).then(|| format!("\"{}\"", self.text));
        [status, text]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl App {
    /// The features the Features pane lists, in backlog order.
    pub fn visible_features(&self) -> Vec<&FeatureView> {
        self.snapshot
            .features
            .iter()
            .filter(|f| self.filter.matches(f))
            .collect()
    }

    pub(super) fn visible_feature_ids(&self) -> Vec<FeatureId> {
        self.visible_features().iter().map(|f| f.id).collect()
    }

    /// Keeps the selection on a listed feature: the same one if it still is, else the first.
    pub(super) fn keep_feature_visible(&mut self) {
        let ids = self.visible_feature_ids();
        if !self.selected_feature.is_some_and(|id| ids.contains(&id)) {
            self.selected_feature = ids.first().copied();
        }
    }

    /// `1`..`6` pick a status, `0` shows every status again.
    pub(super) fn filter_status(&mut self, status: Option<FeatureStatus>) {
        self.filter.status = status;
        self.keep_feature_visible();
    }

    /// `F`: a prompt holding the current text filter, to edit or clear.
    pub(super) fn open_filter(&mut self) {
        let mut prompt = Prompt::new(PromptKind::Filter);
        for c in self.filter.text.chars() {
            prompt.editor.insert(c);
        }
        self.overlay = Some(Overlay::Prompt(prompt));
    }

    /// Enter in the filter prompt; an empty text removes the text filter.
    pub(super) fn set_filter_text(&mut self, text: &str) {
        self.filter.text = text.trim().to_string();
        self.keep_feature_visible();
    }

    /// The feature the feature keys act on: the open detail's, else the Features pane's
    /// selection (only while that pane has focus).
    pub(super) fn target_feature(&self) -> Option<&FeatureView> {
        let id = match &self.view {
            View::Detail(d) => Some(d.feature),
            _ if self.focus == Pane::Features => self.selected_feature,
            _ => None,
        }?;
        self.snapshot.features.iter().find(|f| f.id == id)
    }

    /// Requeue and mark ask first; priority changes are sent at once (they are undone by the
    /// other key).
    pub(super) fn act_on_feature(&mut self, action: Action) -> Outcome {
        let mut out = Outcome::default();
        let Some(f) = self.target_feature() else {
            self.message = Some("no feature selected".into());
            return out;
        };
        let (feature, status, priority) = (f.id, f.status, f.priority);
        let ask = |q: Confirm| Some(Overlay::Confirm(q));
        match action {
            // The runtime would refuse: say so now rather than ask a question for nothing.
            Action::Requeue if status == FeatureStatus::InProgress => {
                self.message = Some(format!("#{feature} is in progress: not requeued"));
            }
            Action::Requeue => self.overlay = ask(Confirm::Requeue(feature)),
            Action::MarkPassing | Action::MarkFailing => {
                let passing = action == Action::MarkPassing;
                self.overlay = ask(Confirm::Mark { feature, passing });
            }
            Action::Sooner | Action::Later => {
                let priority = match action {
                    Action::Sooner => priority.saturating_sub(1),
                    _ => priority.saturating_add(1),
                };
                out.commands
                    .push(Command::SetPriority { feature, priority });
                // Keys pressed in a burst arrive before the runtime's next snapshot: the next
                // press builds on this one, and that snapshot brings the stored value anyway.
                if let Some(f) = self.snapshot.features.iter_mut().find(|f| f.id == feature) {
                    f.priority = priority;
                }
                self.message = Some(format!("#{feature} priority {priority} (lower: sooner)"));
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, category: &str, status: FeatureStatus) -> FeatureView {
        FeatureView {
            id: FeatureId(1),
            category: category.into(),
            name: name.into(),
            priority: 0,
            status,
            dependencies: vec![],
            blocked_by: vec![],
            attempts: 0,
            usage: Default::default(),
            merge: None,
        }
    }

    #[test]
    fn text_matches_name_or_category_in_any_case_and_blocked_takes_pending() {
        let filter = FeatureFilter {
            status: None,
            text: "CaRt".into(),
        };
        assert!(filter.matches(&f("Cart totals", "Shop", FeatureStatus::Ready)));
        assert!(filter.matches(&f("Totals", "cart", FeatureStatus::Ready)));
        assert!(!filter.matches(&f("Login", "Auth", FeatureStatus::Ready)));
        let blocked = FeatureFilter {
            status: Some(FeatureStatus::Blocked),
            text: String::new(),
        };
        assert!(blocked.matches(&f("x", "y", FeatureStatus::Pending)));
        assert!(!blocked.matches(&f("x", "y", FeatureStatus::Ready)));
        let both = FeatureFilter {
            text: "cart".into(),
            ..blocked
        };
        assert_eq!(both.describe(), "blocked \"cart\"");
        assert!(!FeatureFilter::default().is_active());
    }
}
