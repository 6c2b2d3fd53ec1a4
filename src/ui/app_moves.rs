//! Moving the focused pane's selection, or scrolling the Log pane.

use super::app::{App, Pane};

impl App {
    /// `j`/`k`: the next or previous row of the focused pane (only rows the pane lists).
    pub(super) fn move_by(&mut self, by: isize) {
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
                    step(s.runs.iter().map(|r| r.id).collect(), self.selected_run, by);
                self.run_pinned = true;
            }
            Pane::Features => {
                self.selected_feature = step(self.visible_feature_ids(), self.selected_feature, by)
            }
            Pane::Queue => {
                self.selected_job =
                    step(s.jobs.iter().map(|j| j.id).collect(), self.selected_job, by);
                self.job_pinned = true;
            }
            Pane::Log if by < 0 => self.log.scroll_up(1),
            Pane::Log => self.log.scroll_down(1),
        }
    }

    /// `g`/`G`: the first or last row, or the top or bottom of the log.
    pub(super) fn move_to(&mut self, top: bool) {
        let s = &self.snapshot;
        fn pick<T: Copy>(ids: Vec<T>, top: bool) -> Option<T> {
            if top {
                ids.first().copied()
            } else {
                ids.last().copied()
            }
        }
        match self.focus {
            // `g` goes back to riding on the first row; `G` stays at the bottom.
            Pane::Agents => {
                self.selected_run = pick(s.runs.iter().map(|r| r.id).collect(), top);
                self.run_pinned = !top;
            }
            Pane::Features => self.selected_feature = pick(self.visible_feature_ids(), top),
            Pane::Queue => {
                self.selected_job = pick(s.jobs.iter().map(|j| j.id).collect(), top);
                self.job_pinned = !top;
            }
            Pane::Log if top => self.log.scroll_to_top(),
            Pane::Log => self.log.follow_bottom(),
        }
    }
}
