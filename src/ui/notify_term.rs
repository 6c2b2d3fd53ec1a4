//! Terminal notifications: the bytes a dashboard writes to its terminal when the daemon says
//! something needs the person (`[notify] terminal`). OSC 9 (iTerm2, WezTerm, Windows
//! Terminal), OSC 777 (foot, urxvt, Ghostty, VTE terminals) or OSC 99 (kitty), chosen from
//! the environment under `auto`; inside tmux wrapped for its passthrough (`ESC P tmux; …
//! ESC \`, every ESC doubled); and always a bell after it, which every terminal knows.

use crate::config::TerminalNotify;

/// The escape sequence chosen (or none, with only the bell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Osc9,
    Osc777,
    Osc99,
    Bell,
    Off,
}

/// The environment variables the choice reads.
#[derive(Debug, Clone, Default)]
pub struct TermEnv {
    pub term: Option<String>,
    pub term_program: Option<String>,
    pub lc_terminal: Option<String>,
    /// Set inside tmux.
    pub tmux: bool,
    /// Set in kitty (`KITTY_WINDOW_ID`).
    pub kitty: bool,
    /// Set in VTE terminals (`VTE_VERSION`).
    pub vte: bool,
    /// Set in Windows Terminal (`WT_SESSION`).
    pub windows_terminal: bool,
}

impl TermEnv {
    /// Reads the variables from this process's environment.
    pub fn from_env() -> TermEnv {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        TermEnv {
            term: var("TERM"),
            term_program: var("TERM_PROGRAM"),
            lc_terminal: var("LC_TERMINAL"),
            tmux: var("TMUX").is_some(),
            kitty: var("KITTY_WINDOW_ID").is_some(),
            vte: var("VTE_VERSION").is_some(),
            windows_terminal: var("WT_SESSION").is_some(),
        }
    }
}

/// What `setting` means in the terminal `env` describes.
pub fn choose(setting: TerminalNotify, env: &TermEnv) -> Kind {
    match setting {
        TerminalNotify::Osc9 => Kind::Osc9,
        TerminalNotify::Osc777 => Kind::Osc777,
        TerminalNotify::Osc99 => Kind::Osc99,
        TerminalNotify::Bell => Kind::Bell,
        TerminalNotify::Off => Kind::Off,
        TerminalNotify::Auto => {
            let has = |v: &Option<String>, words: &[&str]| {
                v.as_deref().is_some_and(|v| {
                    let v = v.to_ascii_lowercase();
                    words.iter().any(|w| v.contains(w))
                })
            };
            if env.kitty || has(&env.term, &["kitty"]) {
                Kind::Osc99
            } else if env.windows_terminal
                || has(&env.lc_terminal, &["iterm2", "wezterm"])
                || has(&env.term_program, &["iterm", "wezterm"])
            {
                Kind::Osc9
            } else if env.vte
                || has(&env.term, &["foot", "rxvt", "ghostty"])
                || has(&env.term_program, &["ghostty"])
            {
                Kind::Osc777
            } else {
                Kind::Bell
            }
        }
    }
}

/// `text` fit for inside an OSC: controls (which would end or break the sequence) and, for
/// OSC 777's fields, `;` become spaces.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if crate::core::printable::is_hostile(c) || c == ';' {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The bytes to write for a notification: the sequence (wrapped for tmux's passthrough when
/// `in_tmux`), then a bell; nothing at all for [`Kind::Off`].
pub fn bytes(kind: Kind, title: &str, body: &str, in_tmux: bool) -> Vec<u8> {
    let (title, body) = (clean(title), clean(body));
    let seq = match kind {
        Kind::Off => return Vec::new(),
        Kind::Bell => String::new(),
        Kind::Osc9 => format!("\x1b]9;{title}: {body}\x07"),
        Kind::Osc777 => format!("\x1b]777;notify;{title};{body}\x07"),
        Kind::Osc99 => format!("\x1b]99;;{title}: {body}\x1b\\"),
    };
    let mut out = if in_tmux && !seq.is_empty() {
        format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq
    };
    out.push('\x07');
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_of_each_choice_outside_and_inside_tmux() {
        let t = "run 3 needs you";
        let b = "allow Bash: rm -rf target?";
        let s = |k, tmux| String::from_utf8(bytes(k, t, b, tmux)).unwrap();
        assert_eq!(
            s(Kind::Osc9, false),
            "\x1b]9;run 3 needs you: allow Bash: rm -rf target?\x07\x07"
        );
        assert_eq!(
            s(Kind::Osc777, false),
            "\x1b]777;notify;run 3 needs you;allow Bash: rm -rf target?\x07\x07"
        );
        assert_eq!(
            s(Kind::Osc99, false),
            "\x1b]99;;run 3 needs you: allow Bash: rm -rf target?\x1b\\\x07"
        );
        assert_eq!(s(Kind::Bell, false), "\x07");
        assert_eq!(s(Kind::Off, false), "");
        assert_eq!(
            s(Kind::Osc9, true),
            "\x1bPtmux;\x1b\x1b]9;run 3 needs you: allow Bash: rm -rf target?\x07\x1b\\\x07"
        );
        assert_eq!(
            s(Kind::Osc777, true),
            "\x1bPtmux;\x1b\x1b]777;notify;run 3 needs you;allow Bash: rm -rf target?\x07\x1b\\\x07"
        );
        assert_eq!(
            s(Kind::Osc99, true),
            "\x1bPtmux;\x1b\x1b]99;;run 3 needs you: allow Bash: rm -rf target?\x1b\x1b\\\x1b\\\x07"
        );
        assert_eq!(s(Kind::Bell, true), "\x07");
        assert_eq!(s(Kind::Off, true), "");
    }

    #[test]
    fn an_agents_text_cannot_end_the_sequence_early() {
        let out =
            String::from_utf8(bytes(Kind::Osc777, "a;b", "x\x07\x1b]0;pwned\x07", false)).unwrap();
        assert_eq!(out, "\x1b]777;notify;a b;x  ]0 pwned \x07\x07");
    }

    #[test]
    fn auto_reads_the_terminal_from_the_environment() {
        let env = |f: fn(&mut TermEnv)| {
            let mut e = TermEnv::default();
            f(&mut e);
            choose(TerminalNotify::Auto, &e)
        };
        assert_eq!(env(|e| e.kitty = true), Kind::Osc99);
        assert_eq!(env(|e| e.term = Some("xterm-kitty".into())), Kind::Osc99);
        assert_eq!(env(|e| e.lc_terminal = Some("iTerm2".into())), Kind::Osc9);
        assert_eq!(env(|e| e.term_program = Some("WezTerm".into())), Kind::Osc9);
        assert_eq!(env(|e| e.windows_terminal = true), Kind::Osc9);
        assert_eq!(env(|e| e.term = Some("foot".into())), Kind::Osc777);
        assert_eq!(env(|e| e.vte = true), Kind::Osc777);
        assert_eq!(env(|e| e.term = Some("xterm-256color".into())), Kind::Bell);
        // Inside tmux, LC_TERMINAL still names the outer terminal (ssh and tmux pass it on).
        assert_eq!(
            env(|e| {
                e.tmux = true;
                e.term = Some("tmux-256color".into());
                e.lc_terminal = Some("iTerm2".into());
            }),
            Kind::Osc9
        );
        assert_eq!(choose(TerminalNotify::Off, &TermEnv::default()), Kind::Off);
        assert_eq!(
            choose(TerminalNotify::Osc777, &TermEnv::default()),
            Kind::Osc777
        );
    }
}
