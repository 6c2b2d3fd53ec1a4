//! The demo agent's Claude-like event stream (`corral demo-agent --stream-json`): the same
//! scripted work as the plain transcript, told as Claude Code's `stream-json` events (an
//! `init`, assistant text and thinking, tool calls each followed by its result, a to-do list,
//! the final `result` with turns, cost and usage), so the demo's Log pane shows steps.
//!
//! Built from the plain [`Plan`] line by line, so both tell the same story with the same
//! outcome and pace; pure, like [`super::agent::plan`].

use super::agent::{Plan, Step, Stream};
use crate::core::lines::strip_sgr;
use serde_json::{Value, json};

const SESSION: &str = "demo-session";
const MODEL: &str = "demo-sonnet";
/// Seconds between a quick tool call and its result.
const TOOL_TIME: f64 = 0.4;

struct Out {
    steps: Vec<Step>,
    session: String,
    calls: u32,
    /// Ask permission before the next file edit (Claude Code's stdio permission prompt).
    ask_next_edit: bool,
}

impl Out {
    fn event(&mut self, delay: f64, v: Value) {
        self.steps.push(Step {
            stream: Stream::Stdout,
            text: v.to_string(),
            delay,
        });
    }

    fn assistant(&mut self, delay: f64, block: Value) {
        let v = json!({
            "type": "assistant",
            "message": {"role": "assistant", "model": MODEL, "content": [block]},
            "parent_tool_use_id": null,
            "session_id": self.session,
        });
        self.event(delay, v);
    }

    fn text(&mut self, delay: f64, text: &str) {
        self.assistant(delay, json!({"type": "text", "text": text}));
    }

    /// A tool call now and its result `took` seconds later.
    fn call(&mut self, delay: f64, tool: &str, input: Value, result: &str, ok: bool, took: f64) {
        self.calls += 1;
        let id = format!("toolu_demo_{}", self.calls);
        self.assistant(
            delay,
            json!({"type": "tool_use", "id": id, "name": tool, "input": input}),
        );
        if self.ask_next_edit && matches!(tool, "Edit" | "Write") {
            self.ask_next_edit = false;
            self.steps.push(Step {
                stream: Stream::Ask,
                text: json!({
                    "type": "control_request",
                    "request_id": format!("demo-request-{}", self.calls),
                    "request": {"subtype": "can_use_tool", "tool_name": tool, "input": input,
                                "tool_use_id": id},
                })
                .to_string(),
                delay: 0.3,
            });
        }
        let v = json!({
            "type": "user",
            "message": {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": id, "content": result, "is_error": !ok}
            ]},
            "parent_tool_use_id": null,
            "session_id": self.session,
        });
        self.event(took, v);
    }
}

