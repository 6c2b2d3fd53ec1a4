//! Steps: what an agent did, read from the structured event stream its CLI prints, one
//! builder per run fed one output line at a time.
//!
//! Formats recognised, line by line (a stream may even mix them; each line is judged alone):
//! - Claude Code `--output-format stream-json --verbose` ([`claude`]);
//! - Codex `codex exec --json` ([`codex`]);
//! - Gemini CLI `--output-format stream-json` ([`gemini`]).
//!
//! Anything else is plain text: a run whose output never holds a recognised event has no
//! steps at all (the Log pane shows its lines as they are). Once a run has printed a
//! recognised event, every line that is not one (a banner, a stderr warning, an event type
//! this version does not know, a line that does not parse) becomes a [`StepKind::Raw`] step
//! holding the line as printed, so nothing is lost; nothing here fails.
//!
//! Feeding a line costs one JSON parse of that line (only of lines starting with `{`) and
//! touches at most a few steps: a tool call is found by its id in a map, never by a scan.

mod claude;
mod codex;
mod gemini;
mod line;
mod state;
mod summary;

pub use line::{Tone, duration, expanded, one_line};
pub use state::{StepState, state_of};
pub use summary::summarize_input;

use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

/// Steps kept per run; older ones are dropped first (the log file keeps every line).
pub const MAX_STEPS: usize = 10_000;
/// Lines held before the first recognised event, to show them as raw steps once one comes.
const EARLY_LINES: usize = 200;
/// Characters of a tool's output kept in its step (the raw lines and the log file keep all of
/// it): steps of every run stay in memory, and a file read can be large.
pub const OUTPUT_KEPT: usize = 2_000;
/// Characters of a tool's input kept (a `Write` carries the whole file).
pub const INPUT_KEPT: usize = 4_000;
/// Characters of a message or thinking kept in its step.
pub const TEXT_KEPT: usize = 4_000;

