//! `{placeholder}` substitution in argv templates.
//!
//! Feature names come from users and from agents, so they are data, never syntax: substitution
//! happens inside one argv element at a time, and nothing is ever split, joined, quoted or
//! passed through a shell.

use std::ops::Range;

/// The placeholder names a command template may use, without braces.
pub const KNOWN_PLACEHOLDERS: [&str; 8] = crate::core::argv::PLACEHOLDERS;

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
    use super::unknown_placeholders;

    #[test]
    fn only_words_outside_the_known_list_are_unknown() {
        assert!(unknown_placeholders("--model={model} {feature_id}").is_empty());
        assert_eq!(
            unknown_placeholders("{feature} {id}"),
            vec!["{feature}", "{id}"]
        );
        // Not a placeholder at all: JSON, empty braces, spaces inside.
        assert!(unknown_placeholders(r#"{"a": 1} {} {a b}"#).is_empty());
    }
}
