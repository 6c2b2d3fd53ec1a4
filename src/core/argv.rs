//! Expanding a profile's argv template when some placeholders may have no value.
//!
//! `{model}` and `{effort}` are optional: a run with no model must not pass `--model ""`
//! (most tools would reject it, or worse, take it), so an argument whose placeholder has no
//! value disappears, together with the flag written just before it.
//!
//! Values are data, never syntax: each is inserted literally into one argument, never split,
//! quoted, re-scanned or passed through a shell.

use std::ops::Range;

/// Every placeholder name an argv template may use, without braces. `{word}` tokens with
/// other names are left as written (config validation rejects them before this runs).
pub const PLACEHOLDERS: [&str; 9] = [
    "prompt",
    "prompt_file",
    "model",
    "effort",
    "feature_id",
    "feature_name",
    "project",
    "run_id",
    "session_id",
];

/// Expands `template` element by element.
///
/// Each `{name}` (a name in [`PLACEHOLDERS`]) is replaced by `values(name)`. When that is
/// `None` for any placeholder of an element, the element is dropped; and when the element
/// just before it in the template is a flag (starts with `-`, but is not `-`, `--` or a
/// negative number) with no `=` and no placeholder of its own, that flag is dropped too. So
/// `["--model", "{model}"]` vanishes as a pair, and `"--model={model}"` vanishes alone.
///
/// The result may be shorter than `template`, and is empty if every element was dropped;
/// the caller decides whether that is runnable.
pub fn expand(template: &[String], values: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(template.len());
    // Whether the last element pushed is template[i - 1] and is a flag that would take
    // template[i] as its value.
    let mut prev_is_lone_flag = false;
    for arg in template {
        match expand_one(arg, values) {
            Some(expanded) => {
                out.push(expanded);
                prev_is_lone_flag = is_lone_flag(arg);
            }
            None => {
                if prev_is_lone_flag {
                    out.pop();
                }
                prev_is_lone_flag = false;
            }
        }
    }
    out
}

/// One element with its placeholders replaced, or `None` if one of them has no value.
fn expand_one(arg: &str, values: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::with_capacity(arg.len());
    let mut copied = 0;
    for (range, name) in placeholder_tokens(arg) {
        let value = values(name)?;
        out.push_str(&arg[copied..range.start]);
        out.push_str(&value);
        copied = range.end;
    }
    out.push_str(&arg[copied..]);
    Some(out)
}

/// A flag whose value is the next argument: `-m`, `--model`, but not `--model=x`, not a
/// templated flag, not `-` (stdin) or `--` (end of options), and not a number like `-1`.
fn is_lone_flag(arg: &str) -> bool {
    let mut chars = arg.chars();
    let starts_like_flag = chars.next() == Some('-')
        && match chars.next() {
            None => false,
            Some('-') => chars.next().is_some(),
            Some(c) => !c.is_ascii_digit(),
        };
    starts_like_flag && !arg.contains('=') && placeholder_tokens(arg).next().is_none()
}

/// The `{name}` tokens of `s` whose name is in [`PLACEHOLDERS`], as (byte range with braces,
/// name), in order. Other braces (JSON, `{}`, `{other}`) are plain text.
fn placeholder_tokens(s: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    brace_words(s).filter(|(_, name)| PLACEHOLDERS.contains(name))
}

