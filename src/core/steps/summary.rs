//! One line saying what a tool call is about, from its input: the command, the file, the
//! pattern, the address, whichever the tool takes.

use serde_json::Value;

/// Longest summary kept (the screen cuts it to its width anyway).
const MAX: usize = 300;

/// Keys holding what a call is about, most telling first. Claude Code, Codex and Gemini name
/// them differently; one list serves all.
const KEYS: &[&str] = &[
    "command",
    "cmd",
    "file_path",
    "absolute_path",
    "notebook_path",
    "path",
    "pattern",
    "url",
    "query",
    "description",
    "prompt",
    "question",
    "dir_path",
];

/// The summary of a call of `tool` with `input`: the value of the most telling key, else
/// the input as compact JSON, on one line and at most [`MAX`] characters.
pub fn summarize_input(tool: &str, input: &Value) -> String {
    let text = match input {
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            let search = matches!(tool, "Grep" | "Glob" | "search_file_content" | "glob");
            // A search is about its pattern, not the place it looks in.
            let keys = KEYS.iter().filter(|k| !(search && **k == "path"));
            let found = keys.clone().find_map(|k| match map.get(*k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                // Codex hands a command as argv.
                Some(Value::Array(parts)) if *k == "command" || *k == "cmd" => Some(
                    parts
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            });
            match found {
                // A search names its place too: `TODO in src/`.
                Some(p) if search => match map.get("path").and_then(Value::as_str) {
                    Some(path) => format!("{p} in {path}"),
                    None => p,
                },
                Some(found) => found,
                None if map.is_empty() => String::new(),
                None => input.to_string(),
            }
        }
        Value::Null => String::new(),
        other => other.to_string(),
    };
    one_line(&text)
}

/// `text` on one line: line breaks and tabs become spaces, runs of spaces one, at most
/// [`MAX`] characters with an ellipsis when cut.
fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX + 3));
    let mut count = 0;
    let mut space = false;
    for c in text.trim().chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else {
            c
        };
        if c == ' ' && space {
            continue;
        }
        space = c == ' ';
        if count == MAX {
            out.push('…');
            break;
        }
        out.push(c);
        count += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_most_telling_field_on_one_line() {
        let cases = [
            (
                "Bash",
                json!({"command": "cargo test -q", "description": "Run tests"}),
                "cargo test -q",
            ),
            (
                "Edit",
                json!({"file_path": "src/cart.rs", "old_string": "a", "new_string": "b"}),
                "src/cart.rs",
            ),
            (
                "Grep",
                json!({"pattern": "TODO", "path": "src/"}),
                "TODO in src/",
            ),
            (
                "Task",
                json!({"description": "Find the bug", "prompt": "long"}),
                "Find the bug",
            ),
            (
                "run_shell_command",
                json!({"command": "ls\n  -la"}),
                "ls -la",
            ),
            (
                "Shell",
                json!("bash -lc 'cargo build'"),
                "bash -lc 'cargo build'",
            ),
            (
                "exec",
                json!({"command": ["bash", "-lc", "ls"]}),
                "bash -lc ls",
            ),
            ("odd", json!({"n": 3}), "{\"n\":3}"),
            ("none", json!({}), ""),
        ];
        for (tool, input, want) in cases {
            assert_eq!(summarize_input(tool, &input), want, "{tool}");
        }
    }

    #[test]
    fn long_input_is_cut_with_a_mark() {
        let long = "x".repeat(1000);
        let s = summarize_input("Bash", &json!({ "command": long }));
        assert_eq!(s.chars().count(), MAX + 1);
        assert!(s.ends_with('…'));
    }
}
