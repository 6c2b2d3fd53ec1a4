//! The Log pane's steps view: for a run whose agent prints a structured event stream, one row
//! per step (`Bash  cargo test -q  ok 14s`) instead of the raw JSON lines, with a cursor, steps
//! opened to their full input and output, and a key back to the raw lines.
//!
//! The rows are held as lines, so scrolling, wrapping and search work over what is shown,
//! whichever view it is. Rows follow the steps as lines arrive: a new step adds its rows, a
//! step changed in place (a call that got its result) redraws the rows from it to the end,
//! which is the last few rows nearly always. Nothing reads the run's history again per line.

use super::log_view::{LOG_VIEW_LINES, LogView};
use super::search::Search;
use crate::api::{LogLine, Stream};
use crate::core::steps::{Change, Step, StepId, StepKind, Tone, expanded, one_line};

/// SGR codes for a piece's tone: the pane draws them as it draws an agent's own colours (and
/// drops them when colours are off).
fn sgr(tone: Tone) -> &'static str {
    match tone {
        Tone::Label => "\x1b[1m",
        Tone::Dim => "\x1b[2m",
        Tone::Good => "\x1b[32m",
        Tone::Bad => "\x1b[31m",
        Tone::Warn => "\x1b[33m",
        Tone::Plain => "",
    }
}

/// A step's rows: its line, then, opened, what its line leaves out.
fn step_rows(step: &Step, open: bool) -> Vec<(String, Stream)> {
    let indent = "  ".repeat(step.depth as usize);
    let mut line = indent.clone();
    for (tone, text) in one_line(step) {
        let code = sgr(tone);
        if code.is_empty() {
            line.push_str(&text);
        } else {
            line.push_str(code);
            line.push_str(&text);
            line.push_str("\x1b[0m");
        }
    }
    let stream = match step.kind {
        StepKind::Raw { stderr: true, .. } => Stream::Stderr,
        _ => Stream::Stdout,
    };
    let mut rows = vec![(line, stream)];
    if open {
        rows.extend(
            expanded(step)
                .into_iter()
                .map(|r| (format!("{indent}    \x1b[2m{r}\x1b[0m"), Stream::Stdout)),
        );
    }
    rows
}

impl LogView {
    /// True while the pane shows steps (the run prints an event stream and the raw view is
    /// not chosen).
    pub fn shows_steps(&self) -> bool {
        self.showing_steps
    }

    /// True when the run prints an event stream: it has steps to show.
    pub fn steps_known(&self) -> bool {
        self.steps.structured()
    }

    /// Reads one line into the run's steps and follows the change on screen; returns whether
    /// the screen changed.
    pub(super) fn feed(&mut self, line: &LogLine) -> bool {
        let change = self.steps.line(
            line.seq,
            line.at_ms,
            &line.text,
            line.stream == Stream::Stderr,
        );
        if !self.showing_steps {
            if change.became_structured && !self.raw_view {
                self.apply_mode();
                return true;
            }
            return false;
        }
        self.follow_change(change)
    }

    fn follow_change(&mut self, change: Change) -> bool {
        if change.removed || change.became_structured {
            self.rows_from(0);
            return true;
        }
        if let Some(id) = change.updated {
            self.rows_from(id);
            return true;
        }
        if change.added > 0 {
            let held = self.steps.steps();
            let from = held[held.len() - change.added].id;
            self.rows_from(from);
            return true;
        }
        false
    }

    /// Shows steps or raw lines as the person chose and the run allows.
    pub(super) fn apply_mode(&mut self) {
        let want = !self.raw_view && self.steps.structured();
        if want == self.showing_steps {
            return;
        }
        self.showing_steps = want;
        if want {
            self.raw_store = std::mem::take(&mut self.lines);
            self.row_step.clear();
            self.rows_from(0);
        } else {
            self.lines = std::mem::take(&mut self.raw_store);
            self.row_step.clear();
        }
        self.cursor = None;
        self.follow = true;
        self.scroll_back = 0;
        self.search_again();
    }

    /// `v`: raw lines or steps. None when the run prints no event stream (nothing to switch).
    pub fn toggle_raw(&mut self) -> Option<bool> {
        if !self.steps.structured() {
            return None;
        }
        self.raw_view = !self.raw_view;
        self.apply_mode();
        Some(self.showing_steps)
    }

