//! Text from features, agents and files made harmless for a terminal.
//!
//! Feature names, reasons and agents' error lines are data that anyone (an agent, an imported
//! file) may fill with escape sequences: an OSC that retitles the window, a CSI that clears the
//! screen or hides the cursor, a right-to-left override that makes a row read backwards. Every
//! text corral prints goes through [`printable`] (or [`json_printable`] for JSON), which turns
//! such characters into visible escapes instead: `\u{1b}]0;x\u{7}`.

use std::borrow::Cow;

/// Whether `c` must not reach a terminal as it is: C0 controls, DEL and C1 controls (which
/// start escape sequences or move the cursor) and the invisible bidirectional controls that
/// reorder what follows them (embeddings, overrides, isolates and the directional marks).
pub fn is_hostile(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// U+061C, U+200E/U+200F, U+202A–U+202E and U+2066–U+2069.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [hostile](is_hostile) character written as a Rust escape (`\u{1b}`,
/// `\r`, `\u{202e}`); newlines and tabs are kept when `keep_lines` (a multi-line text), else
/// escaped too (`\n`, `\t`), so one value stays on one row. Borrowed when nothing changed.
pub fn printable(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let escape = |c: char| is_hostile(c) && !(keep_lines && (c == '\n' || c == '\t'));
    let Some(first) = text.find(escape) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        if escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// JSON text (as serde_json writes it) with the hostile characters serde_json leaves raw (DEL,
/// C1 and the bidirectional controls) written as `\uXXXX` escapes. They can only occur inside
/// strings, where the escape means the same character: the JSON value is unchanged. Newlines
/// are the pretty printer's (serde_json escapes those inside strings) and stay.
pub fn json_printable(json: &str) -> Cow<'_, str> {
    let escape = |c: char| is_hostile(c) && c != '\n';
    let Some(first) = json.find(escape) else {
        return Cow::Borrowed(json);
    };
    let mut out = String::with_capacity(json.len() + 16);
    out.push_str(&json[..first]);
    for c in json[first..].chars() {
        if escape(c) {
            // All of them are in the Basic Multilingual Plane: one `\uXXXX` each.
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_characters_become_visible_escapes() {
        let rows = [
            ("plain text, émoji 🐑", false, "plain text, émoji 🐑"),
            (
                "osc\x1b]0;PWNED\x07-end",
                false,
                "osc\\u{1b}]0;PWNED\\u{7}-end",
            ),
            ("clear\x1b[2J\x1b[H", false, "clear\\u{1b}[2J\\u{1b}[H"),
            ("c1 \u{9b}2J \u{9d}0;x", false, "c1 \\u{9b}2J \\u{9d}0;x"),
            ("del\x7f", false, "del\\u{7f}"),
            ("abc\u{202e}fed", false, "abc\\u{202e}fed"),
            ("iso\u{2066}x\u{2069}", false, "iso\\u{2066}x\\u{2069}"),
            ("mark\u{200f}", false, "mark\\u{200f}"),
            ("two\nlines\tand\r", false, "two\\nlines\\tand\\r"),
            ("two\nlines\tand\r", true, "two\nlines\tand\\r"),
        ];
        for (input, keep, want) in rows {
            assert_eq!(printable(input, keep), want, "{input:?}");
            assert!(!printable(input, keep).contains(['\x1b', '\x07', '\u{9b}', '\u{202e}']));
        }
        assert!(matches!(printable("fine", false), Cow::Borrowed(_)));
    }

    #[test]
    fn json_keeps_its_value_and_loses_raw_controls() {
        let value = serde_json::json!({"name": "a\x1b[2J\u{9b}\x7f\u{202e}b"});
        let raw = serde_json::to_string(&value).unwrap();
        let safe = json_printable(&raw);
        assert!(!safe.contains(is_hostile), "{safe}");
        assert_eq!(safe, r#"{"name":"a\u001b[2J\u009b\u007f\u202eb"}"#);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(json_printable(&pretty).lines().count(), 3);
    }
}
