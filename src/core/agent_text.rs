//! What one line of an agent's output says in words, for a job's last error.
//!
//! Agents that print JSON events (Claude Code's `stream-json`, Codex's `exec --json`, Gemini's
//! `stream-json`) carry their message inside the object: a raw line cut at 160 characters
//! shows braces and ids, never the words. Rules (the tests pin each one):
//! - A line that is not a JSON object is the message itself.
//! - A JSON object gives, in this order: Claude's `result` text (the run's last word, an error
//!   when `is_error`), the text parts of an assistant `message.content`, then the first
//!   string among `error.message`, `error` and `message` (Codex, Gemini and API error bodies).
//! - A JSON object with none of these (a start-up event, a tool call) says nothing: `None`.
//! - A usage report line (`corral-usage: {…}`) is bookkeeping and says nothing either.

use serde_json::Value;
use std::borrow::Cow;

use super::usage::USAGE_PREFIX;

/// The words of `line` (already without colour codes), or `None` when it carries none.
pub fn readable(line: &str) -> Option<Cow<'_, str>> {
    let text = line.trim();
    if text.is_empty() || text.starts_with(USAGE_PREFIX) {
        return None;
    }
    if !(text.starts_with('{') && text.ends_with('}')) {
        return Some(Cow::Borrowed(text));
    }
    let Ok(Value::Object(event)) = serde_json::from_str::<Value>(text) else {
        // Not JSON after all (or cut): the line is all there is.
        return Some(Cow::Borrowed(text));
    };
    let words = message_of(&event)?;
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    (!words.is_empty()).then_some(Cow::Owned(words))
}

fn message_of(event: &serde_json::Map<String, Value>) -> Option<String> {
    if let Some(result) = event.get("result").and_then(Value::as_str)
        && !result.trim().is_empty()
    {
        return Some(result.to_string());
    }
    if let Some(content) = event
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
    {
        let texts: Vec<&str> = content
            .iter()
            .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect();
        if !texts.is_empty() {
            return Some(texts.join(" "));
        }
    }
    let error = event.get("error");
    error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .or_else(|| error.and_then(Value::as_str))
        .or_else(|| event.get("message").and_then(Value::as_str))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::readable;

    const CLAUDE_NOT_LOGGED_IN: &str =
        include_str!("../../tests/fixtures/agents/claude-2.1.197-not-logged-in.stream-json");

    #[test]
    fn claude_stream_json_says_its_result_and_its_assistant_text() {
        let lines: Vec<&str> = CLAUDE_NOT_LOGGED_IN.lines().collect();
        assert_eq!(readable(lines[0]), None, "the init event says nothing");
        assert_eq!(
            readable(lines[1]).as_deref(),
            Some("Not logged in · Please run /login")
        );
        assert_eq!(
            readable(lines[2]).as_deref(),
            Some("Not logged in · Please run /login")
        );
    }

    #[test]
    fn error_objects_plain_lines_and_usage_reports() {
        let cases = [
            (
                r#"{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized"}}"#,
                Some("unexpected status 401 Unauthorized"),
            ),
            (
                r#"{"type":"error","message":"stream disconnected"}"#,
                Some("stream disconnected"),
            ),
            (r#"{"error":"quota exceeded"}"#, Some("quota exceeded")),
            (r#"{"type":"tool_use","id":"x"}"#, None),
            ("error: mismatched types", Some("error: mismatched types")),
            ("{not json}", Some("{not json}")),
            (r#"corral-usage: {"input_tokens":12}"#, None),
            ("   ", None),
        ];
        for (line, want) in cases {
            assert_eq!(readable(line).as_deref(), want, "{line}");
        }
    }
}
