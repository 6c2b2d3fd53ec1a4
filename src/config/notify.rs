//! `[notify]`: how corral tells a person that something needs them (a run waiting for an
//! answer, a feature failed for good, the backlog finished, a login needed, the budget
//! reached) when they are not looking.

use serde::Deserialize;

/// Which escape sequence an attached dashboard writes to its terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TerminalNotify {
    /// Chosen from what the terminal is (`TERM`, `LC_TERMINAL`, `TERM_PROGRAM`).
    #[default]
    Auto,
    /// `ESC ] 9 ; body BEL` (iTerm2, Windows Terminal, ConEmu, WezTerm).
    Osc9,
    /// `ESC ] 777 ; notify ; title ; body BEL` (urxvt, foot, Ghostty, VTE terminals).
    Osc777,
    /// `ESC ] 99 ; ; body ESC \` (kitty).
    Osc99,
    /// Only the bell.
    Bell,
    /// Nothing.
    Off,
}

/// `[notify]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyConfig {
    pub terminal: TerminalNotify,
    /// A program and its arguments run by the daemon for each notification (never through
    /// a shell), with `CORRAL_EVENT`, `CORRAL_TITLE`, `CORRAL_BODY`, `CORRAL_RUN_ID` and
    /// `CORRAL_FEATURE_ID` in its environment.
    pub command: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [notify] table")]
pub(crate) struct RawNotify {
    pub terminal: Option<TerminalNotify>,
    pub command: Option<super::raw::Command>,
}

impl NotifyConfig {
    /// Takes what one file states over what earlier files did.
    pub(crate) fn apply(&mut self, raw: RawNotify) {
        if let Some(t) = raw.terminal {
            self.terminal = t;
        }
        if let Some(c) = raw.command {
            self.command = Some(c.0);
        }
    }
}
