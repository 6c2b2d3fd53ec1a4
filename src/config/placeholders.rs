//! `{placeholder}` substitution in argv templates.
//!
//! Feature names come from users and from agents, so they are data, never syntax: substitution
//! happens inside one argv element at a time, and nothing is ever split, joined, quoted or
//! passed through a shell.

use std::ops::Range;

/// The placeholder names a command template may use, without braces.
pub const KNOWN_PLACEHOLDERS: [&str; 4] = ["feature_id", "feature_name", "project", "run_id"];

/// Values substituted into an argv template by [`expand_argv`].
#[derive(Debug, Clone, Copy)]
pub struct Placeholders<'a> {
    /// Replaces `{feature_id}`.
    pub feature_id: &'a str,
    /// Replaces `{feature_name}`.
    pub feature_name: &'a str,
    /// Replaces `{project}`.
    pub project: &'a str,
    /// Replaces `{run_id}`.
    pub run_id: &'a str,
}

impl Placeholders<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            "feature_id" => Some(self.feature_id),
            "feature_name" => Some(self.feature_name),
            "project" => Some(self.project),
            "run_id" => Some(self.run_id),
            _ => None,
        }
    }
}

/// Replaces `{feature_id}`, `{feature_name}`, `{project}` and `{run_id}` inside each element.
///
/// The result has exactly as many elements as `template`. Substituted values are inserted
/// literally and are not scanned again, so a feature named `a; rm -rf /` or `{run_id}` stays
/// one literal argument. Text that is not a known placeholder (`{other}`, `{`, `{}`) is kept
/// as is; [`crate::config::Config::parse`] already rejects unknown `{word}` placeholders.
pub fn expand_argv(template: &[String], vars: &Placeholders) -> Vec<String> {
    template.iter().map(|arg| expand_one(arg, vars)).collect()
}

fn expand_one(arg: &str, vars: &Placeholders) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut copied = 0;
    for (range, name) in placeholder_tokens(arg) {
        if let Some(value) = vars.get(name) {
            out.push_str(&arg[copied..range.start]);
            out.push_str(value);
            copied = range.end;
        }
    }
    out.push_str(&arg[copied..]);
    out
}

/// The `{word}` tokens in `s` that are not known placeholders, with braces, in order.
pub(crate) fn unknown_placeholders(s: &str) -> Vec<&str> {
    placeholder_tokens(s)
        .filter(|(_, name)| !KNOWN_PLACEHOLDERS.contains(name))
        .map(|(range, _)| &s[range])
        .collect()
}

/// Every `{word}` token (word = ASCII letters, digits, `_`; non-empty), as the byte range of
/// the token including braces and the word. Other braces (JSON, `{}`, `{a b}`) are not tokens.
fn placeholder_tokens(s: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
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
                return Some((start..pos, &s[start + 1..close]));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(feature_name: &'a str) -> Placeholders<'a> {
        Placeholders {
            feature_id: "42",
            feature_name,
            project: "/home/me/my project",
            run_id: "7",
        }
    }

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn expand_argv_substitutes_within_elements() {
        let template = argv(&[
            "agent",
            "--feature={feature_id}",
            "{feature_name}",
            "{project}/{run_id}.log",
            "{feature_id}{feature_id}",
        ]);
        assert_eq!(
            expand_argv(&template, &vars("Add login")),
            argv(&[
                "agent",
                "--feature=42",
                "Add login",
                "/home/me/my project/7.log",
                "4242",
            ])
        );
    }

    #[test]
    fn expand_argv_keeps_hostile_names_literal() {
        let template = argv(&["agent", "--name", "{feature_name}"]);
        for name in [
            "a; rm -rf /",
            "$(reboot)",
            "`id`",
            "x\ny",
            "'quoted' \"double\"",
            "{run_id}",
            "{feature_name}",
            "",
            "  spaced  out  ",
        ] {
            let out = expand_argv(&template, &vars(name));
            assert_eq!(out, argv(&["agent", "--name", name]), "{name:?}");
        }
    }

    #[test]
    fn expand_argv_leaves_unknown_text_untouched() {
        let template = argv(&[
            "{unknown}",
            "{}",
            "{",
            "}",
            "{feature_id",
            "{{feature_id}}",
            "{\"json\": 1}",
            "é{feature_id}é",
        ]);
        assert_eq!(
            expand_argv(&template, &vars("n")),
            argv(&[
                "{unknown}",
                "{}",
                "{",
                "}",
                "{feature_id",
                "{42}",
                "{\"json\": 1}",
                "é42é",
            ])
        );
        assert!(expand_argv(&[], &vars("n")).is_empty());
    }
}
