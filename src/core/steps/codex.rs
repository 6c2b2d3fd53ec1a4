//! Codex `codex exec --json`: `thread.started`, `turn.started|completed|failed` and
//! `item.started|updated|completed`, whose item is a message, reasoning, a command, file
//! changes, an MCP tool call, a web search, a to-do list or an error. An item keeps its id
//! from start to completion: it is one step, changed in place.

use super::{
    Call, CallStatus, Ctx, FileChange, Outcome, StepKind, TEXT_KEPT, TodoItem, content_text, cut,
    input_text, str_of, summarize_input, u64_of,
};
use serde_json::Value;

pub(super) fn event(ctx: &mut Ctx<'_>, kind: &str, v: &Value) -> bool {
    match kind {
        "thread.started" => {
            ctx.add(
                None,
                StepKind::Session {
                    session: str_of(v, "thread_id"),
                    model: None,
                    tools: None,
                },
            );
        }
        // Says nothing the next item will not.
        "turn.started" => {}
        "turn.completed" => {
            let usage = v.get("usage");
            ctx.add(
                None,
                StepKind::Result(Outcome {
                    ok: true,
                    subtype: Some("turn.completed".into()),
                    input_tokens: usage.and_then(|u| u64_of(u, "input_tokens")),
                    output_tokens: usage.and_then(|u| u64_of(u, "output_tokens")),
                    turn_only: true,
                    ..Outcome::default()
                }),
            );
        }
        "turn.failed" => {
            let text = v
                .get("error")
                .and_then(|e| str_of(e, "message"))
                .unwrap_or_default();
            ctx.add(
                None,
                StepKind::Result(Outcome {
                    ok: false,
                    subtype: Some("turn.failed".into()),
                    text: Some(text),
                    ..Outcome::default()
                }),
            );
        }
        "item.started" | "item.updated" | "item.completed" => {
            let Some(item) = v.get("item") else {
                return false;
            };
            item_event(ctx, item, kind == "item.completed");
        }
        _ => return false,
    }
    true
}

fn item_event(ctx: &mut Ctx<'_>, item: &Value, completed: bool) {
    let id = str_of(item, "id").unwrap_or_default();
    let status = str_of(item, "status");
    let failed = status.as_deref() == Some("failed");
    match item.get("type").and_then(Value::as_str).unwrap_or("") {
        "agent_message" => {
            if completed {
                let text = str_of(item, "text").unwrap_or_default();
                ctx.add(
                    None,
                    StepKind::Message {
                        text: cut(&text, TEXT_KEPT),
                    },
                );
            }
        }
        "reasoning" => {
            if completed {
                let text = str_of(item, "text").unwrap_or_default();
                ctx.add(
                    None,
                    StepKind::Thinking {
                        text: cut(&text, TEXT_KEPT),
                    },
                );
            }
        }
        "command_execution" => {
            let command = str_of(item, "command").unwrap_or_default();
            let input = Value::String(command.clone());
            let output = str_of(item, "aggregated_output").unwrap_or_default();
            let exit = item.get("exit_code").and_then(Value::as_i64);
            let ok = !failed && exit.is_none_or(|c| c == 0);
            call(ctx, &id, "Shell", &input, completed, ok, &output);
        }
        "mcp_tool_call" => {
            let tool = match (str_of(item, "server"), str_of(item, "tool")) {
                (Some(s), Some(t)) => format!("{s}.{t}"),
                (None, Some(t)) => t,
                _ => "mcp".into(),
            };
            let input = item.get("arguments").cloned().unwrap_or(Value::Null);
            let output = match item.get("error") {
                Some(e) if !e.is_null() => str_of(e, "message").unwrap_or_else(|| e.to_string()),
                _ => item
                    .get("result")
                    .map(|r| content_text(r.get("content").unwrap_or(r)))
                    .unwrap_or_default(),
            };
            call(ctx, &id, &tool, &input, completed, !failed, &output);
        }
        "web_search" => {
            let input = serde_json::json!({ "query": str_of(item, "query") });
            call(ctx, &id, "WebSearch", &input, completed, !failed, "");
        }
        "file_change" => {
            if completed {
                let changes = item
                    .get("changes")
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .map(|c| FileChange {
                        change: str_of(c, "kind").unwrap_or_else(|| "change".into()),
                        path: str_of(c, "path").unwrap_or_default(),
                    })
                    .collect();
                ctx.add(
                    None,
                    StepKind::FileChange {
                        changes,
                        ok: !failed,
                    },
                );
            }
        }
        "todo_list" => {
            let items = item
                .get("items")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|t| TodoItem {
                    text: str_of(t, "text").unwrap_or_default(),
                    status: if t.get("completed").and_then(Value::as_bool) == Some(true) {
                        "completed".into()
                    } else {
                        "pending".into()
                    },
                })
                .collect();
            ctx.add(None, StepKind::Todo { items });
        }
        "error" => {
            if completed {
                let text = str_of(item, "message").unwrap_or_default();
                ctx.add(None, StepKind::Error { text, code: None });
            }
        }
        _ => {
            if completed {
                ctx.add(
                    None,
                    StepKind::Raw {
                        text: item.to_string(),
                        stderr: false,
                    },
                );
            }
        }
    }
}

/// A command or tool call: started once, completed in place.
fn call(
    ctx: &mut Ctx<'_>,
    id: &str,
    tool: &str,
    input: &Value,
    completed: bool,
    ok: bool,
    output: &str,
) {
    if ctx.open_call(id).is_none() {
        ctx.add(
            None,
            StepKind::Call(Call {
                call_id: id.to_string(),
                tool: tool.to_string(),
                summary: summarize_input(tool, input),
                input: input_text(input),
                status: CallStatus::Running,
                ended_ms: None,
                output: String::new(),
            }),
        );
    }
    if completed {
        ctx.finish_call(id, ok, output);
    }
}