/// A step's number in its run: the first step is 0, then one more per step (a raw step
/// taken back by [`Change::removed`] gives its number to what replaces it).
pub type StepId = u64;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub id: StepId,
    /// The seq of the output line that started it.
    pub seq: u64,
    /// When that line was read (ms since the epoch; 0 when unknown).
    pub at_ms: i64,
    /// The tool call (a subagent's task) this step belongs to.
    pub parent: Option<StepId>,
    /// How many calls deep it hangs (0 for the main agent's own steps).
    pub depth: u8,
    pub kind: StepKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    /// The agent's session began.
    Session {
        session: Option<String>,
        model: Option<String>,
        tools: Option<usize>,
    },
    /// What the person asked (echoed by Gemini).
    Prompt {
        text: String,
    },
    Message {
        text: String,
    },
    /// Reasoning, shown collapsed.
    Thinking {
        text: String,
    },
    Call(Call),
    /// Files changed (Codex reports these apart from commands).
    FileChange {
        changes: Vec<FileChange>,
        ok: bool,
    },
    Todo {
        items: Vec<TodoItem>,
    },
    /// The agent asked whether it may use a tool (Claude Code's stdio permission prompt).
    Approval {
        request_id: Option<String>,
        tool: String,
        summary: String,
        /// The agent went on after asking: someone answered.
        answered: bool,
    },
    RateLimit {
        /// As reported: `allowed`, `allowed_warning`, `rejected`, ...
        status: String,
        /// When the limit resets, seconds since the epoch.
        resets_at: Option<i64>,
        limit: Option<String>,
    },
    Error {
        text: String,
        /// The tool's own name for it (`rate_limit`, `authentication_failed`, ...).
        code: Option<String>,
    },
    /// The end of a turn or of the whole run.
    Result(Outcome),
    /// A line that is no recognised event, kept as printed.
    Raw {
        text: String,
        stderr: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    /// The id the tool gives the call, pairing it with its result.
    pub call_id: String,
    pub tool: String,
    /// One line saying what it is called on (`cargo test -q`, `src/cart.rs`).
    pub summary: String,
    /// The full input, pretty JSON or text.
    pub input: String,
    pub status: CallStatus,
    /// When its result came (ms since the epoch, as `at_ms`).
    pub ended_ms: Option<i64>,
    /// The start of its output (at most [`OUTPUT_KEPT`] characters).
    pub output: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Running,
    Ok,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// `add`, `update`, `delete`, ... as reported.
    pub change: String,
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodoItem {
    pub text: String,
    /// `pending`, `in_progress` or `completed`.
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Outcome {
    pub ok: bool,
    /// The tool's word for how it ended (`success`, `error_max_turns`, ...).
    pub subtype: Option<String>,
    pub turns: Option<u64>,
    pub duration_ms: Option<u64>,
    pub cost_usd: Option<f64>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    /// The HTTP status of the API error that ended it (429, 529, ...).
    pub api_error_status: Option<u64>,
    pub text: Option<String>,
    /// Only a turn ended (Codex); the run may go on.
    pub turn_only: bool,
}

/// What one line changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Change {
    /// Steps added: the last `added` steps are new.
    pub added: usize,
    /// An older step changed in place (a call got its result, a message grew).
    pub updated: Option<StepId>,
    /// The run just turned out to have a structured stream (all its steps are new).
    pub became_structured: bool,
    /// The newest step was taken back: the line it kept raw came again, finished.
    pub removed: bool,
}

/// The steps of one run, built line by line.
#[derive(Debug, Clone, Default)]
pub struct StepBuilder {
    steps: VecDeque<Step>,
    next_id: StepId,
    structured: bool,
    /// Lines seen before any recognised event: (seq, at_ms, text, stderr).
    early: Vec<(u64, i64, String, bool)>,
    /// Calls waiting for their result, by the tool's id for them.
    open_calls: HashMap<String, StepId>,
    /// Every call id's step, for subagents naming their parent call (bounded with the steps).
    call_steps: HashMap<String, (StepId, u8)>,
    /// A message being streamed in pieces (Gemini's deltas): appended to while unbroken.
    open_message: Option<StepId>,
    /// An approval not yet followed by anything else.
    open_approval: Option<StepId>,
}

/// What a parser hands the builder while reading one event.
pub(crate) struct Ctx<'a> {
    b: &'a mut StepBuilder,
    seq: u64,
    at_ms: i64,
    change: Change,
}

impl Ctx<'_> {
    /// Adds a step under `parent_call` (the tool's id of the call that started a subagent).
    pub(crate) fn add(&mut self, parent_call: Option<&str>, kind: StepKind) -> StepId {
        let (parent, depth) = match parent_call.and_then(|c| self.b.call_steps.get(c)) {
            Some(&(id, depth)) => (Some(id), depth.saturating_add(1)),
            None => (None, 0),
        };
        let id = self.b.next_id;
        self.b.next_id += 1;
        if let StepKind::Call(call) = &kind {
            self.b.open_calls.insert(call.call_id.clone(), id);
            self.b.call_steps.insert(call.call_id.clone(), (id, depth));
        }
        self.b.steps.push_back(Step {
            id,
            seq: self.seq,
            at_ms: self.at_ms,
            parent,
            depth,
            kind,
        });
        self.change.added += 1;
        if self.b.steps.len() > MAX_STEPS
            && let Some(old) = self.b.steps.pop_front()
        {
            self.change.added = self.change.added.min(self.b.steps.len());
            if let StepKind::Call(call) = &old.kind {
                self.b.open_calls.remove(&call.call_id);
                self.b.call_steps.remove(&call.call_id);
            }
        }
        id
    }

    /// The step `id` to change in place, if still held.
    pub(crate) fn step_mut(&mut self, id: StepId) -> Option<&mut Step> {
        let first = self.b.steps.front()?.id;
        let is_new = id + self.change.added as u64 >= self.b.next_id;
        if !is_new {
            self.change.updated = Some(self.change.updated.map_or(id, |u| u.min(id)));
        }
        self.b.steps.get_mut(id.checked_sub(first)? as usize)
    }

    /// The open call `call_id`: its result has come (`ok`), with `output`. Returns false when
    /// no such call waits (a result for a call never seen).
    pub(crate) fn finish_call(&mut self, call_id: &str, ok: bool, output: &str) -> bool {
        let Some(id) = self.b.open_calls.remove(call_id) else {
            return false;
        };
        let at_ms = self.at_ms;
        if let Some(Step {
            kind: StepKind::Call(call),
            ..
        }) = self.step_mut(id)
        {
            call.status = if ok {
                CallStatus::Ok
            } else {
                CallStatus::Error
            };
            call.ended_ms = Some(at_ms);
            call.output = marked_cut(output.to_string(), OUTPUT_KEPT);
        }
        true
    }

    /// The open call `call_id`, if any waits.
    pub(crate) fn open_call(&self, call_id: &str) -> Option<StepId> {
        self.b.open_calls.get(call_id).copied()
    }

    /// Appends to the message being streamed, or starts one.
    pub(crate) fn message_piece(&mut self, text: &str) {
        if let Some(id) = self.b.open_message
            && let Some(Step {
                kind: StepKind::Message { text: held },
                ..
            }) = self.step_mut(id)
        {
            if held.len() < TEXT_KEPT {
                held.push_str(text);
            }
            return;
        }
        let id = self.add(
            None,
            StepKind::Message {
                text: cut(text, TEXT_KEPT),
            },
        );
        self.b.open_message = Some(id);
    }
}

