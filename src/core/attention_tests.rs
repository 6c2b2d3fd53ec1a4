use crate::api::{Answer, Ask, Command, FeatureId, JobId, Role, RunId, RunState};
use crate::core::{Effect, Input, Model, NewRun, TimerKind};

fn model_with_run(timeout_ms: Option<u64>, silence_ms: Option<u64>) -> Model {
    let mut m = Model {
        now_ms: 1_000_000,
        ..Model::default()
    };
    m.handle(Input::Spawned(NewRun {
        id: RunId(1),
        job: JobId(1),
        feature: Some(FeatureId(4)),
        profile: "coding".into(),
        role: Role::Custom,
        pid: 4242,
        started_at_ms: 1_000_000,
        grace_ms: 1000,
        timeout_ms,
        silence_ms,
    }));
    m
}

fn approval(id: &str) -> Ask {
    Ask::Approval {
        request_id: id.into(),
        tool: "Bash".into(),
        summary: "rm -rf target".into(),
    }
}

fn seen(m: &mut Model, ask: Option<Ask>) -> Vec<Effect> {
    m.handle(Input::Attention {
        run: RunId(1),
        activity: Some("Bash rm -rf target".into()),
        ask,
        session: None,
    })
}

fn replies(effects: &[Effect]) -> Vec<(String, bool, Option<String>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Reply { reply, .. } => {
                Some((reply.request_id.clone(), reply.allow, reply.message.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_request_waits_notifies_once_and_an_answer_replies_and_ends_the_wait() {
    let mut m = model_with_run(None, None);
    let effects = seen(&mut m, Some(approval("r1")));
    let notes: Vec<_> = effects
        .iter()
        .filter(|e| matches!(e, Effect::Notify(n) if n.event == "needs_input"))
        .collect();
    assert_eq!(notes.len(), 1, "{effects:?}");
    let snap = m.snapshot(std::path::Path::new("/p"), 1);
    assert_eq!(snap.runs[0].waiting.as_ref().unwrap().ask, approval("r1"));
    assert_eq!(snap.runs[0].activity.as_deref(), Some("Bash rm -rf target"));
    // Seen again: nothing new.
    assert!(
        !seen(&mut m, Some(approval("r1")))
            .iter()
            .any(|e| matches!(e, Effect::Notify(_)))
    );
    let effects = m.handle(Input::Command(Command::Answer {
        run: RunId(1),
        answer: Answer::Allow,
    }));
    assert_eq!(replies(&effects), vec![("r1".into(), true, None)]);
    assert!(m.runs[&RunId(1)].attention.waiting.is_none());
    // The stream still shows the request until the agent goes on: it is not asked again.
    let effects = seen(&mut m, Some(approval("r1")));
    assert!(effects.is_empty(), "{effects:?}");
    assert!(m.runs[&RunId(1)].attention.waiting.is_none());
}

#[test]
fn deny_carries_the_reason_and_allow_tool_answers_later_requests_itself() {
    let mut m = model_with_run(None, None);
    seen(&mut m, Some(approval("r1")));
    let effects = m.handle(Input::Command(Command::Answer {
        run: RunId(1),
        answer: Answer::Deny {
            reason: Some("not that".into()),
        },
    }));
    assert_eq!(
        replies(&effects),
        vec![("r1".into(), false, Some("not that".into()))]
    );
    seen(&mut m, Some(approval("r2")));
    let effects = m.handle(Input::Command(Command::Answer {
        run: RunId(1),
        answer: Answer::AllowTool,
    }));
    assert_eq!(replies(&effects), vec![("r2".into(), true, None)]);
    let effects = seen(&mut m, Some(approval("r3")));
    assert_eq!(replies(&effects), vec![("r3".into(), true, None)]);
    assert!(m.runs[&RunId(1)].attention.waiting.is_none());
    assert!(!effects.iter().any(|e| matches!(e, Effect::Notify(_))));
}

#[test]
fn an_unanswered_request_is_denied_after_the_profiles_deny_after() {
    let mut m = model_with_run(None, None);
    m.deny_after_ms.insert("coding".into(), 60_000);
    let effects = seen(&mut m, Some(approval("r1")));
    let epoch = effects
        .iter()
        .find_map(|e| match e {
            Effect::StartTimer {
                kind: TimerKind::AskDeadline,
                epoch,
                after_ms: 60_000,
                ..
            } => Some(*epoch),
            _ => None,
        })
        .expect("a deadline timer");
    m.now_ms += 60_000;
    let effects = m.handle(Input::Timer {
        run: RunId(1),
        epoch,
        kind: TimerKind::AskDeadline,
    });
    let r = replies(&effects);
    assert_eq!(r.len(), 1);
    assert!(!r[0].1);
    assert!(
        r[0].2.as_ref().unwrap().contains("Nobody answered"),
        "{r:?}"
    );
    // A stale deadline (an older wait) does nothing.
    seen(&mut m, Some(approval("r2")));
    assert!(
        replies(&m.handle(Input::Timer {
            run: RunId(1),
            epoch,
            kind: TimerKind::AskDeadline,
        }))
        .is_empty()
    );
}

#[test]
fn time_spent_waiting_counts_toward_neither_timeout_nor_silence() {
    let mut m = model_with_run(Some(100_000), Some(30_000));
    m.now_ms += 50_000;
    seen(&mut m, Some(approval("r1")));
    // The silence check while waiting is no stall: looked at again a period later.
    m.now_ms += 40_000;
    let epoch = m.runs[&RunId(1)].epoch;
    let effects = m.handle(Input::Quiet {
        run: RunId(1),
        epoch,
        quiet_ms: 40_000,
    });
    assert_eq!(m.runs[&RunId(1)].state, RunState::Running, "{effects:?}");
    // The timeout comes due while waiting: put off.
    m.now_ms += 20_000;
    let effects = m.handle(Input::Timer {
        run: RunId(1),
        epoch: 0,
        kind: TimerKind::Timeout,
    });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(m.runs[&RunId(1)].state, RunState::Running);
    // Answered after 60 s of waiting: 50 s of work were done, 50 s remain.
    let effects = m.handle(Input::Command(Command::Answer {
        run: RunId(1),
        answer: Answer::Allow,
    }));
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::StartTimer {
                kind: TimerKind::Timeout,
                after_ms: 50_000,
                ..
            }
        )),
        "{effects:?}"
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::StartTimer {
            kind: TimerKind::Silence,
            after_ms: 30_000,
            ..
        }
    )));
    // Then the timeout stops it, once the work time is spent.
    m.now_ms += 50_000;
    m.handle(Input::Timer {
        run: RunId(1),
        epoch: 0,
        kind: TimerKind::Timeout,
    });
    assert_eq!(m.runs[&RunId(1)].state, RunState::Stopping);
}

