//! The feature detail view's state. Its text and run history are not in snapshots: the App
//! asks for them ([`Outcome::want_detail`]) and the event loop hands them back.

use super::app::{App, Outcome, Pane, View};
use super::keymap::Action;
use super::scroll::Scroll;
use crate::api::{FeatureDetail, FeatureId, Snapshot};

/// Where the view's detail stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// Asked for; the view shows what the snapshot knows meanwhile.
    Waiting,
    /// The detail as read (boxed: it is large next to the other states).
    Found(Box<FeatureDetail>),
    /// The runtime had nothing for this feature (it was removed, or the database failed).
    Missing,
}

/// One feature, shown over the whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailView {
    /// The feature shown; the feature keys act on it.
    pub feature: FeatureId,
    pub detail: Loaded,
    /// How far the view is scrolled (it is often taller than the screen at 80x24).
    pub scroll: Scroll,
}

impl App {
    /// `enter` in the Features pane.
    pub(super) fn open_detail(&mut self) -> Outcome {
        let Some(feature) = self
            .selected_feature
            .filter(|_| self.focus == Pane::Features)
        else {
            self.message = Some("no feature selected".into());
            return Outcome::default();
        };
        self.view = View::Detail(DetailView {
            feature,
            detail: Loaded::Waiting,
            scroll: Scroll::default(),
        });
        Outcome {
            want_detail: Some(feature),
            ..Outcome::default()
        }
    }

    /// The event loop's answer to [`Outcome::want_detail`]. Kept only if the view still
    /// shows that feature; the scroll position stays, so a refresh does not jump.
    pub fn set_detail(&mut self, feature: FeatureId, detail: Option<FeatureDetail>) {
        if let View::Detail(view) = &mut self.view
            && view.feature == feature
        {
            view.detail = detail.map_or(Loaded::Missing, |d| Loaded::Found(Box::new(d)));
        }
    }

    pub(super) fn act_on_detail(&mut self, action: Action) -> Outcome {
        let View::Detail(view) = &mut self.view else {
            return Outcome::default();
        };
        if view.scroll.apply(action) {
            return Outcome::default();
        }
        match action {
            Action::Back => self.view = View::Dashboard,
            Action::Diff => return self.open_diff(),
            Action::Requeue
            | Action::MarkPassing
            | Action::MarkFailing
            | Action::Sooner
            | Action::Later => return self.act_on_feature(action),
            _ => {}
        }
        Outcome::default()
    }

    /// The open detail's feature, if the new snapshot changed it or one of its runs: its
    /// history and last error are only up to date once read again.
    pub(super) fn detail_changed(&self, old: &Snapshot) -> Option<FeatureId> {
        let View::Detail(view) = &self.view else {
            return None;
        };
        let id = view.feature;
        let feature = |s: &Snapshot| s.features.iter().find(|f| f.id == id).cloned();
        let runs = |s: &Snapshot| -> Vec<_> {
            s.runs
                .iter()
                .filter(|r| r.feature == Some(id))
                .map(|r| (r.id, r.state))
                .collect()
        };
        (feature(old) != feature(&self.snapshot) || runs(old) != runs(&self.snapshot)).then_some(id)
    }
}
