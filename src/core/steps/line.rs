//! How a step reads: one line of tinted pieces (`Bash  cargo test -q  ok 14s`), and the rows
//! it opens to (its full input and output).

use super::{CallStatus, Outcome, Step, StepKind};

/// How a piece of a step's line is meant to look; the screen picks the colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// What the step is: a tool's name, `says`, `done`.
    Label,
    Plain,
    Dim,
    Good,
    Bad,
    Warn,
}

/// Rows an expanded step opens to, at most.
pub const EXPANDED_ROWS: usize = 400;

/// The step on one line, as pieces; joined they read like `Bash  cargo test -q  ok 14s`.
pub fn one_line(step: &Step) -> Vec<(Tone, String)> {
    use Tone::*;
    let mut out: Vec<(Tone, String)> = Vec::new();
    let mut put = |tone: Tone, text: String| {
        if !text.is_empty() {
            if !out.is_empty() {
                out.push((Plain, "  ".into()));
            }
            out.push((tone, text));
        }
    };
    match &step.kind {
        StepKind::Session {
            session,
            model,
            tools,
        } => {
            put(Label, "session".into());
            let mut parts: Vec<String> = Vec::new();
            parts.extend(model.clone());
            parts.extend(tools.map(|n| format!("{n} tools")));
            parts.extend(session.clone());
            put(Dim, parts.join(" · "));
        }
        StepKind::Prompt { text } => {
            put(Label, "prompt".into());
            put(Plain, first_line(text));
        }
        StepKind::Message { text } => {
            put(Label, "says".into());
            put(Plain, first_line(text));
        }
        StepKind::Thinking { text } => {
            put(Dim, "thinks".into());
            put(Dim, first_line(text));
        }
        StepKind::Call(call) => {
            put(Label, call.tool.clone());
            put(Plain, call.summary.clone());
            let took = call
                .ended_ms
                .filter(|_| step.at_ms > 0)
                .map(|end| duration((end - step.at_ms).max(0) as u64));
            let (tone, word) = match call.status {
                CallStatus::Running => (Warn, "running"),
                CallStatus::Ok => (Good, "ok"),
                CallStatus::Error => (Bad, "error"),
            };
            put(tone, word.into());
            if let Some(took) = took {
                out.push((Plain, " ".into()));
                out.push((Dim, took));
            }
            if call.status == CallStatus::Error {
                let mut put = |tone, text: String| {
                    if !text.is_empty() {
                        out.push((Plain, "  ".into()));
                        out.push((tone, text));
                    }
                };
                put(Dim, first_line(&call.output));
            }
        }
        StepKind::FileChange { changes, ok } => {
            let label = match changes.as_slice() {
                [one] => match one.change.as_str() {
                    "add" => "Add",
                    "delete" => "Delete",
                    "update" => "Edit",
                    _ => "Change",
                },
                _ => "Files",
            };
            put(Label, label.into());
            let mut paths: Vec<&str> = changes.iter().take(3).map(|c| c.path.as_str()).collect();
            let more = changes.len().saturating_sub(paths.len());
            let more = if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            };
            paths.dedup();
            put(Plain, format!("{}{more}", paths.join(", ")));
            if !ok {
                put(Bad, "failed".into());
            }
        }
        StepKind::Todo { items } => {
            put(Label, "todo".into());
            let done = items.iter().filter(|i| i.status == "completed").count();
            let mut text = format!("{done}/{} done", items.len());
            if let Some(now) = items.iter().find(|i| i.status == "in_progress") {
                text.push_str(&format!(" · now: {}", first_line(&now.text)));
            }
            put(Plain, text);
        }
        StepKind::Approval {
            tool,
            summary,
            answered,
            ..
        } => {
            if *answered {
                put(Dim, "asked to run".into());
            } else {
                put(Warn, "waiting for approval:".into());
            }
            put(Label, tool.clone());
            put(Plain, summary.clone());
        }
        StepKind::RateLimit {
            status,
            resets_at,
            limit,
        } => {
            let tone = if status == "rejected" { Warn } else { Dim };
            put(tone, "rate limit".into());
            let mut parts = vec![status.replace('_', " ")];
            parts.extend(limit.clone());
            parts.extend(resets_at.map(|t| format!("resets {}", clock_utc(t))));
            put(Plain, parts.join(" · "));
        }
        StepKind::Error { text, code } => {
            put(Bad, "error".into());
            put(Dim, code.clone().unwrap_or_default());
            put(Plain, first_line(text));
        }
        StepKind::Result(outcome) => result_line(outcome, &mut put),
        StepKind::Raw { text, .. } => put(Plain, text.clone()),
    }
    out
}

