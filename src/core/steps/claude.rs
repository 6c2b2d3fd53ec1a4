//! Claude Code `--output-format stream-json --verbose`: `system` (`init`), `assistant` and
//! `user` messages made of content blocks, `rate_limit_event`, `result`, and the stdio
//! permission prompt's `control_request`. A message with a `parent_tool_use_id` is a
//! subagent's, hung under the call that started it.

use super::{
    Call, CallStatus, Ctx, Outcome, StepKind, TEXT_KEPT, TodoItem, content_text, cut, input_text,
    str_of, summarize_input, u64_of,
};
use serde_json::Value;

/// Reads one event if it is Claude Code's; false otherwise.
pub(super) fn event(ctx: &mut Ctx<'_>, kind: &str, v: &Value) -> bool {
    match kind {
        "system" => system(ctx, v),
        "assistant" => assistant(ctx, v),
        "user" => user(ctx, v),
        "rate_limit_event" => rate_limit(ctx, v),
        // Gemini's result has `stats` and `status`; Claude's a `subtype`.
        "result" if v.get("stats").is_none() && v.get("status").is_none() => result(ctx, v),
        "control_request" => control_request(ctx, v),
        _ => return false,
    }
    true
}

fn system(ctx: &mut Ctx<'_>, v: &Value) {
    if str_of(v, "subtype").as_deref() != Some("init") {
        // Hooks, compaction and status notes: kept as printed.
        ctx.add(
            None,
            StepKind::Raw {
                text: v.to_string(),
                stderr: false,
            },
        );
        return;
    }
    ctx.add(
        None,
        StepKind::Session {
            session: str_of(v, "session_id"),
            model: str_of(v, "model"),
            tools: v.get("tools").and_then(Value::as_array).map(Vec::len),
        },
    );
}

fn parent(v: &Value) -> Option<&str> {
    v.get("parent_tool_use_id").and_then(Value::as_str)
}

fn blocks(v: &Value) -> &[Value] {
    v.get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn assistant(ctx: &mut Ctx<'_>, v: &Value) {
    let parent = parent(v);
    for block in blocks(v) {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                let text = str_of(block, "text").unwrap_or_default();
                ctx.add(
                    parent,
                    StepKind::Message {
                        text: cut(&text, TEXT_KEPT),
                    },
                );
            }
            Some("thinking") => {
                let text = str_of(block, "thinking").unwrap_or_default();
                ctx.add(
                    parent,
                    StepKind::Thinking {
                        text: cut(&text, TEXT_KEPT),
                    },
                );
            }
            Some("tool_use") => tool_use(ctx, parent, block),
            _ => {
                ctx.add(
                    parent,
                    StepKind::Raw {
                        text: block.to_string(),
                        stderr: false,
                    },
                );
            }
        }
    }
    // The API refused the request (`authentication_failed`, `rate_limit`, ...): Claude
    // Code says so in a message of its own carrying the code.
    if let Some(code) = str_of(v, "error") {
        let text = blocks(v)
            .iter()
            .filter_map(|b| str_of(b, "text"))
            .collect::<Vec<_>>()
            .join(" ");
        ctx.add(
            parent,
            StepKind::Error {
                text,
                code: Some(code),
            },
        );
    }
}

fn tool_use(ctx: &mut Ctx<'_>, parent: Option<&str>, block: &Value) {
    let call_id = str_of(block, "id").unwrap_or_default();
    let tool = str_of(block, "name").unwrap_or_else(|| "tool".into());
    let input = block.get("input").cloned().unwrap_or(Value::Null);
    if tool == "TodoWrite"
        && let Some(todos) = input.get("todos").and_then(Value::as_array)
    {
        let items = todos
            .iter()
            .map(|t| TodoItem {
                text: str_of(t, "content").unwrap_or_default(),
                status: str_of(t, "status").unwrap_or_default(),
            })
            .collect();
        ctx.add(parent, StepKind::Todo { items });
        return;
    }
    ctx.add(
        parent,
        StepKind::Call(Call {
            call_id,
            summary: summarize_input(&tool, &input),
            input: input_text(&input),
            tool,
            status: CallStatus::Running,
            ended_ms: None,
            output: String::new(),
        }),
    );
}

fn user(ctx: &mut Ctx<'_>, v: &Value) {
    let parent = parent(v);
    for block in blocks(v) {
        if block.get("type").and_then(Value::as_str) != Some("tool_result") {
            // The prompt itself, or a subagent's instructions: said by the person or the
            // parent agent, shown as a prompt.
            let text = content_text(block.get("text").unwrap_or(block));
            ctx.add(
                parent,
                StepKind::Prompt {
                    text: cut(&text, TEXT_KEPT),
                },
            );
            continue;
        }
        let id = str_of(block, "tool_use_id").unwrap_or_default();
        let is_error = block.get("is_error").and_then(Value::as_bool) == Some(true);
        let output = content_text(block.get("content").unwrap_or(&Value::Null));
        // A result for a to-do list or a call never seen changes nothing shown.
        ctx.finish_call(&id, !is_error, &output);
    }
    if let Some(text) = v
        .get("message")
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
    {
        ctx.add(
            parent,
            StepKind::Prompt {
                text: cut(text, TEXT_KEPT),
            },
        );
    }
}

fn rate_limit(ctx: &mut Ctx<'_>, v: &Value) {
    let info = v.get("rate_limit_info").unwrap_or(v);
    ctx.add(
        None,
        StepKind::RateLimit {
            status: str_of(info, "status").unwrap_or_else(|| "unknown".into()),
            resets_at: info
                .get("resetsAt")
                .or_else(|| info.get("resets_at"))
                .and_then(Value::as_i64),
            limit: str_of(info, "rateLimitType").or_else(|| str_of(info, "rate_limit_type")),
        },
    );
}

fn result(ctx: &mut Ctx<'_>, v: &Value) {
    let is_error = v.get("is_error").and_then(Value::as_bool) == Some(true);
    let subtype = str_of(v, "subtype");
    let usage = v.get("usage");
    ctx.add(
        None,
        StepKind::Result(Outcome {
            ok: !is_error && subtype.as_deref().is_none_or(|s| s == "success"),
            subtype,
            turns: u64_of(v, "num_turns"),
            duration_ms: u64_of(v, "duration_ms"),
            cost_usd: v.get("total_cost_usd").and_then(Value::as_f64),
            input_tokens: usage.and_then(|u| u64_of(u, "input_tokens")),
            output_tokens: usage.and_then(|u| u64_of(u, "output_tokens")),
            api_error_status: u64_of(v, "api_error_status"),
            text: str_of(v, "result"),
            turn_only: false,
        }),
    );
}

fn control_request(ctx: &mut Ctx<'_>, v: &Value) {
    let request = v.get("request").unwrap_or(&Value::Null);
    if str_of(request, "subtype").as_deref() != Some("can_use_tool") {
        ctx.add(
            None,
            StepKind::Raw {
                text: v.to_string(),
                stderr: false,
            },
        );
        return;
    }
    let tool = str_of(request, "tool_name").unwrap_or_else(|| "tool".into());
    let input = request.get("input").unwrap_or(&Value::Null);
    ctx.add(
        None,
        StepKind::Approval {
            request_id: str_of(v, "request_id"),
            summary: summarize_input(&tool, input),
            input: input.to_string(),
            tool,
            answered: false,
        },
    );
}
