//! The runtime's side of runs that need a person: once a second (with the stats sample) it
//! reads what each live run's stream shows (its activity, a permission request, a question,
//! or a plain-text prompt left unfinished on a quiet run) and tells the core what changed;
//! it writes answers and stream-json messages to agents' stdin, and closes a stream-json
//! run's stdin once its `result` arrives.

use super::supervisor::Supervisor;
use crate::api::{Ask, RunId};
use crate::core::Input;
use crate::core::steps::{StepBuilder, StepState};
use std::sync::Arc;

/// How long a plain-text agent must stay quiet on an unfinished line, stdin open, before it
/// is guessed to wait for an answer.
pub const GUESS_AFTER_MS: u64 = 3_000;

/// What a run's stream showed when last looked at, to tell the core only of changes.
pub(super) type Seen = (Option<String>, Option<Ask>, Option<String>);

/// What a structured stream shows: (activity, ask, session, ended with a result).
fn read_steps(b: &StepBuilder) -> (Option<String>, Option<Ask>, Option<String>, bool) {
    let state = b.state();
    let session = b.session().map(str::to_string);
    let ask = if let Some((request_id, tool, summary, _)) = b.pending_approval() {
        Some(Ask::Approval {
            request_id: request_id.to_string(),
            tool: tool.to_string(),
            summary: summary.to_string(),
        })
    } else if let StepState::NeedsInput { question } = &state {
        Some(Ask::Question {
            question: question.clone(),
        })
    } else {
        None
    };
    let activity = match &state {
        StepState::Working { activity } if !activity.is_empty() => Some(activity.clone()),
        StepState::NeedsApproval { tool, summary } => Some(format!("{tool} {summary}")),
        StepState::RateLimited { .. } => Some("rate limited".into()),
        _ => None,
    };
    let ended = matches!(state, StepState::Done | StepState::Failed { .. });
    (activity, ask, session, ended)
}

impl Supervisor {
    /// Looks at every live run's stream; returns the inputs telling the core what changed.
    pub(super) fn look_at_runs(&mut self) -> Vec<Input> {
        let now = super::now_ms();
        let live: Vec<RunId> = self
            .model
            .runs
            .values()
            .filter(|r| r.state == crate::api::RunState::Running)
            .map(|r| r.id)
            .collect();
        self.seen.retain(|run, _| live.contains(run));
        let mut inputs = Vec::new();
        for run in live {
            let read = self
                .logs
                .with_steps(run, |b| b.structured().then(|| read_steps(b)))
                .flatten();
            let structured = read.is_some();
            let (activity, mut ask, session, ended) = read.unwrap_or_default();
            if ended && self.stream_json.remove(&run) {
                // The answer is in: the agent may end (it reads no more turns).
                self.stdins.remove(&run);
            }
            // A structured stream says when it asks; only plain text needs the guess.
            if !structured
                && self.stdins.contains_key(&run)
                && self.logs.quiet_for(run, now) >= GUESS_AFTER_MS
                && let Some(line) = self.logs.partial_text(run).filter(|l| !l.trim().is_empty())
            {
                ask = Some(Ask::Guess {
                    line: crate::core::steps::cut(&line, 200),
                });
            }
            let known = self.seen.get(&run).and_then(|s| s.2.clone());
            if let Some(s) = session.as_ref().filter(|s| known.as_ref() != Some(*s)) {
                inputs.extend(self.record_session(run, s));
            }
            let now_seen = (activity, ask, session);
            if self.seen.get(&run) != Some(&now_seen) {
                self.seen.insert(run, now_seen.clone());
                let (activity, ask, session) = now_seen;
                inputs.push(Input::Attention {
                    run,
                    activity,
                    ask,
                    session,
                });
            }
        }
        inputs
    }

    /// Stores the agent's session id of `run` (for `{session_id}`).
    pub(super) fn record_session(&mut self, run: RunId, session: &str) -> Option<Input> {
        let session = session.to_string();
        self.write(Box::new(move |s| s.set_run_session(run, &session)))
    }

    /// Writes the answer to a permission request to the run's stdin, noting it in its log.
    pub(super) fn write_reply(
        &mut self,
        run: RunId,
        reply: crate::core::attention::Reply,
    ) -> Result<(), String> {
        let input = self
            .logs
            .with_steps(run, |b| {
                b.approval_input(&reply.request_id).map(str::to_string)
            })
            .flatten();
        let line = crate::core::attention::control_response(&reply, input.as_deref());
        let word = if reply.allow { "allowed" } else { "denied" };
        let why = reply
            .message
            .as_deref()
            .map_or(String::new(), |m| format!(": {m}"));
        self.logs.note(
            run,
            &format!("corral: {word} request {}{why}", reply.request_id),
        );
        self.write_line(run, line)
    }

    /// Writes one line to the run's stdin, off the loop (an agent that never reads must not
    /// block it).
    pub(super) fn write_line(&self, run: RunId, line: String) -> Result<(), String> {
        let Some(stdin) = self.stdins.get(&run) else {
            return Err(format!("run {run}: its stdin is closed"));
        };
        let stdin = Arc::clone(stdin);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let mut pipe = stdin.lock().await;
            let line = format!("{line}\n");
            if let Err(e) = pipe.write_all(line.as_bytes()).await {
                log::warn!("run {run}: writing to stdin failed: {e}");
            }
            let _ = pipe.flush().await;
        });
        Ok(())
    }
}
