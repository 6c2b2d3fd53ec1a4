//! `corral agent log RUN --steps [--json]`, and the needs-input marks of `agent list --json`.

use super::agent::{Result, ask, say};
use crate::api::{Request, RunId, RunView, View};
use crate::core::steps::{StepBuilder, one_line};
use crate::runtime::daemon::Client;

/// Lines of output asked for to build the steps from (the daemon keeps at most its ring).
const LINES_FOR_STEPS: usize = 1_000_000;

/// Builds the run's steps from its output the daemon holds, as the Log pane does, and prints
/// one line per step (indented under the call a subagent's step belongs to), or JSON.
pub fn print_steps(client: &mut Client, run: RunId, json: bool) -> Result<()> {
    let lines = match ask(
        client,
        Request::Log {
            run,
            lines: LINES_FOR_STEPS,
        },
    )? {
        Some(View::Lines { lines }) => lines,
        _ => Vec::new(),
    };
    let mut b = StepBuilder::default();
    for l in &lines {
        b.line(
            l.seq,
            l.at_ms,
            &l.text,
            l.stream == crate::api::Stream::Stderr,
        );
    }
    if json {
        let steps: Vec<_> = b.steps().iter().collect();
        return Ok(super::output::print_json(&steps)?);
    }
    if !b.structured() {
        return say(&format!(
            "run {run} prints no event stream: `corral agent log {run}` shows its lines"
        ));
    }
    let text: Vec<String> = b
        .steps()
        .iter()
        .map(|s| {
            let line: Vec<String> = one_line(s).into_iter().map(|(_, t)| t).collect();
            let line = format!("{}{}", "  ".repeat(s.depth as usize), line.join(""));
            crate::core::printable::printable(&line, false).into_owned()
        })
        .collect();
    say(&text.join("\n"))
}

/// The runs as JSON, each live one waiting for a person marked `"needs_input": true` next
/// to what it asks (`waiting.ask`: the tool and a summary of its input, a question, or a
/// guessed prompt line).
pub fn with_needs(runs: &[RunView]) -> Vec<serde_json::Value> {
    runs.iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(map) = v.as_object_mut() {
                let needs = r.state.is_live() && r.waiting.is_some();
                map.insert("needs_input".into(), needs.into());
            }
            v
        })
        .collect()
}
