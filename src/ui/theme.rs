//! Colours and glyphs, with a plain fallback for `NO_COLOR` and an ASCII one for poor fonts.

use crate::api::{FeatureStatus, JobState, RunState};
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// False when `NO_COLOR` is set: only bold/reverse/dim are used.
    pub color: bool,
    /// True to draw only ASCII glyphs.
    pub ascii: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            color: true,
            ascii: false,
        }
    }
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::default().fg(Color::Cyan),
            (true, false) => Style::default().add_modifier(Modifier::BOLD),
            (false, _) => self.fg(Color::DarkGray),
        }
    }

    pub fn title(&self, focused: bool) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if focused && self.color {
            s.fg(Color::Cyan)
        } else {
            s
        }
    }

    pub fn selected(&self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::DarkGray)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn dim(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn error(&self) -> Style {
        self.fg(Color::Red)
    }

    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    /// Something that needs a person soon (an open breaker, a budget nearly spent); bold
    /// without colour, so it still stands out.
    pub fn warn(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }

    /// A search match in the Log pane; reverse video without colour.
    pub fn search_hit(&self) -> Style {
        if self.color {
            Style::default().fg(Color::Black).bg(Color::Yellow)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    /// The current search match, set apart from the others.
    pub fn search_current(&self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(Color::Black).bg(Color::LightRed)
        } else {
            s.add_modifier(Modifier::REVERSED | Modifier::UNDERLINED)
        }
    }

    pub fn run_state(&self, state: RunState) -> Style {
        match state {
            RunState::Running => self.fg(Color::Green),
            RunState::Paused => self.fg(Color::Yellow),
            RunState::Stopping => self.fg(Color::Magenta),
            RunState::Exited => self.fg(Color::Blue),
            _ => self.fg(Color::Red),
        }
    }

    pub fn run_glyph(&self, state: RunState) -> &'static str {
        match (state, self.ascii) {
            (RunState::Running, false) => "▶",
            (RunState::Running, true) => ">",
            (RunState::Paused, false) => "⏸",
            (RunState::Paused, true) => "=",
            (RunState::Stopping, false) => "◼",
            (RunState::Stopping, true) => "#",
            (RunState::Exited, false) => "✓",
            (RunState::Exited, true) => "+",
            (_, false) => "✗",
            (_, true) => "x",
        }
    }

    /// A job's state in the Queue pane, coloured as the run states are: what waits is plain,
    /// what backs off is yellow, what ended is blue, red or grey.
    pub fn job_state(&self, state: JobState) -> Style {
        match state {
            JobState::Queued => Style::default(),
            JobState::Running => self.fg(Color::Green),
            JobState::Backoff => self.fg(Color::Yellow),
            JobState::Done => self.fg(Color::Blue),
            JobState::Failed => self.fg(Color::Red),
            JobState::Cancelled => self.fg(Color::DarkGray),
        }
    }

    pub fn job_glyph(&self, state: JobState) -> &'static str {
        match (state, self.ascii) {
            (JobState::Queued, false) => "○",
            (JobState::Queued, true) => "o",
            (JobState::Running, false) => "▶",
            (JobState::Running, true) => ">",
            (JobState::Backoff, false) => "↻",
            (JobState::Backoff, true) => "~",
            (JobState::Done, false) => "✓",
            (JobState::Done, true) => "+",
            (JobState::Failed, false) => "✗",
            (JobState::Failed, true) => "x",
            (JobState::Cancelled, false) => "⊘",
            (JobState::Cancelled, true) => "-",
        }
    }

    /// The mark of a breaker that holds jobs back.
    pub fn breaker_glyph(&self) -> &'static str {
        if self.ascii { "=" } else { "⏸" }
    }

    pub fn feature_style(&self, status: FeatureStatus) -> Style {
        match status {
            FeatureStatus::Passing => self.fg(Color::Green),
            FeatureStatus::InProgress => self.fg(Color::Cyan),
            FeatureStatus::Ready => Style::default(),
            FeatureStatus::Pending | FeatureStatus::Blocked => self.fg(Color::DarkGray),
            FeatureStatus::Failing => self.fg(Color::Red),
            FeatureStatus::Failed => self.fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }

    pub fn feature_glyph(&self, status: FeatureStatus) -> &'static str {
        match (status, self.ascii) {
            (FeatureStatus::Passing, false) => "✓",
            (FeatureStatus::Passing, true) => "+",
            (FeatureStatus::InProgress, false) => "▶",
            (FeatureStatus::InProgress, true) => ">",
            (FeatureStatus::Ready, false) => "○",
            (FeatureStatus::Ready, true) => "o",
            (FeatureStatus::Pending | FeatureStatus::Blocked, false) => "◌",
            (FeatureStatus::Pending | FeatureStatus::Blocked, true) => "-",
            (FeatureStatus::Failing, false) => "✗",
            (FeatureStatus::Failing, true) => "x",
            (FeatureStatus::Failed, false) => "⊗",
            (FeatureStatus::Failed, true) => "X",
        }
    }

    /// The separator between parts of a title or the header.
    pub fn dot(&self) -> &'static str {
        if self.ascii { "|" } else { "·" }
    }

    pub fn dash(&self) -> &'static str {
        if self.ascii { "-" } else { "─" }
    }

    /// Box-drawing for pane borders; plain `+-|` in ASCII mode.
    pub fn border_set(&self, focused: bool) -> ratatui::symbols::border::Set<'static> {
        use ratatui::symbols::border;
        match (self.ascii, focused) {
            (true, _) => border::Set {
                top_left: "+",
                top_right: "+",
                bottom_left: "+",
                bottom_right: "+",
                vertical_left: "|",
                vertical_right: "|",
                horizontal_top: "-",
                horizontal_bottom: "-",
            },
            (false, true) => border::THICK,
            (false, false) => border::PLAIN,
        }
    }

    /// Filled and empty cells of the progress bar, and its end caps.
    pub fn gauge_parts(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        if self.ascii {
            ("#", ".", "[", "]")
        } else {
            ("█", "░", "▕", "▏")
        }
    }
}