/// Every `{word}` token of `s` (word: ASCII letters, digits and `_`, non-empty), as (byte
/// range with braces, word), in order. Other braces (JSON, `{}`, `{a b}`) are not tokens.
pub fn brace_words(s: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    let bytes = s.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < bytes.len() {
            let start = pos;
            pos += 1;
            if bytes[start] != b'{' {
                continue;
            }
            let word_len = bytes[pos..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            let close = pos + word_len;
            if word_len > 0 && bytes.get(close) == Some(&b'}') {
                pos = close + 1;
                // Slicing is safe: both ends sit next to ASCII bytes.
                return Some((start..pos, &s[start + 1..close]));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    /// Values of a run with a feature, a prompt and no effort; `model` as given.
    fn run_values(model: Option<&str>) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| match name {
            "prompt" => Some("Do the thing".into()),
            "prompt_file" => Some("/p/.corral/prompts/7.md".into()),
            "model" => model.map(String::from),
            "effort" => None,
            "feature_id" => Some("42".into()),
            "feature_name" => Some("Add login".into()),
            "project" => Some("/home/me/my project".into()),
            "run_id" => Some("7".into()),
            _ => None,
        }
    }

    #[test]
    fn expansion_table() {
        #[rustfmt::skip]
        let cases: &[(&[&str], Option<&str>, &[&str])] = &[
            (&["claude", "-p", "{prompt}", "--model", "{model}"], Some("opus"),
                &["claude", "-p", "Do the thing", "--model", "opus"]),
            (&["claude", "-p", "{prompt}", "--model", "{model}"], None,
                &["claude", "-p", "Do the thing"]),
            (&["tool", "--model={model}", "--x"], None, &["tool", "--x"]),
            (&["tool", "--model={model}"], Some("m"), &["tool", "--model=m"]),
            (&["tool", "-m", "{model}", "--effort", "{effort}", "go"], Some("m"),
                &["tool", "-m", "m", "go"]),
            // A flag written with `=` is complete on its own, so it stays.
            (&["tool", "--color=never", "{effort}"], None, &["tool", "--color=never"]),
            // Not flags: stdin marker, end of options, negative number.
            (&["tool", "-", "{effort}"], None, &["tool", "-"]),
            (&["tool", "--", "{effort}"], None, &["tool", "--"]),
            (&["tool", "--n", "-1", "{effort}"], None, &["tool", "--n", "-1"]),
            // A templated flag is not paired: only the element with no value goes.
            (&["tool", "--{model}", "{effort}"], Some("m"), &["tool", "--m"]),
            // Two empty ones in a row: the second has no flag of its own before it.
            (&["tool", "--model", "{model}", "{effort}", "end"], None, &["tool", "end"]),
            // One missing value drops the whole element.
            (&["tool", "{feature_id}:{effort}"], None, &["tool"]),
            (&["tool", "{feature_id}{feature_id}", "{project}/{run_id}.log"], None,
                &["tool", "4242", "/home/me/my project/7.log"]),
            (&["aider", "--message-file", "{prompt_file}", "--yes"], None,
                &["aider", "--message-file", "/p/.corral/prompts/7.md", "--yes"]),
            // Unknown names and other braces are left as written.
            (&["{other}", "{}", "{", "}", "{model", "{{run_id}}", "{\"json\": 1}", "é{run_id}é"],
                None, &["{other}", "{}", "{", "}", "{model", "{7}", "{\"json\": 1}", "é7é"]),
            (&["tool", "--flag", "{unknown}"], None, &["tool", "--flag", "{unknown}"]),
            (&[], None, &[]),
            (&["{effort}"], None, &[]),
        ];
        for (template, model, want) in cases {
            let got = expand(&argv(template), &run_values(*model));
            assert_eq!(got, argv(want), "{template:?} with model {model:?}");
        }
    }

    #[test]
    fn hostile_values_stay_one_literal_element() {
        let template = argv(&["agent", "--name", "{feature_name}", "-p", "x{prompt}y"]);
        for hostile in [
            "$(touch pwned); rm -rf /",
            "`id` && reboot",
            "line one\nline two\r\n",
            "'single' \"double\" \\back",
            "{model}",
            "{feature_name}{prompt}",
            "--model=evil",
            "",
            "  spaced  out  ",
        ] {
            let values = |name: &str| match name {
                "feature_name" | "prompt" => Some(hostile.to_string()),
                "model" => Some("NOT-RESCANNED".to_string()),
                _ => None,
            };
            let got = expand(&template, &values);
            let want = argv(&["agent", "--name", hostile, "-p", &format!("x{hostile}y")]);
            assert_eq!(got, want, "{hostile:?}");
        }
    }

    #[test]
    fn lone_flags() {
        for yes in ["-m", "--model", "-x1", "--a-b"] {
            assert!(is_lone_flag(yes), "{yes}");
        }
        for no in [
            "-",
            "--",
            "-1",
            "--model=x",
            "--{model}",
            "model",
            "",
            "-5x",
        ] {
            assert!(!is_lone_flag(no), "{no}");
        }
    }
}
