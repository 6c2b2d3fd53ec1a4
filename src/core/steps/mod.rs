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
mod ctx;
mod fields;
mod gemini;
mod line;
mod signals;
mod state;
mod summary;

pub use line::{Tone, duration, expanded, one_line};
pub use signals::signal_class;
pub use state::{StepState, state_of};
pub use summary::summarize_input;

use ctx::Ctx;
pub(crate) use fields::{content_text, cut, input_text, str_of, u64_of};

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
        /// The tool's input as the agent sent it (compact JSON): an allow answer hands it back.
        input: String,
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

    /// The permission request nothing has followed yet, if any: (request id, tool, summary,
    /// input as compact JSON).
    pub fn pending_approval(&self) -> Option<(&str, &str, &str, &str)> {
        match &self.get(self.open_approval?)?.kind {
            StepKind::Approval {
                request_id: Some(id),
                tool,
                summary,
                input,
                answered: false,
            } => Some((id, tool, summary, input)),
            _ => None,
        }
    }

    /// The agent's session id, from the first steps (Claude's and Gemini's `session_id`,
    /// Codex's `thread_id`).
    pub fn session(&self) -> Option<&str> {
        self.steps.iter().take(64).find_map(|s| match &s.kind {
            StepKind::Session {
                session: Some(id), ..
            } => Some(id.as_str()),
            _ => None,
        })
    }

    /// The input of the permission request `request_id`, if its step is still held.
    pub fn approval_input(&self, request_id: &str) -> Option<&str> {
        self.steps.iter().rev().find_map(|s| match &s.kind {
            StepKind::Approval {
                request_id: Some(id),
                input,
                ..
            } if id == request_id => Some(input.as_str()),
            _ => None,
        })
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

#[cfg(test)]
mod tests;