impl StepBuilder {
    /// True once the run printed a recognised event.
    pub fn structured(&self) -> bool {
        self.structured
    }

    /// The steps held, oldest first.
    pub fn steps(&self) -> &VecDeque<Step> {
        &self.steps
    }

    /// The step `id`, if still held.
    pub fn get(&self, id: StepId) -> Option<&Step> {
        let first = self.steps.front()?.id;
        self.steps.get(id.checked_sub(first)? as usize)
    }

    /// The run's state as its steps tell it (see [`state_of`]).
    pub fn state(&self) -> StepState {
        state_of(self.steps.iter())
    }

    /// Reads one output line (without its newline, after redaction): `seq` is its number in
    /// the run's output, `at_ms` when it was read.
    pub fn line(&mut self, seq: u64, at_ms: i64, text: &str, stderr: bool) -> Change {
        // The same line again: a screen showed it unfinished while the agent paused, and now
        // it is whole. Kept raw, it is read again; read as an event, it already counted.
        let mut removed = false;
        if self.early.last().is_some_and(|e| e.0 == seq) {
            self.early.pop();
        } else if let Some(last) = self.steps.back().filter(|s| s.seq == seq) {
            if !matches!(last.kind, StepKind::Raw { .. }) {
                return Change::default();
            }
            self.steps.pop_back();
            self.next_id -= 1;
            removed = true;
        }
        let mut change = self.read(seq, at_ms, text, stderr);
        change.removed = removed;
        change
    }

    fn read(&mut self, seq: u64, at_ms: i64, text: &str, stderr: bool) -> Change {
        let event = if stderr { None } else { parse(text) };
        let mut ctx = Ctx {
            b: self,
            seq,
            at_ms,
            change: Change::default(),
        };
        let known = match &event {
            Some((kind, v)) => dispatch(&mut ctx, kind, v),
            None => false,
        };
        if !known {
            ctx.b.open_message = None;
        }
        if known && !ctx.b.structured {
            ctx.b.structured = true;
            ctx.change.became_structured = true;
            let early = std::mem::take(&mut ctx.b.early);
            // The early lines come first, as printed, then what this line made.
            let made: Vec<Step> = ctx.b.steps.drain(..).collect();
            let mut next = 0;
            for (seq, at_ms, text, stderr) in early {
                ctx.b
                    .steps
                    .push_back(raw_step(next, seq, at_ms, text, stderr));
                next += 1;
            }
            let shift = next;
            ctx.b.open_calls.values_mut().for_each(|id| *id += shift);
            ctx.b
                .call_steps
                .values_mut()
                .for_each(|(id, _)| *id += shift);
            ctx.b.open_message = ctx.b.open_message.map(|id| id + shift);
            ctx.b.open_approval = ctx.b.open_approval.map(|id| id + shift);
            for mut step in made {
                step.id += shift;
                step.parent = step.parent.map(|p| p + shift);
                ctx.b.steps.push_back(step);
            }
            ctx.b.next_id = ctx.b.steps.len() as StepId;
            ctx.change.added = ctx.b.steps.len();
            return ctx.change;
        }
        if !ctx.b.structured {
            if ctx.b.early.len() < EARLY_LINES {
                ctx.b.early.push((seq, at_ms, text.to_string(), stderr));
            }
            return ctx.change;
        }
        if !known {
            ctx.add(
                None,
                StepKind::Raw {
                    text: text.to_string(),
                    stderr,
                },
            );
        }
        ctx.change
    }
}

