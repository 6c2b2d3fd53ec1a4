//! `{placeholder}` substitution in argv templates.
//!
//! Feature names come from users and from agents, so they are data, never syntax: substitution
//! happens inside one argv element at a time, and nothing is ever split, joined, quoted or
//! passed through a shell.

/// The placeholder names a command template may use, without braces.
pub const KNOWN_PLACEHOLDERS: [&str; 9] = crate::core::argv::PLACEHOLDERS;

/// The `{word}` tokens in `s` that are not known placeholders, with braces, in order.
pub(crate) fn unknown_placeholders(s: &str) -> Vec<&str> {
    crate::core::argv::brace_words(s)
        .filter(|(_, name)| !KNOWN_PLACEHOLDERS.contains(name))
        .map(|(range, _)| &s[range])
        .collect()
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
