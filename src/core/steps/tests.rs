use super::*;

/// Feeds every line of a fixture, the n-th read at n seconds.
fn build(text: &str) -> StepBuilder {
    let mut b = StepBuilder::default();
    for (i, line) in text.lines().enumerate() {
        b.line(i as u64, 1_000 * (i as i64 + 1), line, false);
    }
    b
}

/// Each step as one line, indented two spaces per level under its call.
fn lines(b: &StepBuilder) -> Vec<String> {
    b.steps()
        .iter()
        .map(|s| {
            let text: String = one_line(s).into_iter().map(|(_, t)| t).collect();
            format!("{}{}", "  ".repeat(s.depth as usize), text)
        })
        .collect()
}

const CLAUDE: &str = include_str!("../../../tests/fixtures/steps/claude_documented.jsonl");
const CLAUDE_SUBAGENT: &str =
    include_str!("../../../tests/fixtures/steps/claude_real_subagent.jsonl");
const CLAUDE_PERMISSION: &str =
    include_str!("../../../tests/fixtures/steps/claude_real_permission.jsonl");
const CLAUDE_NO_LOGIN: &str =
    include_str!("../../../tests/fixtures/steps/claude_real_no_login.jsonl");
const CODEX: &str = include_str!("../../../tests/fixtures/steps/codex_documented.jsonl");
const GEMINI: &str = include_str!("../../../tests/fixtures/steps/gemini_documented.jsonl");

#[test]
fn claude_stream_pairs_calls_with_results_and_hangs_a_subagent_under_its_task() {
    let b = build(CLAUDE);
    assert!(b.structured());
    assert_eq!(
        lines(&b),
        [
            "Claude Code starting (a banner line before the stream)",
            "session  claude-sonnet-4-5 · 5 tools · sess-claude-1",
            "thinks  The cart total is wrong when a coupon applies. …",
            "todo  1/3 done · now: Fix the total",
            "Bash  cargo test -q  error 1s  test cart::coupon ... FAILED …",
            "Task  Find where coupons apply  ok 4s",
            "  Grep  coupon in src/  ok 1s",
            "  says  The discount is applied in src/cart.rs line 42.",
            r#"{"type":"some_future_event","detail":"kept as printed"}"#,
            "Edit  src/cart.rs  ok 1s",
            "rate limit  allowed warning · five_hour · resets 18:00 UTC",
            "says  Fixed: the coupon now lowers the total. …",
            "done  6 turns · 14s · $0.0412 · 5200 in / 830 out tokens",
        ]
    );
    let task = b.steps().iter().find(|s| s.depth == 1).unwrap();
    assert_eq!(task.parent, Some(5), "under the Task call");
    assert_eq!(b.state(), StepState::Done);
}

#[test]
fn the_real_claude_cli_subagent_stream_reads_as_steps() {
    // Captured from Claude Code 2.1.197 against tests/fixtures/steps/standin_messages_api.py.
    let b = build(CLAUDE_SUBAGENT);
    let shown = lines(&b);
    assert!(
        shown[0].starts_with("session  claude-sonnet-4-5 · "),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"Agent  Check the tests  ok 8s".to_string()),
        "{shown:#?}"
    );
    assert!(shown.contains(&"  prompt  look closer: run the tests".to_string()));
    assert!(
        shown.contains(&"  Bash  echo tests pass  ok 1s".to_string()),
        "{shown:#?}"
    );
    assert!(
        shown.last().unwrap().starts_with("done  2 turns · "),
        "{shown:#?}"
    );
    // Claude Code's task notes are no steps of their own: kept as printed.
    assert!(
        shown
            .iter()
            .any(|l| l.contains("\"subtype\":\"task_started\""))
    );
}

