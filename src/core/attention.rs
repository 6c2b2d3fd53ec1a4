//! Runs that wait for a person: what each asks, how long it has waited, and what answering
//! does. The runtime reports what each live run's stream shows ([`Input::Attention`]); the
//! model decides whether that starts or ends a wait, answers requests for a tool a person
//! allowed for the whole run, denies requests nobody answered in time, and keeps waiting out
//! of the run's `timeout` and `silence`.
//!
//! [`Input::Attention`]: super::Input::Attention

use super::effect::{Effect, TimerKind};
use super::model::Model;
use crate::api::{Answer, Ask, RunId, Waiting};

/// Answered request ids remembered per run: the stream still shows a request as open until
/// the agent prints its next event, and the answer must not be asked again meanwhile.
const ANSWERED_KEPT: usize = 64;

/// What a run's waits have cost and decided so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunAttention {
    /// What the run is doing now (its running call or its last message).
    pub activity: Option<String>,
    /// What it waits for a person to give.
    pub waiting: Option<Waiting>,
    /// Time spent in waits that have ended.
    pub waited_ms: u64,
    /// The profile's wall-clock `timeout`, counted without the waits.
    pub timeout_ms: Option<u64>,
    /// The timeout came due during a wait: it is looked at again once the wait ends.
    pub timeout_due: bool,
    /// Request ids already answered.
    pub answered: Vec<String>,
    /// Tools a person allowed for the rest of the run.
    pub allowed_tools: Vec<String>,
    /// Waits begun, the epoch of the deadline timer of the newest.
    pub asks: u64,
    /// The agent's session id, once its stream named it.
    pub session: Option<String>,
}

impl RunAttention {
    /// Time the run has spent waiting for a person, the current wait included.
    pub fn waited_until(&self, now_ms: i64) -> u64 {
        let current = self
            .waiting
            .as_ref()
            .map_or(0, |w| now_ms.saturating_sub(w.since_ms).max(0) as u64);
        self.waited_ms + current
    }
}

/// The control answer written to the agent, made by the runtime from what it has kept of the
/// request (its tool input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub request_id: String,
    pub allow: bool,
    /// Told to the agent with a denial.
    pub message: Option<String>,
}

impl Model {
    /// Takes what a live run's stream shows now: its activity and what it asks, if anything.
    pub(crate) fn attention(
        &mut self,
        id: RunId,
        activity: Option<String>,
        ask: Option<Ask>,
        session: Option<String>,
    ) -> Vec<Effect> {
        let now = self.now_ms;
        let deny_after = self
            .runs
            .get(&id)
            .and_then(|r| self.deny_after_ms.get(&r.profile).copied());
        let Some(run) = self.runs.get_mut(&id).filter(|r| r.state.is_live()) else {
            return Vec::new();
        };
        run.attention.activity = activity;
        if session.is_some() {
            run.attention.session = session;
        }
        let att = &mut run.attention;
        // A request answered already is no longer asked, whatever the stream still shows.
        let ask = ask.filter(|a| match a {
            Ask::Approval { request_id, .. } => !att.answered.contains(request_id),
            _ => true,
        });
        if let Some(Ask::Approval {
            request_id, tool, ..
        }) = &ask
            && att.allowed_tools.contains(tool)
        {
            let reply = Reply {
                request_id: request_id.clone(),
                allow: true,
                message: None,
            };
            remember(att, request_id);
            let mut effects = end_wait(run, now);
            effects.push(Effect::Reply { run: id, reply });
            return effects;
        }
        match (ask, run.attention.waiting.as_ref()) {
            (None, None) => Vec::new(),
            (None, Some(_)) => end_wait(run, now),
            (Some(ask), Some(w)) if w.ask == ask => Vec::new(),
            (Some(ask), _) => {
                let mut effects = end_wait(run, now);
                let att = &mut run.attention;
                att.asks += 1;
                att.waiting = Some(Waiting {
                    ask: ask.clone(),
                    since_ms: now,
                });
                if let (Some(after_ms), Ask::Approval { .. }) = (deny_after, &ask) {
                    effects.push(Effect::StartTimer {
                        run: id,
                        epoch: att.asks,
                        kind: TimerKind::AskDeadline,
                        after_ms,
                    });
                }
                // A guess is shown, not announced: a progress line can look like a prompt.
                if !matches!(ask, Ask::Guess { .. }) {
                    let (feature, title) = (run.feature, format!("run {id} needs you"));
                    effects.push(Effect::Notify(super::effect::Notification {
                        event: "needs_input".into(),
                        title,
                        body: ask.describe(),
                        run: Some(id),
                        feature,
                    }));
                }
                effects
            }
        }
    }

