//! What a run is doing, as its steps tell it: the state the Agents pane and the header show
//! and that decides whether the run needs a person.
//!
//! Read from the newest step back, skipping raw lines, the session and thinking:
//! - a final result: `Done` when it went well, else `Failed`; a Codex turn's end is `Done`
//!   too, since `codex exec` runs one turn;
//! - a permission request nothing has followed yet: `NeedsApproval`;
//! - a rate-limit notice that refuses (`rejected`), or an error coded `rate_limit`:
//!   `RateLimited` until the next step;
//! - an `AskUserQuestion` call still waiting for its answer (anywhere in the run): `NeedsInput`;
//! - otherwise a call still running: `Working` on it; else `Working` on the last message;
//! - nothing recognised at all: `Unknown` (a plain-text agent: its steps say nothing).

use super::{CallStatus, Step, StepKind};
use serde::Serialize;

/// Steps read back from the newest at most.
const STEPS_LOOKED_AT: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StepState {
    Unknown,
    /// Doing `activity` (the running call, `Bash cargo test`, or the last message).
    Working {
        activity: String,
    },
    NeedsApproval {
        tool: String,
        summary: String,
    },
    NeedsInput {
        question: String,
    },
    RateLimited {
        resets_at: Option<i64>,
    },
    Done,
    Failed {
        reason: String,
    },
}

impl StepState {
    /// A person must act for the run to go on.
    pub fn needs_person(&self) -> bool {
        matches!(
            self,
            StepState::NeedsApproval { .. } | StepState::NeedsInput { .. }
        )
    }

    /// A short word for a list: `working`, `needs approval`, ...
    pub fn word(&self) -> &'static str {
        match self {
            StepState::Unknown => "unknown",
            StepState::Working { .. } => "working",
            StepState::NeedsApproval { .. } => "needs approval",
            StepState::NeedsInput { .. } => "needs input",
            StepState::RateLimited { .. } => "rate limited",
            StepState::Done => "done",
            StepState::Failed { .. } => "failed",
        }
    }
}

