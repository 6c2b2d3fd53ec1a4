//! What a format's parser uses to add and change steps while it reads one event.

use super::fields::{cut, marked_cut};
use super::{
    CallStatus, Change, MAX_STEPS, OUTPUT_KEPT, Step, StepBuilder, StepId, StepKind, TEXT_KEPT,
};

/// What a parser hands the builder while reading one event.
pub(crate) struct Ctx<'a> {
    pub(super) b: &'a mut StepBuilder,
    pub(super) seq: u64,
    pub(super) at_ms: i64,
    pub(super) change: Change,
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