/// The plain plan told as Claude Code's `stream-json` events; same exit code.
pub fn stream_plan(plain: &Plan, seed: u64) -> Plan {
    let mut out = Out {
        steps: Vec::new(),
        session: format!("{SESSION}-{seed}"),
        calls: 0,
        // Now and then (every third run) the agent asks before it edits a file, so the demo
        // shows a run that needs you within its first minute.
        ask_next_edit: seed.is_multiple_of(3),
    };
    let lines = &plain.steps;
    let mut total = 0.0;
    let mut todo: Vec<String> = Vec::new();
    let mut summary: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut i = 0;
    while i < lines.len() {
        let step = &lines[i];
        let (delay, raw) = (step.delay, step.text.as_str());
        total += delay;
        let text = strip_sgr(raw).to_string();
        i += 1;
        if i == 1 {
            out.event(
                delay,
                json!({"type": "system", "subtype": "init", "session_id": out.session,
                       "model": MODEL, "tools": ["Bash", "Edit", "Glob", "Grep", "Read", "TodoWrite", "Write"]}),
            );
            continue;
        }
        if !todo.is_empty() && !is_plan_item(&text) {
            let todos: Vec<Value> = todo
                .drain(..)
                .enumerate()
                .map(|(n, t)| {
                    let status = if n == 0 { "in_progress" } else { "pending" };
                    json!({"content": t, "status": status, "activeForm": t})
                })
                .collect();
            out.call(
                0.3,
                "TodoWrite",
                json!({"todos": todos}),
                "Todos updated",
                true,
                0.3,
            );
        }
        if step.stream == Stream::Stderr {
            // A refusal of the API (the rate-limited script) stays as Claude Code prints it.
            out.steps.push(step.clone());
            continue;
        }
        if let Some(heading) = text.strip_prefix("● ") {
            section = heading.to_string();
            if !matches!(heading, "Plan" | "Summary" | "Running tests") {
                out.text(delay, heading);
            }
            continue;
        }
        if section == "Plan" && is_plan_item(&text) {
            let item = text.split_once(". ").map_or(text.as_str(), |(_, t)| t);
            todo.push(item.to_string());
            continue;
        }
        if let Some(usage) = text.strip_prefix("corral-usage: ") {
            let u: Value = serde_json::from_str(usage).unwrap_or(Value::Null);
            let failed = plain.exit_code != 0;
            let said = summary.join("\n");
            out.text(delay, &said);
            out.event(
                0.3,
                json!({
                    "type": "result",
                    "subtype": if failed { "error_during_execution" } else { "success" },
                    "is_error": failed,
                    "duration_ms": (total * 1000.0) as u64,
                    "num_turns": out.calls + 1,
                    "result": said,
                    "session_id": out.session,
                    "total_cost_usd": u.get("cost_usd"),
                    "usage": {
                        "input_tokens": u.get("input_tokens"),
                        "output_tokens": u.get("output_tokens"),
                        "cache_read_input_tokens": u.get("cache_read_tokens"),
                    },
                }),
            );
            continue;
        }
        if section == "Summary" {
            summary.push(text.trim_start_matches(['✓', '✗', ' ']).to_string());
            continue;
        }
        let (tool, rest) = text.split_once(' ').unwrap_or((text.as_str(), ""));
        match tool {
            "Bash" => {
                // The test run's output, up to its result line, is the call's result.
                let mut output: Vec<String> = Vec::new();
                let mut took = 0.0;
                let mut ok = true;
                while i < lines.len() {
                    let line = strip_sgr(&lines[i].text).to_string();
                    if lines[i].stream == Stream::Stdout && line.starts_with("● ") {
                        break;
                    }
                    took += lines[i].delay;
                    total += lines[i].delay;
                    ok &= !line.contains("FAILED") && !line.starts_with("error");
                    output.push(line);
                    i += 1;
                }
                let input = json!({"command": rest, "description": "Run the tests"});
                out.call(delay, "Bash", input, &output.join("\n"), ok, took);
            }
            "Read" | "Glob" | "Grep" | "Edit" | "Write" => {
                let (target, detail) = rest.split_once(" (").unwrap_or((rest, ""));
                let (target, diff) = target.split_once(" +").unwrap_or((target, ""));
                let input = match tool {
                    "Glob" => json!({"pattern": target}),
                    "Grep" => {
                        let (pattern, path) = target.rsplit_once(' ').unwrap_or((target, "."));
                        json!({"pattern": pattern.trim_matches('"'), "path": path})
                    }
                    _ => json!({"file_path": target}),
                };
                let result = if diff.is_empty() {
                    detail.trim_end_matches(')').to_string()
                } else {
                    format!("The file {target} has been updated (+{diff})")
                };
                out.call(delay, tool, input, &result, true, TOOL_TIME);
            }
            _ => out.assistant(delay, json!({"type": "thinking", "thinking": text})),
        }
    }
    Plan {
        steps: out.steps,
        exit_code: plain.exit_code,
    }
}