    /// A person's answer to the run's permission request.
    pub(crate) fn answer(&mut self, id: RunId, answer: Answer) -> Vec<Effect> {
        let now = self.now_ms;
        let Some(run) = self.runs.get_mut(&id).filter(|r| r.state.is_live()) else {
            return self.notice(format!("run {id} is not live"));
        };
        let Some(Waiting {
            ask: Ask::Approval {
                request_id, tool, ..
            },
            ..
        }) = run.attention.waiting.clone()
        else {
            let text = match &run.attention.waiting {
                Some(w) => format!("run {id} {}: answer it with input (i)", w.ask.describe()),
                None => format!("run {id} asks nothing"),
            };
            return self.notice(text);
        };
        let (allow, message) = match answer {
            Answer::Allow => (true, None),
            Answer::AllowTool => {
                run.attention.allowed_tools.push(tool.clone());
                (true, None)
            }
            Answer::Deny { reason } => (
                false,
                Some(reason.unwrap_or_else(|| "The person running corral denied this.".into())),
            ),
        };
        remember(&mut run.attention, &request_id);
        let mut effects = end_wait(run, now);
        effects.push(Effect::Reply {
            run: id,
            reply: Reply {
                request_id,
                allow,
                message,
            },
        });
        let word = if allow { "allowed" } else { "denied" };
        effects.extend(self.notice(format!("run {id}: {word} {tool}")));
        effects
    }

    /// The deadline of a request nobody answered: it is denied, saying so.
    pub(crate) fn ask_deadline(&mut self, id: RunId, epoch: u64) -> Vec<Effect> {
        let Some(run) = self.runs.get(&id) else {
            return Vec::new();
        };
        if run.attention.asks != epoch
            || !matches!(
                run.attention.waiting,
                Some(Waiting {
                    ask: Ask::Approval { .. },
                    ..
                })
            )
        {
            return Vec::new();
        }
        let waited =
            (self.now_ms - run.attention.waiting.as_ref().map_or(0, |w| w.since_ms)) / 1000;
        self.answer(
            id,
            Answer::Deny {
                reason: Some(format!(
                    "Nobody answered this request within {waited}s, so corral denied it."
                )),
            },
        )
    }

    /// The wall-clock timeout came due: waits do not count toward it.
    pub(crate) fn timeout_due(&mut self, id: RunId) -> Option<Vec<Effect>> {
        let now = self.now_ms;
        let run = self.runs.get_mut(&id)?;
        let limit = run.attention.timeout_ms?;
        if run.attention.waiting.is_some() {
            run.attention.timeout_due = true;
            return Some(Vec::new());
        }
        let waited = run.attention.waited_until(now);
        let elapsed = (now - run.started_at_ms).max(0) as u64;
        let active = elapsed.saturating_sub(waited);
        // A run that never waited stops as it always did: the timer was set for the limit.
        if waited == 0 || active >= limit {
            return None;
        }
        Some(vec![Effect::StartTimer {
            run: id,
            epoch: 0,
            kind: TimerKind::Timeout,
            after_ms: limit - active,
        }])
    }

    /// The silence check of a run that waits for a person: its quiet is no stall; it is
    /// looked at again a whole period later.
    pub(crate) fn quiet_while_waiting(&mut self, id: RunId) -> Option<Vec<Effect>> {
        let run = self.runs.get_mut(&id)?;
        run.attention.waiting.as_ref()?;
        let limit = run.silence_ms?;
        Some(vec![run.silence_timer(limit)])
    }
}

/// The `control_response` line answering a `can_use_tool` request in Claude Code's stdio
/// permission prompt. An allow hands the tool's input back unchanged (`input`: the request's
/// input as JSON text; anything that does not parse is sent as an empty object).
pub fn control_response(reply: &Reply, input: Option<&str>) -> String {
    use serde_json::{Value, json};
    let answer = if reply.allow {
        let input: Value = input
            .and_then(|t| serde_json::from_str(t).ok())
            .filter(Value::is_object)
            .unwrap_or_else(|| json!({}));
        json!({"behavior": "allow", "updatedInput": input})
    } else {
        json!({"behavior": "deny", "message": reply.message.clone().unwrap_or_default()})
    };
    json!({
        "type": "control_response",
        "response": {"subtype": "success", "request_id": reply.request_id, "response": answer},
    })
    .to_string()
}

/// A stream-json user message carrying `text` (the prompt, or a line a person typed).
pub fn user_message(text: &str) -> String {
    serde_json::json!({
        "type": "user",
        "message": {"role": "user", "content": text},
    })
    .to_string()
}

fn remember(att: &mut RunAttention, request_id: &str) {
    att.answered.push(request_id.to_string());
    if att.answered.len() > ANSWERED_KEPT {
        att.answered.remove(0);
    }
}

/// Ends the run's wait, if it waits: the time counts as waited, the silence watch starts a
/// whole period again and a timeout that came due meanwhile is looked at again.
fn end_wait(run: &mut super::Run, now: i64) -> Vec<Effect> {
    let Some(w) = run.attention.waiting.take() else {
        return Vec::new();
    };
    run.attention.waited_ms += now.saturating_sub(w.since_ms).max(0) as u64;
    let mut effects = Vec::new();
    if let Some(limit) = run.silence_ms {
        effects.push(run.silence_timer(limit));
    }
    if std::mem::take(&mut run.attention.timeout_due) {
        let elapsed = (now - run.started_at_ms).max(0) as u64;
        let active = elapsed.saturating_sub(run.attention.waited_ms);
        let limit = run.attention.timeout_ms.unwrap_or(0);
        effects.push(Effect::StartTimer {
            run: run.id,
            epoch: 0,
            kind: TimerKind::Timeout,
            after_ms: limit.saturating_sub(active),
        });
    }
    effects
}

#[cfg(test)]
#[path = "attention_tests.rs"]
mod tests;
