//! The Log pane's own state: which run, the lines it holds, follow, scroll, wrap and search.

use super::search::Search;
use crate::api::{LogLine, RunId, Stream};
use crate::core::steps::{StepBuilder, StepId};
use ansi_to_tui::IntoText;
use ratatui::text::Span;
use std::cell::Cell;
use std::collections::{HashSet, VecDeque};

/// Lines the Log pane keeps for the run it shows (the runtime's ring holds the same amount).
pub const LOG_VIEW_LINES: usize = 10_000;

#[derive(Debug, Clone)]
pub struct LogView {
    pub run: Option<RunId>,
    /// What the pane shows: the run's lines, or the rows of its steps (see `log_steps`).
    pub lines: VecDeque<LogLine>,
    /// The run's lines while `lines` holds step rows.
    pub(super) raw_store: VecDeque<LogLine>,
    /// The run's steps, read from every line the pane receives.
    pub(super) steps: StepBuilder,
    /// The person chose the raw lines (`v`); kept across runs, like wrap.
    pub raw_view: bool,
    pub(super) showing_steps: bool,
    /// The step of each row in `lines` while steps are shown.
    pub(super) row_step: VecDeque<StepId>,
    /// The seq the next step row gets.
    pub(super) next_row: u64,
    /// Steps opened with `enter`.
    pub(super) opened: HashSet<StepId>,
    /// The step under the cursor; None follows the newest.
    pub(super) cursor: Option<StepId>,
    /// Stick to the newest line.
    pub follow: bool,
    /// Lines between the bottom of the view and the newest line when not following.
    pub scroll_back: usize,
    pub wrap: bool,
    /// The search set with `/`, kept across runs and counted over `lines`.
    pub search: Option<Search>,
    /// Rows and columns inside the pane at the last draw. The renderer writes it, since only
    /// the layout knows the size, and a jump to a search match reads it to know what is on screen.
    pub page: Cell<(usize, usize)>,
}

impl Default for LogView {
    fn default() -> Self {
        LogView {
            run: None,
            lines: VecDeque::new(),
            raw_store: VecDeque::new(),
            steps: StepBuilder::default(),
            raw_view: false,
            showing_steps: false,
            row_step: VecDeque::new(),
            next_row: 0,
            opened: HashSet::new(),
            cursor: None,
            follow: true,
            scroll_back: 0,
            wrap: false,
            search: None,
            page: Cell::new((0, 0)),
        }
    }
}

impl LogView {
    pub fn reset(&mut self, run: Option<RunId>, tail: Vec<LogLine>) {
        self.run = run;
        self.steps = StepBuilder::default();
        for line in &tail {
            self.steps.line(
                line.seq,
                line.at_ms,
                &line.text,
                line.stream == Stream::Stderr,
            );
        }
        self.lines = tail.into();
        self.raw_store.clear();
        self.row_step.clear();
        self.opened.clear();
        self.cursor = None;
        self.showing_steps = false;
        self.apply_mode();
        self.follow = true;
        self.scroll_back = 0;
        // The query stays: the same search over the new run's lines (or the same run's, fetched
        // again after falling behind).
        if let Some(query) = self.search.as_ref().map(|s| s.query().to_string()) {
            self.search = Search::new(&query, &self.lines);
        }
    }

    /// Appends a live line if it belongs to the shown run and is newer than what is held.
    /// Returns whether the view changed.
    /// A line with the seq of the last one held replaces it: the runtime shows a line the
    /// agent has not finished (a question waiting for input) with the seq the finished line
    /// will get.
    pub fn push(&mut self, line: LogLine) -> bool {
        if Some(line.run) != self.run {
            return false;
        }
        if self.showing_steps {
            return self.push_behind_steps(line);
        }
        if !self.push_shown(line) {
            return false;
        }
        if let Some(line) = self.lines.back().cloned() {
            self.feed(&line);
        }
        true
    }

