//! Makes agent output safe to draw: colour (SGR) sequences stay, every other escape sequence
//! goes, whole. Agents print cursor moves, screen clears, window titles and hyperlinks; any of
//! them reaching the terminal would corrupt the dashboard, and a half-removed one leaves junk.

use std::borrow::Cow;

const ESC: char = '\x1b';
const BEL: char = '\x07';

/// `text` with only SGR sequences (`ESC [ … m`) left; other sequences (CSI, OSC, DCS, APC, PM,
/// SOS and two- or three-byte escapes) are removed together with their parameters, following
/// ECMA-48's byte classes. Tabs become spaces; other control characters become a space each,
/// so columns stay where the agent meant them. Borrowed when there was nothing to do.
pub fn keep_only_colours(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => match chars.next() {
                Some('[') => {
                    let mut seq = String::from("\x1b[");
                    let mut end = None;
                    for c in chars.by_ref() {
                        seq.push(c);
                        if ('\x40'..='\x7e').contains(&c) {
                            end = Some(c);
                            break;
                        }
                        if !('\x20'..='\x3f').contains(&c) {
                            break; // not a well-formed CSI: drop what we have
                        }
                    }
                    let sgr = end == Some('m')
                        && seq[2..seq.len() - 1]
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == ';' || c == ':');
                    if sgr {
                        out.push_str(&seq);
                    }
                }
                // Strings ended by BEL or ST (ESC \): OSC, DCS, SOS, PM, APC.
                Some(']' | 'P' | 'X' | '^' | '_') => {
                    while let Some(c) = chars.next() {
                        if c == BEL {
                            break;
                        }
                        if c == ESC {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                // Character set designation takes one more byte: ESC ( B.
                Some('(' | ')' | '*' | '+' | '-' | '.' | '/' | '#' | '%' | ' ') => {
                    chars.next();
                }
                // Any other two-byte escape (ESC c reset, ESC 7 save cursor, ESC = keypad...).
                Some(_) | None => {}
            },
            '\t' => out.push_str("    "),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::keep_only_colours as k;

    #[test]
    fn only_colours_survive_and_text_stays_whole() {
        let rows = [
            ("plain", "plain"),
            ("\x1b[1;31mred\x1b[0m", "\x1b[1;31mred\x1b[0m"),
            (
                "\x1b[38:2:255:0:0mtrue\x1b[m",
                "\x1b[38:2:255:0:0mtrue\x1b[m",
            ),
            ("title\x1b]0;pwned\x07 after", "title after"),
            (
                "link \x1b]8;;http://x\x1b\\here\x1b]8;;\x1b\\ end",
                "link here end",
            ),
            ("move\x1b[10;10Hcursor\x1b[?25l hidden", "movecursor hidden"),
            ("clear\x1b[2J\x1bc reset", "clear reset"),
            ("charset \x1b(Bok", "charset ok"),
            ("dcs \x1bPq#0;2;0;0;0\x1b\\done", "dcs done"),
            ("bell\x07 and\ttab", "bell  and    tab"),
            ("cut at end \x1b[", "cut at end "),
            ("unterminated \x1b]0;title", "unterminated "),
            ("private sgr \x1b[?1m x", "private sgr  x"),
        ];
        for (input, want) in rows {
            assert_eq!(k(input), want, "{input:?}");
        }
        assert!(matches!(
            k("no controls here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