/// The state the steps tell, oldest first in `steps` (see the module docs for the rules).
pub fn state_of<'a, I>(steps: I) -> StepState
where
    I: DoubleEndedIterator<Item = &'a Step>,
{
    let mut last_message: Option<String> = None;
    let mut running: Option<String> = None;
    let mut newest = true;
    // A run's history may be long: the state is in its newest steps.
    for step in steps.rev().take(STEPS_LOOKED_AT) {
        let kind = &step.kind;
        if matches!(
            kind,
            StepKind::Raw { .. } | StepKind::Session { .. } | StepKind::Thinking { .. }
        ) {
            continue;
        }
        if newest {
            newest = false;
            match kind {
                StepKind::Result(o) if o.ok => return StepState::Done,
                StepKind::Result(o) => {
                    let reason = o
                        .text
                        .clone()
                        .filter(|t| !t.is_empty())
                        .or_else(|| o.subtype.clone())
                        .unwrap_or_else(|| "failed".into());
                    return StepState::Failed { reason };
                }
                StepKind::Approval {
                    tool,
                    summary,
                    answered: false,
                    ..
                } => {
                    return StepState::NeedsApproval {
                        tool: tool.clone(),
                        summary: summary.clone(),
                    };
                }
                StepKind::RateLimit {
                    status, resets_at, ..
                } if status == "rejected" => {
                    return StepState::RateLimited {
                        resets_at: *resets_at,
                    };
                }
                StepKind::Error { code, .. } if code.as_deref() == Some("rate_limit") => {
                    return StepState::RateLimited { resets_at: None };
                }
                _ => {}
            }
        }
        match kind {
            StepKind::Call(call) if call.status == CallStatus::Running => {
                if call.tool == "AskUserQuestion" {
                    return StepState::NeedsInput {
                        question: call.summary.clone(),
                    };
                }
                if running.is_none() {
                    running = Some(format!("{} {}", call.tool, call.summary));
                }
            }
            StepKind::Message { text } if last_message.is_none() => {
                last_message = text
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_string);
            }
            _ => {}
        }
    }
    if newest {
        return StepState::Unknown;
    }
    let activity = running.or(last_message).unwrap_or_default();
    StepState::Working {
        activity: activity.trim().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Call, Outcome};
    use super::*;

    fn step(kind: StepKind) -> Step {
        Step {
            id: 0,
            seq: 0,
            at_ms: 0,
            parent: None,
            depth: 0,
            kind,
        }
    }
    fn call(tool: &str, summary: &str, status: CallStatus) -> StepKind {
        StepKind::Call(Call {
            call_id: "c".into(),
            tool: tool.into(),
            summary: summary.into(),
            input: String::new(),
            status,
            ended_ms: None,
            output: String::new(),
        })
    }
    fn msg(text: &str) -> StepKind {
        StepKind::Message { text: text.into() }
    }
    fn raw() -> StepKind {
        StepKind::Raw {
            text: "x".into(),
            stderr: false,
        }
    }
    fn result(ok: bool, text: &str) -> StepKind {
        StepKind::Result(Outcome {
            ok,
            text: Some(text.into()),
            ..Outcome::default()
        })
    }
    fn approval(answered: bool) -> StepKind {
        StepKind::Approval {
            request_id: None,
            tool: "Bash".into(),
            summary: "rm -rf target".into(),
            input: "{}".into(),
            answered,
        }
    }
    fn limit(status: &str) -> StepKind {
        StepKind::RateLimit {
            status: status.into(),
            resets_at: Some(100),
            limit: None,
        }
    }
    fn working(activity: &str) -> StepState {
        StepState::Working {
            activity: activity.into(),
        }
    }

    #[test]
    fn the_state_each_history_tells() {
        use CallStatus::*;
        let cases: Vec<(&str, Vec<StepKind>, StepState)> = vec![
            ("nothing", vec![], StepState::Unknown),
            ("only raw lines", vec![raw(), raw()], StepState::Unknown),
            ("a message", vec![msg("hi\nthere")], working("hi")),
            (
                "a running call wins over a later message",
                vec![call("Bash", "cargo test", Running), msg("waiting")],
                working("Bash cargo test"),
            ),
            (
                "a finished call: the last message",
                vec![msg("first"), call("Bash", "ls", Ok), raw()],
                working("first"),
            ),
            (
                "an open approval",
                vec![
                    call("Bash", "rm -rf target", Running),
                    approval(false),
                    raw(),
                ],
                StepState::NeedsApproval {
                    tool: "Bash".into(),
                    summary: "rm -rf target".into(),
                },
            ),
            (
                "an answered approval",
                vec![approval(true), call("Bash", "rm", Running)],
                working("Bash rm"),
            ),
            (
                "a question",
                vec![call("AskUserQuestion", "Which db?", Running), raw()],
                StepState::NeedsInput {
                    question: "Which db?".into(),
                },
            ),
            (
                "rate limit refused",
                vec![msg("a"), limit("rejected")],
                StepState::RateLimited {
                    resets_at: Some(100),
                },
            ),
            (
                "rate limit warning",
                vec![msg("a"), limit("allowed_warning")],
                working("a"),
            ),
            (
                "rate limit error code",
                vec![StepKind::Error {
                    text: "slow down".into(),
                    code: Some("rate_limit".into()),
                }],
                StepState::RateLimited { resets_at: None },
            ),
            (
                "done",
                vec![msg("a"), result(true, "ok"), raw()],
                StepState::Done,
            ),
            (
                "failed",
                vec![result(false, "Not logged in")],
                StepState::Failed {
                    reason: "Not logged in".into(),
                },
            ),
        ];
        for (name, kinds, want) in cases {
            let steps: Vec<Step> = kinds.into_iter().map(step).collect();
            assert_eq!(state_of(steps.iter()), want, "{name}");
        }
        assert!(
            StepState::NeedsInput {
                question: "q".into()
            }
            .needs_person()
        );
        assert!(!working("x").needs_person());
    }
}