    /// A line of a run shown as steps: kept aside for the raw view, read into the steps.
    fn push_behind_steps(&mut self, line: LogLine) -> bool {
        match self.raw_store.back_mut() {
            Some(last) if last.seq > line.seq => return false,
            Some(last) if last.seq == line.seq => {
                if last.text == line.text && last.stream == line.stream {
                    return false;
                }
                *last = line.clone();
            }
            _ => {
                if self.raw_store.len() >= LOG_VIEW_LINES {
                    self.raw_store.pop_front();
                }
                self.raw_store.push_back(line.clone());
            }
        }
        self.feed(&line)
    }

    /// Appends a line to what is shown (or replaces the last, see [`LogView::push`]).
    fn push_shown(&mut self, line: LogLine) -> bool {
        if self.lines.back().is_some_and(|l| l.seq > line.seq) {
            return false;
        }
        if let Some(last) = self.lines.back_mut().filter(|l| l.seq == line.seq) {
            if last.text == line.text && last.stream == line.stream {
                return false;
            }
            if let Some(search) = &mut self.search {
                search.forget_last(line.seq);
                search.added(&line);
            }
            *last = line;
            return true;
        }
        if self.lines.len() >= LOG_VIEW_LINES {
            self.lines.pop_front();
            if let (Some(search), Some(front)) = (&mut self.search, self.lines.front()) {
                search.dropped_before(front.seq);
            }
        }
        if let Some(search) = &mut self.search {
            search.added(&line);
        }
        self.lines.push_back(line);
        if !self.follow {
            // Keep the same lines on screen while the person reads back.
            self.scroll_back = (self.scroll_back + 1).min(self.lines.len());
        }
        true
    }

    pub fn scroll_up(&mut self, n: usize) {
        if self.showing_steps {
            return self.move_cursor(-(n as isize));
        }
        self.follow = false;
        self.scroll_back = (self.scroll_back + n).min(self.lines.len().saturating_sub(1));
    }

    pub fn scroll_down(&mut self, n: usize) {
        if self.showing_steps {
            return self.move_cursor(n as isize);
        }
        self.scroll_back = self.scroll_back.saturating_sub(n);
        if self.scroll_back == 0 {
            self.follow = true;
        }
    }

    pub fn scroll_to_top(&mut self) {
        if self.showing_steps {
            return self.cursor_to_top();
        }
        self.follow = false;
        self.scroll_back = self.lines.len().saturating_sub(1);
    }