    /// `enter`: opens or closes the step under the cursor (the newest one while following).
    /// False when there is no step to open.
    pub fn toggle_open(&mut self) -> bool {
        if !self.showing_steps {
            return false;
        }
        let Some(id) = self.cursor.or_else(|| self.row_step.back().copied()) else {
            return false;
        };
        if !self.opened.remove(&id) {
            self.opened.insert(id);
        }
        self.cursor = Some(id);
        self.rows_from(id);
        if let Some(seq) = self.first_row_of(id) {
            self.reveal(seq);
        }
        true
    }

    /// True if the row at `index` is the first row of the step under the cursor.
    pub fn is_cursor_row(&self, index: usize) -> bool {
        let Some(cursor) = self.cursor.filter(|_| self.showing_steps) else {
            return false;
        };
        self.row_step.get(index) == Some(&cursor)
            && (index == 0 || self.row_step.get(index - 1) != Some(&cursor))
    }

    /// Moves the cursor `by` steps (down is positive) and shows it; past the newest step the
    /// pane follows again.
    pub(super) fn move_cursor(&mut self, by: isize) {
        let Some(&newest) = self.row_step.back() else {
            return;
        };
        let oldest = self.row_step.front().copied().unwrap_or(newest);
        let mut at = self.cursor.unwrap_or(newest);
        for _ in 0..by.unsigned_abs() {
            let next = if by > 0 {
                let i = self.row_step.partition_point(|s| *s <= at);
                self.row_step.get(i).copied()
            } else {
                let i = self.row_step.partition_point(|s| *s < at);
                i.checked_sub(1).map(|i| self.row_step[i])
            };
            match next {
                Some(id) => at = id,
                None if by > 0 => {
                    self.cursor = None;
                    self.follow = true;
                    self.scroll_back = 0;
                    return;
                }
                None => break,
            }
        }
        self.cursor = Some(at.max(oldest));
        if let Some(seq) = self.first_row_of(at) {
            self.reveal(seq);
        }
    }

    /// The cursor on the oldest step.
    pub(super) fn cursor_to_top(&mut self) {
        if let Some(&first) = self.row_step.front() {
            self.cursor = Some(first);
            if let Some(seq) = self.first_row_of(first) {
                self.reveal(seq);
            }
        }
    }

    fn first_row_of(&self, id: StepId) -> Option<u64> {
        let i = self.row_step.partition_point(|s| *s < id);
        (self.row_step.get(i) == Some(&id)).then(|| self.lines[i].seq)
    }

    /// Draws again the rows of step `from` and every newer step.
    fn rows_from(&mut self, from: StepId) {
        let before = self.lines.len();
        let at = self.row_step.partition_point(|s| *s < from);
        let cut = at < self.lines.len();
        self.lines.truncate(at);
        self.row_step.truncate(at);
        let run = self.run.unwrap_or(crate::api::RunId(0));
        let steps = self.steps.steps();
        let first = steps.partition_point(|s| s.id < from);
        let mut added: Vec<(LogLine, StepId)> = Vec::new();
        for step in steps.iter().skip(first) {
            for (text, stream) in step_rows(step, self.opened.contains(&step.id)) {
                added.push((
                    LogLine {
                        run,
                        seq: self.next_row,
                        stream,
                        at_ms: step.at_ms,
                        text,
                    },
                    step.id,
                ));
                self.next_row += 1;
            }
        }
        // Rows of steps the run no longer holds go.
        let oldest = steps.front().map_or(0, |s| s.id);
        for (line, id) in added {
            if !cut && let Some(search) = &mut self.search {
                search.added(&line);
            }
            self.lines.push_back(line);
            self.row_step.push_back(id);
        }
        let mut dropped = false;
        while self.row_step.front().is_some_and(|s| *s < oldest)
            || self.lines.len() > 2 * LOG_VIEW_LINES
        {
            self.row_step.pop_front();
            self.lines.pop_front();
            dropped = true;
        }
        if cut || dropped {
            self.search_again();
        }
        if !self.follow {
            let grown = self.lines.len() as isize - before as isize;
            let back = (self.scroll_back as isize + grown).max(0) as usize;
            self.scroll_back = back.min(self.lines.len().saturating_sub(1));
        }
    }

    /// Counts the search again over what is shown.
    pub(super) fn search_again(&mut self) {
        if let Some(query) = self.search.as_ref().map(|s| s.query().to_string()) {
            self.search = Search::new(&query, &self.lines);
        }
    }
}