fn is_plan_item(text: &str) -> bool {
    text.split_once(". ")
        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::super::agent::{DemoAgentArgs, plan};
    use super::*;
    use crate::core::steps::{StepBuilder, StepKind, StepState};

    fn steps_of(seed: u64) -> (StepBuilder, i32) {
        let args = DemoAgentArgs {
            feature: 3,
            name: Some("Shopping cart".into()),
            seed,
            pace: 1.0,
            stream_json: true,
        };
        let p = stream_plan(&plan(&args), seed);
        let mut b = StepBuilder::default();
        for (n, s) in p.steps.iter().enumerate() {
            b.line(
                n as u64,
                n as i64 * 1000,
                &s.text,
                s.stream == Stream::Stderr,
            );
        }
        (b, p.exit_code)
    }

    #[test]
    fn every_third_run_asks_before_its_first_edit_and_goes_on_once_answered() {
        for seed in [3, 6, 9] {
            let args = DemoAgentArgs {
                feature: 3,
                name: Some("Shopping cart".into()),
                seed,
                pace: 1.0,
                stream_json: true,
            };
            let p = stream_plan(&plan(&args), seed);
            let asks: Vec<_> = p.steps.iter().filter(|s| s.stream == Stream::Ask).collect();
            let limited = p.steps.iter().any(|s| s.text.contains("429"));
            if limited {
                continue;
            }
            assert_eq!(asks.len(), 1, "seed {seed}");
            assert!(
                asks[0].text.contains("\"can_use_tool\""),
                "{}",
                asks[0].text
            );
            // Until the answer, the steps say it waits for approval.
            let mut b = StepBuilder::default();
            let upto = p
                .steps
                .iter()
                .position(|s| s.stream == Stream::Ask)
                .unwrap();
            for (n, s) in p.steps[..=upto].iter().enumerate() {
                b.line(n as u64, 0, &s.text, false);
            }
            assert!(b.pending_approval().is_some(), "seed {seed}");
        }
        let (b, _) = steps_of(4);
        assert!(
            b.steps()
                .iter()
                .all(|s| !matches!(s.kind, StepKind::Approval { .. }))
        );
    }

    #[test]
    fn the_stream_reads_as_steps_with_the_plain_outcome() {
        let mut outcomes = std::collections::HashSet::new();
        for seed in 0..40 {
            let (b, code) = steps_of(seed);
            assert!(b.structured(), "seed {seed}");
            let kinds = |f: fn(&StepKind) -> bool| b.steps().iter().filter(|s| f(&s.kind)).count();
            // Every call got its result.
            let running = kinds(
                |k| matches!(k, StepKind::Call(c) if c.status == crate::core::steps::CallStatus::Running),
            );
            assert_eq!(running, 0, "seed {seed}");
            let state = b.state();
            let limited = b
                .steps()
                .iter()
                .any(|s| matches!(&s.kind, StepKind::Raw { text, .. } if text.contains("429")));
            if !limited {
                assert!(
                    kinds(|k| matches!(k, StepKind::Call(_))) >= 5,
                    "seed {seed}"
                );
                assert!(
                    kinds(|k| matches!(k, StepKind::Todo { .. })) == 1,
                    "seed {seed}"
                );
                let want = if code == 0 {
                    StepState::Done
                } else {
                    StepState::Failed {
                        reason: "see the result".into(),
                    }
                };
                assert_eq!(
                    std::mem::discriminant(&state),
                    std::mem::discriminant(&want),
                    "seed {seed}: {state:?}"
                );
            }
            outcomes.insert((code, limited));
        }
        assert!(outcomes.contains(&(0, false)) && outcomes.contains(&(1, false)));
    }

    #[test]
    fn the_result_reports_cost_and_usage_as_claude_code_does() {
        let (b, code) = steps_of(5);
        let last = b.steps().back().unwrap();
        match &last.kind {
            StepKind::Result(o) => {
                assert_eq!(o.ok, code == 0);
                assert!(o.cost_usd.is_some_and(|c| c > 0.0));
                assert!(o.turns.is_some());
            }
            other => panic!("{other:?}"),
        }
    }
}