    pub fn follow_bottom(&mut self) {
        self.cursor = None;
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

impl LogView {
    /// One past the index of the newest line on screen, for a pane of `rows` rows. Scrolled to
    /// the top, the pane still shows a full page: the first line sits at the top.
    pub fn end(&self, rows: usize) -> usize {
        let len = self.lines.len();
        len.saturating_sub(self.scroll_back).max(rows.min(len))
    }

    /// The index of the oldest line wholly on screen when the newest shown is `end - 1`.
    fn top(&self, end: usize) -> usize {
        let (rows, cols) = self.page.get();
        if !self.wrap || cols == 0 {
            return end.saturating_sub(rows.max(1));
        }
        // Wrapped lines take several rows: count them as the renderer does.
        let mut used = 0;
        let mut top = end;
        while top > 0 {
            let need = line_width(&self.lines[top - 1]).max(1).div_ceil(cols);
            if used + need > rows {
                break;
            }
            used += need;
            top -= 1;
        }
        top
    }

    /// Leaves follow mode and scrolls, only if needed, so the line `seq` is on screen; a line
    /// that was off screen ends up in the middle of the pane, with context on both sides.
    pub fn reveal(&mut self, seq: u64) {
        let Ok(idx) = self.lines.binary_search_by_key(&seq, |l| l.seq) else {
            return;
        };
        // Pinned where it is, the view no longer moves as lines arrive.
        self.follow = false;
        let rows = self.page.get().0.max(1);
        let end = self.end(rows);
        if (self.top(end)..end).contains(&idx) {
            return;
        }
        let len = self.lines.len();
        self.scroll_back = len - (idx + 1 + rows / 2).min(len);
        if idx < self.top(self.end(rows)) {
            // Long wrapped lines below it would push it off the top: put it at the bottom.
            self.scroll_back = len - (idx + 1);
        }
    }

    /// Sets the search (an empty query clears it) and shows the match nearest the bottom of
    /// the view. Returns false when nothing matches, and then the view does not move.
    pub fn set_search(&mut self, query: &str) -> bool {
        self.search = Search::new(query, &self.lines);
        let end = self.end(self.page.get().0);
        let bottom = match end.checked_sub(1) {
            Some(i) => self.lines[i].seq,
            None => return false,
        };
        match self.search.as_mut().and_then(|s| s.nearest(bottom)) {
            Some(seq) => {
                self.reveal(seq);
                true
            }
            None => false,
        }
    }

    /// `n`/`N`: moves to the next (newer) or previous match and shows it. Returns whether the
    /// search wrapped around, or None when there is no match to go to.
    pub fn step_match(&mut self, forward: bool) -> Option<bool> {
        let (seq, wrapped) = self.search.as_mut()?.step(forward)?;
        self.reveal(seq);
        Some(wrapped)
    }
}

/// A line of agent output as styled spans: SGR colours kept, every other control character
/// replaced by a space so nothing an agent prints can move the cursor or clear the screen.
pub fn parse_line(text: &str) -> Vec<Span<'static>> {
    let text = super::sanitize::keep_only_colours(text);
    let text = text.as_ref();
    let parsed = text
        .as_bytes()
        .into_text()
        .ok()
        .and_then(|t| t.lines.into_iter().next());
    let Some(parsed) = parsed else {
        return vec![Span::raw(clean(text))];
    };
    parsed
        .spans
        .into_iter()
        .map(|span| Span::styled(clean(&span.content), span.style))
        .collect()
}

fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The text of a line as the pane shows it, without colours: what search matches against.
pub fn plain_text(text: &str) -> String {
    parse_line(text)
        .iter()
        .map(|s| s.content.as_ref())
        .collect()
}

/// Cells a line takes unwrapped, the stderr mark included.
fn line_width(line: &LogLine) -> usize {
    let mark = if line.stream == Stream::Stderr { 2 } else { 0 };
    mark + parse_line(&line.text)
        .iter()
        .map(Span::width)
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(texts: impl IntoIterator<Item = String>, rows: usize, cols: usize) -> LogView {
        let lines = texts.into_iter().enumerate().map(|(i, text)| LogLine {
            run: RunId(1),
            seq: i as u64,
            stream: Stream::Stdout,
            at_ms: 0,
            text,
        });
        let mut v = LogView::default();
        v.reset(Some(RunId(1)), lines.collect());
        v.page.set((rows, cols));
        v
    }

    #[test]
    fn reveal_scrolls_only_to_lines_off_screen_and_centres_them() {
        let mut v = view((0..100).map(|i| format!("line {i}")), 10, 40);
        v.reveal(95);
        assert_eq!(
            (v.follow, v.scroll_back),
            (false, 0),
            "on screen: pinned, not moved"
        );
        v.reveal(40);
        assert_eq!(v.end(10), 46, "five lines below it, four above");
        v.reveal(2);
        assert_eq!(
            v.end(10),
            10,
            "near the top the page starts at the first line"
        );
    }

    #[test]
    fn reveal_counts_wrapped_rows() {
        // Every line takes three rows at 10 columns, so a 9-row pane holds three lines.
        let mut v = view((0..20).map(|i| format!("{i:<25}")), 9, 10);
        v.wrap = true;
        v.reveal(17);
        assert_eq!(v.scroll_back, 0, "17, 18 and 19 are on screen");
        v.reveal(16);
        assert_eq!(v.end(9), 17, "too tall to centre: it goes to the bottom");
    }
}
