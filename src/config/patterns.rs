//! Regular expressions in the config: `redact.patterns` and
//! `profiles.NAME.transient_patterns`, checked when the file is read so a bad one is reported
//! with its file and line instead of failing later, when a run needs it.

use std::fmt;

use regex::{RegexBuilder, RegexSetBuilder};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// Why a pattern does not compile, in one line.
fn reason(err: &regex::Error) -> String {
    match err {
        // The parser's message spans lines: a header, the pattern, a caret, then `error: why`.
        regex::Error::Syntax(text) => text
            .lines()
            .rev()
            .find_map(|line| line.strip_prefix("error: "))
            .map_or_else(
                || text.split_whitespace().collect::<Vec<_>>().join(" "),
                str::to_string,
            ),
        regex::Error::CompiledTooBig(limit) => {
            format!("too large once compiled (the limit is {limit} bytes)")
        }
        other => other.to_string(),
    }
}

/// The message for `pattern`, which failed to compile with `err`.
pub(crate) fn invalid_regex(pattern: &str, err: &regex::Error) -> String {
    format!(
        "not a valid regular expression {pattern:?}: {}",
        reason(err)
    )
}

/// `profiles.NAME.transient_patterns`: regexes that mark a failed run's log as transient.
/// Each compiles case-insensitively, and together they compile as one set, exactly as
/// [`crate::core::failure::Classifier::new`] builds them.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransientPatterns(pub Vec<String>);

impl<'de> Deserialize<'de> for TransientPatterns {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let patterns: Vec<TransientPattern> = Vec::deserialize(deserializer)?;
        let patterns: Vec<String> = patterns.into_iter().map(|p| p.0).collect();
        RegexSetBuilder::new(&patterns)
            .case_insensitive(true)
            .build()
            .map_err(|e| de::Error::custom(format!("the patterns together: {}", reason(&e))))?;
        Ok(TransientPatterns(patterns))
    }
}

/// One transient pattern.
struct TransientPattern(String);

impl<'de> Deserialize<'de> for TransientPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Validate inside the visitor: toml attaches the element's own position only to
        // errors raised while it is deserializing that element.
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = TransientPattern;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regular expression")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TransientPattern, E> {
                if s.is_empty() {
                    return Err(E::custom(
                        "an empty pattern would match every log, making every failure transient",
                    ));
                }
                RegexBuilder::new(s)
                    .case_insensitive(true)
                    .build()
                    .map(|_| TransientPattern(s.to_string()))
                    .map_err(|e| E::custom(invalid_regex(s, &e)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::invalid_regex;

    #[test]
    fn regex_errors_are_one_line_and_name_the_pattern() {
        let fail = |pattern: &str| regex::Regex::new(pattern).unwrap_err();
        assert_eq!(
            invalid_regex("(unclosed", &fail("(unclosed")),
            "not a valid regular expression \"(unclosed\": unclosed group"
        );
        assert_eq!(
            invalid_regex("x", &fail("a{100000}{100000}")),
            "not a valid regular expression \"x\": too large once compiled \
             (the limit is 10485760 bytes)"
        );
    }
}