fn result_line(o: &Outcome, put: &mut impl FnMut(Tone, String)) {
    let word = match (o.ok, o.turn_only) {
        (true, true) => "turn done",
        (true, false) => "done",
        (false, true) => "turn failed",
        (false, false) => "failed",
    };
    put(if o.ok { Tone::Good } else { Tone::Bad }, word.into());
    let mut parts: Vec<String> = Vec::new();
    if !o.ok {
        parts.extend(o.subtype.clone().filter(|s| !s.starts_with("turn.")));
        parts.extend(o.api_error_status.map(|s| format!("API {s}")));
    }
    parts.extend(
        o.turns
            .map(|n| format!("{n} turn{}", if n == 1 { "" } else { "s" })),
    );
    parts.extend(o.duration_ms.map(duration));
    parts.extend(o.cost_usd.map(|c| format!("${c:.4}")));
    if o.input_tokens.is_some() || o.output_tokens.is_some() {
        parts.push(format!(
            "{} in / {} out tokens",
            o.input_tokens.unwrap_or(0),
            o.output_tokens.unwrap_or(0)
        ));
    }
    put(Tone::Plain, parts.join(" · "));
    if !o.ok {
        put(
            Tone::Dim,
            o.text.as_deref().map(first_line).unwrap_or_default(),
        );
    }
}

/// The rows a step opens to: everything its line leaves out. Empty when the line says it all.
pub fn expanded(step: &Step) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut block = |title: &str, text: &str| {
        if text.is_empty() {
            return;
        }
        if !title.is_empty() {
            rows.push(format!("{title}:"));
        }
        rows.extend(text.lines().map(|l| format!("  {l}")));
    };
    match &step.kind {
        StepKind::Session { session, .. } => block("session", session.as_deref().unwrap_or("")),
        StepKind::Prompt { text } | StepKind::Message { text } | StepKind::Thinking { text } => {
            block("", text)
        }
        StepKind::Call(call) => {
            block("input", &call.input);
            block("output", &call.output);
        }
        StepKind::FileChange { changes, .. } => {
            for c in changes {
                block("", &format!("{} {}", c.change, c.path));
            }
        }
        StepKind::Todo { items } => {
            for item in items {
                let mark = match item.status.as_str() {
                    "completed" => "[x]",
                    "in_progress" => "[>]",
                    _ => "[ ]",
                };
                block("", &format!("{mark} {}", item.text));
            }
        }
        StepKind::Error { text, .. } => block("", text),
        StepKind::Result(o) => block("", o.text.as_deref().unwrap_or("")),
        StepKind::Approval { request_id, .. } => {
            block("request", request_id.as_deref().unwrap_or(""))
        }
        StepKind::RateLimit { .. } | StepKind::Raw { .. } => {}
    }
    rows.truncate(EXPANDED_ROWS);
    rows
}

/// The first non-empty line of `text`, marked when more follows.
fn first_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}

/// `850ms`, `14s`, `2m05s`, `1h02m`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms}ms"),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// `14:05 UTC` for a time in seconds since the epoch (no clock or time zone read).
fn clock_utc(secs: i64) -> String {
    let day = secs.rem_euclid(86_400);
    format!("{:02}:{:02} UTC", day / 3600, day % 3600 / 60)
}