fn raw_step(id: StepId, seq: u64, at_ms: i64, text: String, stderr: bool) -> Step {
    Step {
        id,
        seq,
        at_ms,
        parent: None,
        depth: 0,
        kind: StepKind::Raw { text, stderr },
    }
}

/// The event's type and body, for a line holding a JSON object with a string `type`.
fn parse(text: &str) -> Option<(String, Value)> {
    let start = text.trim_start();
    if !start.starts_with('{') {
        return None;
    }
    let v: Value = serde_json::from_str(start).ok()?;
    let kind = v.get("type")?.as_str()?.to_string();
    Some((kind, v))
}

/// Hands the event to its format's parser; false when no format knows it.
fn dispatch(ctx: &mut Ctx<'_>, kind: &str, v: &Value) -> bool {
    // Whatever the agent prints after asking for permission means it was answered.
    if let Some(id) = ctx.b.open_approval.take()
        && let Some(Step {
            kind: StepKind::Approval { answered, .. },
            ..
        }) = ctx.step_mut(id)
    {
        *answered = true;
    }
    let message_goes_on = kind == "message";
    if !message_goes_on {
        ctx.b.open_message = None;
    }
    let known = claude::event(ctx, kind, v)
        || codex::event(ctx, kind, v)
        || gemini::event(ctx, kind, v)
        || common_event(ctx, kind, v);
    if let Some(Step {
        id,
        kind: StepKind::Approval {
            answered: false, ..
        },
        ..
    }) = ctx.b.steps.back()
    {
        ctx.b.open_approval = Some(*id);
    }
    known
}

/// Events two formats share the shape of.
fn common_event(ctx: &mut Ctx<'_>, kind: &str, v: &Value) -> bool {
    if kind != "error" {
        return false;
    }
    // Codex: `{"type":"error","message":...}`; Gemini: with `severity` too.
    let text = str_of(v, "message").unwrap_or_default();
    let code = str_of(v, "severity");
    ctx.add(None, StepKind::Error { text, code });
    true
}

/// A string field, if it is one.
pub(crate) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_string)
}

/// A count field, if it is a whole non-negative number.
pub(crate) fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key)?.as_u64()
}

/// At most `max` characters of `text` (on a character boundary).
pub(crate) fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_string(),
        None => text.to_string(),
    }
}

/// The text of a tool result or message content: a string, or the `text` of each block.
pub(crate) fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| match b {
                Value::String(s) => Some(s.clone()),
                _ => b.get("text").and_then(Value::as_str).map(str::to_string),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A tool input as shown expanded: pretty JSON, or the text itself; at most [`INPUT_KEPT`]
/// characters.
pub(crate) fn input_text(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    };
    marked_cut(text, INPUT_KEPT)
}

/// `text` cut to `max` characters, saying so at its end when cut.
pub(crate) fn marked_cut(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => {
            let rest = text[at..].chars().count();
            format!(
                "{}\n… [{rest} more characters in the raw lines]",
                &text[..at]
            )
        }
        None => text,
    }
}

#[cfg(test)]
mod tests;
