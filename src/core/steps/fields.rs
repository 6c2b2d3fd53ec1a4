//! Reading fields of an event tolerantly: a missing or mistyped field is `None` or empty,
//! never an error.

use super::INPUT_KEPT;
use serde_json::Value;

/// A string field, if it is one.
pub(crate) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_string)
}

/// A count field, if it is a whole non-negative number.
pub(crate) fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key)?.as_u64()
}

/// At most `max` characters of `text` (on a character boundary).
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// The text of a tool result or message content: a string, or the `text` of each block.
pub(crate) fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| match b {
                Value::String(s) => Some(s.clone()),
                _ => b.get("text").and_then(Value::as_str).map(str::to_string),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A tool input as shown expanded: pretty JSON, or the text itself; at most [`INPUT_KEPT`]
/// characters.
pub(crate) fn input_text(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    };
    marked_cut(text, INPUT_KEPT)
}

/// `text` cut to `max` characters, saying so at its end when cut.
pub(crate) fn marked_cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => {
            let rest = text[at..].chars().count();
            format!(
                "{}\n… [{rest} more characters in the raw lines]",
                &text[..at]
            )
        }
        None => text,
    }
}
