//! Gemini CLI `--output-format stream-json`: `init`, `message` (the prompt, and the answer in
//! pieces with `delta`), `tool_use` and `tool_result` paired by `tool_id`, `error` and
//! `result` with `stats`.

use super::{Call, CallStatus, Ctx, Outcome, StepKind, TEXT_KEPT, cut, input_text, str_of};
use super::{summarize_input, u64_of};
use serde_json::Value;

pub(super) fn event(ctx: &mut Ctx<'_>, kind: &str, v: &Value) -> bool {
    match kind {
        "init" => {
            ctx.add(
                None,
                StepKind::Session {
                    session: str_of(v, "session_id"),
                    model: str_of(v, "model"),
                    tools: None,
                },
            );
        }
        "message" => {
            let text = str_of(v, "content").unwrap_or_default();
            if str_of(v, "role").as_deref() == Some("user") {
                ctx.add(
                    None,
                    StepKind::Prompt {
                        text: cut(&text, TEXT_KEPT),
                    },
                );
            } else {
                ctx.message_piece(&text);
            }
        }
        "tool_use" => {
            let tool = str_of(v, "tool_name").unwrap_or_else(|| "tool".into());
            let input = v.get("parameters").cloned().unwrap_or(Value::Null);
            ctx.add(
                None,
                StepKind::Call(Call {
                    call_id: str_of(v, "tool_id").unwrap_or_default(),
                    summary: summarize_input(&tool, &input),
                    input: input_text(&input),
                    tool,
                    status: CallStatus::Running,
                    ended_ms: None,
                    output: String::new(),
                }),
            );
        }
        "tool_result" => {
            let ok = str_of(v, "status").as_deref() != Some("error");
            let output = match v.get("error") {
                Some(e) if !ok => str_of(e, "message").unwrap_or_else(|| e.to_string()),
                _ => str_of(v, "output").unwrap_or_default(),
            };
            let id = str_of(v, "tool_id").unwrap_or_default();
            ctx.finish_call(&id, ok, &output);
        }
        "result" => {
            let stats = v.get("stats");
            let ok = str_of(v, "status").as_deref() != Some("error");
            let text = v
                .get("error")
                .and_then(|e| str_of(e, "message"))
                .or_else(|| str_of(v, "response"));
            ctx.add(
                None,
                StepKind::Result(Outcome {
                    ok,
                    subtype: str_of(v, "status"),
                    duration_ms: stats.and_then(|s| u64_of(s, "duration_ms")),
                    input_tokens: stats.and_then(|s| u64_of(s, "input_tokens")),
                    output_tokens: stats.and_then(|s| u64_of(s, "output_tokens")),
                    turns: None,
                    cost_usd: None,
                    api_error_status: None,
                    text,
                    turn_only: false,
                }),
            );
        }
        _ => return false,
    }
    true
}