#[test]
fn a_wait_ends_when_the_stream_moves_on_and_a_guess_cannot_be_approved() {
    let mut m = model_with_run(None, None);
    let effects = seen(
        &mut m,
        Some(Ask::Guess {
            line: "Continue? [y/n] ".into(),
        }),
    );
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Notify(_))),
        "a guess is shown, not announced"
    );
    let effects = m.handle(Input::Command(Command::Answer {
        run: RunId(1),
        answer: Answer::Allow,
    }));
    assert!(replies(&effects).is_empty());
    assert!(
        m.notice
            .as_deref()
            .unwrap()
            .contains("answer it with input")
    );
    seen(&mut m, None);
    assert!(m.runs[&RunId(1)].attention.waiting.is_none());
}

#[test]
fn the_control_response_and_user_message_lines() {
    use crate::core::attention::{Reply, control_response, user_message};
    let allow = Reply {
        request_id: "r-1".into(),
        allow: true,
        message: None,
    };
    assert_eq!(
        control_response(&allow, Some(r#"{"command":"touch x"}"#)),
        r#"{"response":{"request_id":"r-1","response":{"behavior":"allow","updatedInput":{"command":"touch x"}},"subtype":"success"},"type":"control_response"}"#
    );
    let deny = Reply {
        request_id: "r-2".into(),
        allow: false,
        message: Some("no \"rm\"".into()),
    };
    let v: serde_json::Value = serde_json::from_str(&control_response(&deny, None)).unwrap();
    assert_eq!(v["response"]["response"]["behavior"], "deny");
    assert_eq!(v["response"]["response"]["message"], "no \"rm\"");
    assert_eq!(v["response"]["request_id"], "r-2");
    assert_eq!(
        user_message("fix it\nplease"),
        r#"{"message":{"content":"fix it\nplease","role":"user"},"type":"user"}"#
    );
}