#[test]
fn a_permission_request_waits_until_the_agent_goes_on() {
    let text: Vec<&str> = CLAUDE_PERMISSION.lines().collect();
    let asked = text
        .iter()
        .position(|l| l.contains("\"control_request\""))
        .unwrap();
    let mut b = StepBuilder::default();
    for (i, line) in text[..=asked].iter().enumerate() {
        b.line(i as u64, 0, line, false);
    }
    assert_eq!(
        b.state(),
        StepState::NeedsApproval {
            tool: "Bash".into(),
            summary: "touch built.txt".into()
        }
    );
    let last: String = one_line(b.steps().back().unwrap())
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(last, "waiting for approval:  Bash  touch built.txt");
    let change = b.line(asked as u64 + 1, 0, text[asked + 1], false);
    assert!(change.updated.is_some(), "the request is answered in place");
    assert!(matches!(b.state(), StepState::Working { .. }));
    for (i, line) in text.iter().enumerate().skip(asked + 2) {
        b.line(i as u64, 0, line, false);
    }
    assert_eq!(b.state(), StepState::Done);
}

#[test]
fn no_login_is_an_error_coded_by_the_tool_and_a_failed_result() {
    let b = build(CLAUDE_NO_LOGIN);
    let error = b
        .steps()
        .iter()
        .find_map(|s| match &s.kind {
            StepKind::Error { code, text } => Some((code.clone(), text.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        error,
        (
            Some("authentication_failed".into()),
            "Not logged in · Please run /login".into()
        )
    );
    assert_eq!(
        b.state(),
        StepState::Failed {
            reason: "Not logged in · Please run /login".into()
        }
    );
}

#[test]
fn codex_items_are_one_step_each_from_start_to_completion() {
    let b = build(CODEX);
    assert_eq!(
        lines(&b),
        [
            "session  0199a1b2-thread",
            "thinks  **Looking at the failing test**",
            "Shell  bash -lc 'cargo test -q'  error 1s  test result: FAILED. 1 passed; 1 failed",
            "todo  0/2 done",
            "Edit  src/cart.rs",
            "docs.lookup  coupon rules  ok 1s",
            "WebSearch  rust decimal rounding  ok 0ms",
            "Shell  bash -lc 'cargo test -q'  ok 1s",
            "error  model response truncated",
            r#"{"id":"item_8","note":"kept as printed","type":"some_new_item"}"#,
            "says  Fixed the coupon total; tests pass.",
            "turn done  24763 in / 122 out tokens",
        ]
    );
    assert_eq!(b.state(), StepState::Done);
}

#[test]
fn gemini_deltas_make_one_message_and_tools_pair_by_id() {
    let b = build(GEMINI);
    assert_eq!(
        lines(&b),
        [
            "session  gemini-2.5-pro · gem-sess-1",
            "prompt  Fix the coupon total",
            "says  I'll run the tests first.",
            "run_shell_command  cargo test -q  ok 1s",
            "read_file  /work/shop/src/missing.rs  error 1s  File not found: /work/shop/src/missing.rs",
            "error  warning  Loop detected, stopping the repeated call",
            r#"{"type":"an_unknown_event","timestamp":"2026-12-03T17:00:18.500Z"}"#,
            "says  Done: tests pass.",
            "done  20s · 1500 in / 350 out tokens",
        ]
    );
}

#[test]
fn plain_text_has_no_steps_and_bad_lines_never_fail() {
    let mut b = StepBuilder::default();
    for (i, line) in ["hello", "{not json", "{\"no_type\":1}", "[1,2]", ""]
        .iter()
        .enumerate()
    {
        let change = b.line(i as u64, 0, line, false);
        assert_eq!(change, Change::default());
    }
    assert!(!b.structured());
    assert!(b.steps().is_empty());
    assert_eq!(b.state(), StepState::Unknown);
    // Once structured, the early lines come first as raw steps, then broken lines stay raw.
    let change = b.line(5, 0, r#"{"type":"thread.started","thread_id":"t"}"#, false);
    assert!(change.became_structured);
    assert_eq!(change.added, 6);
    b.line(6, 0, "{\"type\":\"item.completed\"", false);
    b.line(7, 0, "warning: on stderr", true);
    let texts = lines(&b);
    assert_eq!(texts[0], "hello");
    assert_eq!(texts[5], "session  t");
    assert_eq!(texts[6], "{\"type\":\"item.completed\"");
    assert!(matches!(
        &b.steps()[7].kind,
        StepKind::Raw { stderr: true, .. }
    ));
}

#[test]
fn a_result_for_an_earlier_call_updates_it_in_place() {
    let mut b = StepBuilder::default();
    let call = r#"{"type":"assistant","message":{"content":[{"type":"tool_use","id":"a","name":"Bash","input":{"command":"sleep 1"}}]}}"#;
    let text = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"meanwhile"}]}}"#;
    let result = r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"a","content":"done"}]}}"#;
    b.line(0, 1_000, call, false);
    b.line(1, 2_000, text, false);
    let change = b.line(2, 15_000, result, false);
    assert_eq!(change.added, 0);
    assert_eq!(change.updated, Some(0));
    let shown: String = one_line(&b.steps()[0])
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    assert_eq!(shown, "Bash  sleep 1  ok 14s");
    // A result for a call never seen changes nothing.
    let stray = r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"zz","content":"?"}]}}"#;
    assert_eq!(b.line(3, 0, stray, false), Change::default());
}

