//! Keys as data: each binding carries the description the help overlay and hint bar show.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks the UI to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NextPane,
    PrevPane,
    Down,
    Up,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Start,
    Pause,
    Resume,
    Kill,
    KillNow,
    Restart,
    ToggleScheduler,
    MoreAgents,
    FewerAgents,
    Follow,
    Wrap,
    AppLog,
    /// Open the search prompt for the Log pane.
    Search,
    /// Go to the next search match, further down (newer).
    NextMatch,
    /// Go to the previous search match, further up (older).
    PrevMatch,
    /// Open a prompt for a line to the target run's stdin.
    Input,
    Help,
    Quit,
}

/// One key bound to one action.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub code: KeyCode,
    pub mods: KeyModifiers,
    /// How the key is written in the hint bar and help.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// The word shown in the one-line hint bar, if any (the help overlay shows every binding).
    pub hint: Option<&'static str>,
}

const fn key(
    code: KeyCode,
    label: &'static str,
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        code,
        mods: KeyModifiers::NONE,
        label,
        action,
        help,
        hint,
    }
}

/// The default keymap, in the order the help overlay lists it.
pub const DEFAULT_BINDINGS: &[Binding] = &[
    key(
        KeyCode::Char('s'),
        "s",
        Action::Start,
        "start selected or next",
        Some("start"),
    ),
    key(
        KeyCode::Char('p'),
        "p",
        Action::Pause,
        "pause: SIGSTOP the group",
        Some("pause"),
    ),
    key(
        KeyCode::Char('r'),
        "r",
        Action::Resume,
        "resume: SIGCONT the group",
        Some("resume"),
    ),
    key(
        KeyCode::Char('x'),
        "x",
        Action::Kill,
        "kill: asks, TERM, KILL",
        Some("kill"),
    ),
    key(
        KeyCode::Char('X'),
        "X",
        Action::KillNow,
        "kill now, no question",
        None,
    ),
    key(
        KeyCode::Char('R'),
        "R",
        Action::Restart,
        "kill if live, start again",
        Some("restart"),
    ),
    key(
        KeyCode::Char(' '),
        "space",
        Action::ToggleScheduler,
        "pause/resume scheduler",
        None,
    ),
    key(
        KeyCode::Char('+'),
        "+",
        Action::MoreAgents,
        "one more agent at once",
        None,
    ),
    key(
        KeyCode::Char('-'),
        "-",
        Action::FewerAgents,
        "one agent fewer at once",
        None,
    ),
    key(
        KeyCode::Tab,
        "tab",
        Action::NextPane,
        "next pane",
        Some("pane"),
    ),
    key(
        KeyCode::BackTab,
        "shift-tab",
        Action::PrevPane,
        "previous pane",
        None,
    ),
    key(
        KeyCode::Char('j'),
        "j",
        Action::Down,
        "move down / scroll log",
        None,
    ),
    key(KeyCode::Down, "↓", Action::Down, "move down", None),
    key(
        KeyCode::Char('k'),
        "k",
        Action::Up,
        "move up / scroll log",
        None,
    ),
    key(KeyCode::Up, "↑", Action::Up, "move up", None),
    key(KeyCode::Char('g'), "g", Action::Top, "go to top", None),
    key(
        KeyCode::Char('G'),
        "G",
        Action::Bottom,
        "go to bottom",
        None,
    ),
    key(KeyCode::PageUp, "PgUp", Action::PageUp, "log page up", None),
    key(
        KeyCode::PageDown,
        "PgDn",
        Action::PageDown,
        "log page down",
        None,
    ),
    key(
        KeyCode::Char('f'),
        "f",
        Action::Follow,
        "follow newest log line",
        Some("follow"),
    ),
    key(
        KeyCode::Char('w'),
        "w",
        Action::Wrap,
        "wrap long log lines",
        None,
    ),
    key(
        KeyCode::Char('L'),
        "L",
        Action::AppLog,
        "corral's own log",
        None,
    ),
    key(
        KeyCode::Char('/'),
        "/",
        Action::Search,
        "search the log",
        Some("search"),
    ),
    key(
        KeyCode::Char('n'),
        "n",
        Action::NextMatch,
        "next match (newer)",
        None,
    ),
    key(
        KeyCode::Char('N'),
        "N",
        Action::PrevMatch,
        "previous match (older)",
        None,
    ),
    key(
        KeyCode::Char('i'),
        "i",
        Action::Input,
        "send a line to its stdin",
        Some("input"),
    ),
    key(
        KeyCode::Char('?'),
        "?",
        Action::Help,
        "this help",
        Some("help"),
    ),
    key(
        KeyCode::Char('q'),
        "q",
        Action::Quit,
        "quit, stopping all agents",
        Some("quit"),
    ),
    Binding {
        code: KeyCode::Char('c'),
        mods: KeyModifiers::CONTROL,
        label: "ctrl-c",
        action: Action::Quit,
        help: "quit, as q",
        hint: None,
    },
];

/// The label of a key in the current glyph set (arrows have ASCII names).
pub fn label(b: &Binding, ascii: bool) -> &'static str {
    match (b.label, ascii) {
        ("↓", true) => "down",
        ("↑", true) => "up",
        (l, _) => l,
    }
}

/// The action bound to a key press, if any. Shift is ignored for characters, since the
/// character itself already says whether it was shifted.
pub fn lookup(bindings: &[Binding], ev: &KeyEvent) -> Option<Action> {
    let mods = match ev.code {
        KeyCode::Char(_) | KeyCode::BackTab => ev.modifiers - KeyModifiers::SHIFT,
        _ => ev.modifiers,
    };
    bindings
        .iter()
        .find(|b| b.code == ev.code && b.mods == mods)
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_key_and_no_key_is_bound_twice() {
        let mut seen = std::collections::HashSet::new();
        for b in DEFAULT_BINDINGS {
            assert!(seen.insert((b.code, b.mods)), "{} bound twice", b.label);
        }
        let upper_x = KeyEvent::new(KeyCode::Char('X'), KeyModifiers::SHIFT);
        assert_eq!(lookup(DEFAULT_BINDINGS, &upper_x), Some(Action::KillNow));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(DEFAULT_BINDINGS, &ctrl_c), Some(Action::Quit));
        let plain_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(lookup(DEFAULT_BINDINGS, &plain_c), None);
    }

    #[test]
    fn help_texts_fit_a_column_of_the_help_at_80_columns() {
        // 80 columns give each help column 38 cells: the widest key label, a space, the text
        // and two spaces before the next column leave 26 for the text.
        for b in DEFAULT_BINDINGS {
            assert!(b.help.chars().count() <= 26, "{:?} is too long", b.help);
        }
    }
}
