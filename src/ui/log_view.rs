//! The Log pane's own state: which run, the lines it holds, follow, scroll and wrap.

use crate::api::{LogLine, RunId};
use std::collections::VecDeque;

/// Lines the Log pane keeps for the run it shows (the runtime's ring holds the same amount).
pub const LOG_VIEW_LINES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct LogView {
    pub run: Option<RunId>,
    pub lines: VecDeque<LogLine>,
    /// Stick to the newest line.
    pub follow: bool,
    /// Lines between the bottom of the view and the newest line when not following.
    pub scroll_back: usize,
    pub wrap: bool,
}

impl Default for LogView {
    fn default() -> Self {
        LogView {
            run: None,
            lines: VecDeque::new(),
            follow: true,
            scroll_back: 0,
            wrap: false,
        }
    }
}

impl LogView {
    pub fn reset(&mut self, run: Option<RunId>, tail: Vec<LogLine>) {
        self.run = run;
        self.lines = tail.into();
        self.follow = true;
        self.scroll_back = 0;
    }

    /// Appends a live line if it belongs to the shown run and is newer than what is held.
    /// Returns whether the view changed.
    pub fn push(&mut self, line: LogLine) -> bool {
        if Some(line.run) != self.run || self.lines.back().is_some_and(|l| l.seq >= line.seq) {
            return false;
        }
        if self.lines.len() >= LOG_VIEW_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        if !self.follow {
            // Keep the same lines on screen while the person reads back.
            self.scroll_back = (self.scroll_back + 1).min(self.lines.len());
        }
        true
    }

    pub fn scroll_up(&mut self, n: usize) {
        self.follow = false;
        self.scroll_back = (self.scroll_back + n).min(self.lines.len().saturating_sub(1));
    }

    pub fn scroll_down(&mut self, n: usize) {
        self.scroll_back = self.scroll_back.saturating_sub(n);
        if self.scroll_back == 0 {
            self.follow = true;
        }
    }

    pub fn scroll_to_top(&mut self) {
        self.follow = false;
        self.scroll_back = self.lines.len().saturating_sub(1);
    }

    pub fn follow_bottom(&mut self) {
        self.follow = true;
        self.scroll_back = 0;
    }

    pub fn toggle_follow(&mut self) {
        if self.follow {
            self.follow = false;
        } else {
            self.follow_bottom();
        }
    }
}
