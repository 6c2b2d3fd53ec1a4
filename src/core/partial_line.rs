//! What of an unfinished line (an agent's question printed without a newline, waiting on
//! stdin) may be shown before the line ends.
//!
//! The line goes through the same filter (redaction) as whole lines. But a filter sees a
//! fragment: `key sk-ab12` is no secret yet, though it is the start of one. So the fragment is
//! also filtered with a long secret-like continuation after it; if that changes how the
//! fragment itself comes out, its end may be a secret's beginning, and the last word is held
//! back (then the one before, and so on) until what is shown no longer depends on what comes
//! next.

use std::borrow::Cow;

/// Stand for whatever the agent prints next: letters and digits (mixed case, and upper case
/// only, as AWS key ids are), as long as a key-shaped rule may need.
const CONTINUATIONS: [&str; 2] = [
    "Q7x9Kp2Lm4Nz8Rt6Vw3Yb5Hd1Jf0Gs7Cq2Xe9Ua4Io8Pl3Mk6Nj1Bh5Tg0Rf2Dw",
    "Q7X9KP2LM4NZ8RT6VW3YB5HD1JF0GS7CQ2XE9UA4IO8PL3MK6NJ1BH5TG0RF2DW",
];

/// The text to show for `partial`, filtered, or `None` when nothing of it can be shown yet.
pub fn shown_partial(
    partial: &str,
    filter: &dyn for<'a> Fn(&'a str) -> Cow<'a, str>,
) -> Option<String> {
    let mut end = partial.len();
    loop {
        let head = &partial[..end];
        if head.trim().is_empty() {
            return None;
        }
        let alone = filter(head);
        // Every length, then a space: some shapes have an exact length (AWS key ids). Only a
        // pause in the output gets here, so the cost of the probes does not add up.
        let stable = CONTINUATIONS.iter().all(|more| {
            (1..=more.len()).all(|n| {
                let probe = format!("{head}{} ", &more[..n]);
                filter(&probe).starts_with(alone.as_ref())
            })
        });
        if stable {
            return Some(alone.into_owned());
        }
        // Hold back the last word: cut before it, keeping the space in front of it.
        let trimmed = head.trim_end();
        end = trimmed.rfind(char::is_whitespace).map_or(0, |i| {
            i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::redact::Redactor;

    #[test]
    fn questions_show_and_the_start_of_a_secret_is_held_back() {
        let r = Redactor::new(&[]).unwrap();
        let shown = |p: &str| shown_partial(p, &|t| r.redact(t));
        let rows: [(&str, Option<&str>); 9] = [
            ("Continue? [y/N] ", Some("Continue? [y/N] ")),
            ("Enter your name:", Some("Enter your name:")),
            ("Password: ", Some("Password: ")),
            ("Type yes to continue", Some("Type yes to continue")),
            // A key being printed: the part that is one is held back.
            ("your key is sk-ant-api03-ab12", Some("your key is ")),
            ("sk-ant-api03-ab12", None),
            ("aws AKIAIOSF", Some("aws ")),
            // A labelled value is hidden already; a longer value would be too.
            ("token=abc123", Some("token=[REDACTED]")),
            ("   ", None),
        ];
        for (partial, want) in rows {
            assert_eq!(shown(partial).as_deref(), want, "{partial:?}");
        }
    }
}