#[test]
fn steps_are_bounded() {
    let mut b = StepBuilder::default();
    b.line(0, 0, r#"{"type":"thread.started","thread_id":"t"}"#, false);
    for i in 1..(MAX_STEPS as u64 + 50) {
        b.line(i, 0, "noise", false);
    }
    assert_eq!(b.steps().len(), MAX_STEPS);
    assert_eq!(b.steps().front().unwrap().id, 50);
    assert!(b.get(49).is_none());
    assert!(b.get(50).is_some());
}

#[test]
fn expanded_shows_the_full_input_and_output() {
    let b = build(CLAUDE);
    let bash = b
        .steps()
        .iter()
        .find(|s| matches!(&s.kind, StepKind::Call(c) if c.tool == "Bash"))
        .unwrap();
    assert_eq!(
        expanded(bash),
        [
            "input:",
            "  {",
            "    \"command\": \"cargo test -q\",",
            "    \"description\": \"Run the tests\"",
            "  }",
            "output:",
            "  test cart::coupon ... FAILED",
            "  expected 90, got 100",
        ]
    );
}

#[test]
fn a_line_seen_unfinished_then_whole_counts_once() {
    let mut b = StepBuilder::default();
    b.line(0, 0, r#"{"type":"thread.started","thread_id":"t"}"#, false);
    let part = r#"{"type":"item.completed","item":{"id":"a","type":"agent_message","#;
    let whole = r#"{"type":"item.completed","item":{"id":"a","type":"agent_message","text":"hi"}}"#;
    assert_eq!(b.line(1, 0, part, false).added, 1);
    let change = b.line(1, 0, whole, false);
    assert!(change.removed);
    assert_eq!(change.added, 1);
    assert_eq!(b.steps().len(), 2);
    assert!(matches!(&b.steps()[1].kind, StepKind::Message { text } if text == "hi"));
    assert_eq!(b.line(1, 0, whole, false), Change::default(), "read once");
}

#[test]
fn a_large_input_and_output_are_kept_cut_with_a_mark() {
    let mut b = StepBuilder::default();
    let content = "x".repeat(INPUT_KEPT * 2);
    let call = serde_json::json!({"type":"assistant","message":{"content":[
        {"type":"tool_use","id":"w","name":"Write","input":{"file_path":"big.txt","content":content}}]}});
    let output = "y\n".repeat(OUTPUT_KEPT);
    let result = serde_json::json!({"type":"user","message":{"content":[
        {"type":"tool_result","tool_use_id":"w","content":output}]}});
    b.line(0, 0, &call.to_string(), false);
    b.line(1, 0, &result.to_string(), false);
    let StepKind::Call(call) = &b.steps()[0].kind else {
        panic!("{:?}", b.steps()[0]);
    };
    assert_eq!(call.summary, "big.txt");
    assert!(call.input.chars().count() < INPUT_KEPT + 100);
    assert!(
        call.input.ends_with("more characters in the raw lines]"),
        "{}",
        &call.input[call.input.len() - 80..]
    );
    assert!(
        call.output
            .ends_with("[2000 more characters in the raw lines]")
    );
}
