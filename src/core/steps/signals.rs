//! What a structured stream says about why a run failed, from its fields rather than the
//! wording of a message: an assistant message's `error` code, a refusing `rate_limit_event`
//! with its reset time, a result's `api_error_status`. Read back from the newest steps.

use super::{Step, StepKind};
use crate::core::failure::{Class, Wait};

/// Steps read back from the newest at most.
const LOOKED_AT: usize = 200;

/// The class the stream's own signals give a failed run, with the step's text as evidence;
/// `None` when it gives none (the log's words decide then).
pub fn signal_class<'a, I>(steps: I, now_ms: i64) -> Option<(Class, String)>
where
    I: DoubleEndedIterator<Item = &'a Step>,
{
    // The latest reset time any rate-limit notice gave, for a rate limit said elsewhere.
    let mut reset: Option<i64> = None;
    let mut found: Option<(Class, String)> = None;
    for step in steps.rev().take(LOOKED_AT) {
        match &step.kind {
            StepKind::RateLimit {
                status, resets_at, ..
            } => {
                if let Some(at) = resets_at {
                    reset = reset.or(Some(at.saturating_mul(1000)));
                }
                if status == "rejected" && found.is_none() {
                    found = Some((transient(None), format!("rate limit reached ({status})")));
                }
            }
            StepKind::Error {
                code: Some(code),
                text,
            } if found.is_none() => {
                let class = match code.as_str() {
                    "authentication_failed" | "billing_error" | "oauth_org_not_allowed" => {
                        Class::Auth
                    }
                    "rate_limit" | "server_error" | "overloaded" | "overloaded_error" => {
                        transient(None)
                    }
                    _ => continue,
                };
                // The tool's own words when it gave any (they say what to do), else its code.
                let why = if text.trim().is_empty() {
                    code.clone()
                } else {
                    text.clone()
                };
                found = Some((class, why));
            }
            StepKind::Result(o) if found.is_none() => match o.api_error_status {
                Some(429 | 529 | 500..=504) => {
                    let status = o.api_error_status.unwrap_or_default();
                    found = Some((transient(None), format!("API error {status}")));
                }
                Some(401 | 403) => {
                    let status = o.api_error_status.unwrap_or_default();
                    found = Some((Class::Auth, format!("API error {status}")));
                }
                _ => {}
            },
            _ => {}
        }
    }
    let (class, why) = found?;
    Some(match class {
        // Rest exactly until the reset the stream named, if it is still ahead.
        Class::Transient { .. } => (transient(reset.filter(|&at| at > now_ms)), why),
        other => (other, why),
    })
}

fn transient(until_ms: Option<i64>) -> Class {
    Class::Transient {
        wait: until_ms.map(|until_ms| Wait { until_ms }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::steps::StepBuilder;

    fn class_of(lines: &[&str], now_ms: i64) -> Option<Class> {
        let mut b = StepBuilder::default();
        for (i, l) in lines.iter().enumerate() {
            b.line(i as u64, 0, l, false);
        }
        signal_class(b.steps().iter(), now_ms).map(|(c, _)| c)
    }

    #[test]
    fn each_structured_signal_classifies_the_run() {
        let now = 1_700_000_000_000;
        let reset = now / 1000 + 40;
        let limited = format!(
            r#"{{"type":"rate_limit_event","rate_limit_info":{{"status":"rejected","resetsAt":{reset},"rateLimitType":"five_hour"}}}}"#
        );
        assert_eq!(
            class_of(
                &[
                    &limited,
                    r#"{"type":"result","subtype":"error_during_execution","is_error":true,"api_error_status":429}"#
                ],
                now
            ),
            Some(Class::Transient {
                wait: Some(Wait {
                    until_ms: reset * 1000
                })
            })
        );
        assert_eq!(
            class_of(
                &[
                    r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Invalid API key · Please run /login"}]},"error":"authentication_failed"}"#
                ],
                now
            ),
            Some(Class::Auth)
        );
        assert_eq!(
            class_of(
                &[
                    r#"{"type":"result","subtype":"success","is_error":true,"api_error_status":529}"#
                ],
                now
            ),
            Some(Class::Transient { wait: None })
        );
        assert_eq!(
            class_of(
                &[r#"{"type":"result","subtype":"success","is_error":true,"result":"tests fail"}"#],
                now
            ),
            None
        );
        // A reset already past is no wait.
        let old = format!(
            r#"{{"type":"rate_limit_event","rate_limit_info":{{"status":"rejected","resetsAt":{}}}}}"#,
            now / 1000 - 5
        );
        assert_eq!(
            class_of(&[&old], now),
            Some(Class::Transient { wait: None })
        );
    }
}
