//! Recognising the tokens and dollars coding agents print about themselves, one output line at
//! a time, so a run can record what it spent.
//!
//! What is recognised, and how several reports in one run combine (in the order printed):
//! - Claude Code `--output-format json` / `stream-json`: the final `"type":"result"` object with
//!   `total_cost_usd` and `usage`. It is the run's total and *replaces* whatever came before.
//!   The per-message `"type":"assistant"` usage of stream-json is ignored, never summed.
//! - Codex `exec --json`: every `"type":"turn.completed"` carries one turn's `usage`; turns
//!   *add up*. Older Codex JSON `token_count` events (top level or under `msg`) carry running
//!   totals in `total_token_usage` (directly or under `info`); each *replaces*. Codex counts
//!   cached prompt tokens inside `input_tokens`: corral records `input_tokens - cached` as input
//!   and the cached part as cache reads, so the sum of the fields is not double counted.
//!   `reasoning_output_tokens` are already part of `output_tokens` and are not added. Codex
//!   reports no price: the cost stays `None`.
//! - Codex plain text, `tokens used: 12,345` (optionally after a `[timestamp]`), or a bare
//!   `tokens used` line followed by a line holding only the number. It is a total without a
//!   split, so it is recorded as `input_tokens` alone; the last one counts, and only when no
//!   structured report was seen at all.
//! - [`USAGE_PREFIX`] at the start of a line (after whitespace and colour codes, so prose that
//!   mentions it is left alone): what any agent or wrapper script can print, e.g.
//!   `corral-usage: {"input_tokens":1200,"output_tokens":3400,"cost_usd":0.12}`, with optional
//!   `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_write_tokens` and `cost_usd`
//!   (unknown fields are ignored). It *replaces* like a total.
//!
//! Lines may start with whitespace and carry SGR colour codes. A line with a negative, fractional
//! or absurd count, or a cost that is negative or absurd, is ignored as a whole. Costs are
//! rounded to micro-dollars.
//!
//! Almost no line is a report, and the scanner sees every line an agent prints, so a line is
//! judged by its first character (after whitespace and colour codes) before anything else:
//! a report must *start* the line, as every format above does. Only a line starting with `{`
//! costs a SIMD search for `tokens` (every JSON report names a token count), and only a line
//! that passes is parsed.

use super::lines::strip_sgr;
use crate::api::Usage;
use memchr::memmem;
use serde::{Deserialize, Deserializer};
use std::sync::LazyLock;

/// Start of the line (after optional whitespace and colour codes) through which any agent can
/// report its usage; a JSON object follows. See the module docs for its fields.
pub const USAGE_PREFIX: &str = "corral-usage:";

/// More tokens than this in one count is garbage, not usage.
const MAX_TOKENS: u64 = 1_000_000_000_000;
/// More dollars than this for one report is garbage, not usage.
const MAX_COST_USD: f64 = 1_000_000.0;

/// Every JSON report names a token count.
static TOKENS: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new("tokens"));

/// Gathers the usage reported in the output of one run. Feed it every line, in order, with
/// [`UsageScanner::line`]; ask [`UsageScanner::usage`] whenever the total so far is wanted.
#[derive(Debug, Clone, Default)]
pub struct UsageScanner {
    /// Structured reports (JSON, [`USAGE_PREFIX`]) folded in order: totals replace, turns add.
    reported: Option<Usage>,
    /// The latest plain-text `tokens used` total, used only if `reported` stays `None`.
    plain_total: Option<u64>,
    /// The previous line was a bare `tokens used` heading, so this one may hold the number.
    after_heading: bool,
}

impl UsageScanner {
    /// Looks at one output line (without its newline). Lines that report nothing are ignored;
    /// nothing here fails.
    pub fn line(&mut self, text: &str) {
        let after_heading = std::mem::take(&mut self.after_heading);
        let start = skip_leading(text);
        if after_heading && let Some(n) = parse_count_text(&strip_sgr(start)) {
            self.plain_total = Some(n);
            return;
        }
        // Every report starts with one of four characters; most lines end here.
        match start.as_bytes().first() {
            Some(b'{') if TOKENS.find(start.as_bytes()).is_some() => self.json(&strip_sgr(start)),
            Some(b'[') if after_timestamp(start).starts_with("tokens used") => {
                self.plain(&strip_sgr(start))
            }
            Some(b't') if start.starts_with("tokens used") => self.plain(&strip_sgr(start)),
            Some(b'c') => {
                if let Some(rest) = start.strip_prefix(USAGE_PREFIX)
                    && let Some(usage) = parse_reported(&strip_sgr(rest))
                {
                    self.reported = Some(usage);
                }
            }
            _ => {}
        }
    }

    /// What the run reported so far; `None` when nothing was recognised.
    pub fn usage(&self) -> Option<Usage> {
        self.reported.or_else(|| {
            self.plain_total.map(|n| Usage {
                input_tokens: n,
                ..Usage::default()
            })
        })
    }

    fn json(&mut self, line: &str) {
        // A second cheap gate before parsing: stream-json prints many lines with token counts
        // (every assistant message), and none of them is wanted. Inside a JSON string a quote
        // is escaped, so `"result"` appears bare only as a key or a value of the object itself.
        let wanted = ["\"result\"", "turn.completed", "token_count"];
        if !wanted.iter().any(|w| line.contains(w)) {
            return;
        }
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            return;
        };
        // Older Codex wraps its events: `{"id":"0","msg":{"type":"token_count",...}}`.
        let event = match event {
            Event {
                kind: None,
                msg: Some(inner),
                ..
            } => *inner,
            event => event,
        };
        match event.kind.as_deref() {
            Some("result") => {
                if event.usage.is_none() && event.total_cost_usd.is_none() {
                    return;
                }
                let Some(cost) = cost_micros(event.total_cost_usd) else {
                    return;
                };
                let u = event.usage.unwrap_or_default();
                self.reported = Some(Usage {
                    input_tokens: n(u.input_tokens),
                    output_tokens: n(u.output_tokens),
                    cache_read_tokens: n(u.cache_read_input_tokens),
                    cache_write_tokens: n(u.cache_creation_input_tokens),
                    cost_micros: cost,
                });
            }
            Some("turn.completed") => {
                if let Some(u) = event.usage {
                    let turn = u.codex();
                    self.reported = Some(match self.reported {
                        Some(sum) => saturating_sum(sum, turn),
                        None => turn,
                    });
                }
            }
            Some("token_count") => {
                let totals = event
                    .info
                    .and_then(|info| info.total_token_usage)
                    .or(event.total_token_usage);
                if let Some(t) = totals {
                    self.reported = Some(t.codex());
                }
            }
            _ => {}
        }
    }

    fn plain(&mut self, line: &str) {
        // An optional `[timestamp] ` first, as older Codex prints.
        let line = match line.strip_prefix('[').and_then(|l| l.split_once(']')) {
            Some((_, rest)) => rest.trim_start(),
            None => line,
        };
        let Some(rest) = line.strip_prefix("tokens used") else {
            return;
        };
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim();
        if rest.is_empty() {
            self.after_heading = true;
        } else if let Some(n) = parse_count_text(rest) {
            self.plain_total = Some(n);
        }
    }
}

/// `text` without leading whitespace and SGR colour codes; looks only at the start.
fn skip_leading(mut text: &str) -> &str {
    // Most lines start with a visible ASCII character: nothing to skip.
    if text.as_bytes().first().is_some_and(u8::is_ascii_graphic) {
        return text;
    }
    loop {
        let trimmed = text.trim_start();
        match trimmed.strip_prefix("\x1b[") {
            Some(rest) => {
                let params = rest
                    .bytes()
                    .take_while(|b| b.is_ascii_digit() || *b == b';')
                    .count();
                match rest[params..].strip_prefix('m') {
                    Some(after) => text = after,
                    None => return trimmed,
                }
            }
            None => return trimmed,
        }
    }
}

/// What follows a leading `[2025-...]` (a timestamp: a digit after the bracket, so `[INFO]`
/// costs nothing more), without whitespace and colour codes; empty when there is none.
fn after_timestamp(text: &str) -> &str {
    if !text.as_bytes().get(1).is_some_and(u8::is_ascii_digit) {
        return "";
    }
    match memchr::memchr(b']', text.as_bytes()) {
        Some(end) => skip_leading(&text[end + 1..]),
        None => "",
    }
}

/// A whole count as Codex prints it (`12,345` or `1234`); `None` for anything else.
fn parse_count_text(text: &str) -> Option<u64> {
    let text = text.trim();
    if !text.starts_with(|c: char| c.is_ascii_digit())
        || !text.bytes().all(|b| b.is_ascii_digit() || b == b',')
    {
        return None;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n <= MAX_TOKENS)
}

/// `None` when the cost is unusable (the report is then ignored); `Some(None)` when absent.
fn cost_micros(usd: Option<f64>) -> Option<Option<u64>> {
    match usd {
        None => Some(None),
        Some(usd) if usd.is_finite() && (0.0..=MAX_COST_USD).contains(&usd) => {
            Some(Some((usd * 1e6).round() as u64))
        }
        Some(_) => None,
    }
}

fn saturating_sum(a: Usage, b: Usage) -> Usage {
    Usage {
        input_tokens: a.input_tokens.saturating_add(b.input_tokens),
        output_tokens: a.output_tokens.saturating_add(b.output_tokens),
        cache_read_tokens: a.cache_read_tokens.saturating_add(b.cache_read_tokens),
        cache_write_tokens: a.cache_write_tokens.saturating_add(b.cache_write_tokens),
        cost_micros: match (a.cost_micros, b.cost_micros) {
            (None, None) => None,
            (x, y) => Some(x.unwrap_or(0).saturating_add(y.unwrap_or(0))),
        },
    }
}

fn parse_reported(json: &str) -> Option<Usage> {
    let r: Reported = serde_json::from_str(json).ok()?;
    let cost_micros = cost_micros(r.cost_usd)?;
    let counts = [
        r.input_tokens,
        r.output_tokens,
        r.cache_read_tokens,
        r.cache_write_tokens,
    ];
    if counts.iter().all(Option::is_none) && cost_micros.is_none() {
        return None;
    }
    Some(Usage {
        input_tokens: n(r.input_tokens),
        output_tokens: n(r.output_tokens),
        cache_read_tokens: n(r.cache_read_tokens),
        cache_write_tokens: n(r.cache_write_tokens),
        cost_micros,
    })
}

/// An absent (or `null`) count is 0.
fn n(count: Option<Count>) -> u64 {
    count.map_or(0, |c| c.0)
}

/// A token count: a whole number from 0 to [`MAX_TOKENS`]; anything else fails the parse.
#[derive(Debug, Clone, Copy)]
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Count, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        match n.as_u64() {
            Some(n) if n <= MAX_TOKENS => Ok(Count(n)),
            _ => Err(serde::de::Error::custom(format!("not a token count: {n}"))),
        }
    }
}

/// The fields of Claude Code and Codex JSON events that matter here; the rest is skipped.
#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    total_cost_usd: Option<f64>,
    #[serde(default)]
    usage: Option<Counts>,
    #[serde(default)]
    info: Option<Info>,
    #[serde(default)]
    total_token_usage: Option<Counts>,
    #[serde(default)]
    msg: Option<Box<Event>>,
}

#[derive(Deserialize)]
struct Info {
    #[serde(default)]
    total_token_usage: Option<Counts>,
}

/// Token counts under the names Claude Code and Codex use.
#[derive(Deserialize, Default)]
struct Counts {
    #[serde(default)]
    input_tokens: Option<Count>,
    #[serde(default)]
    output_tokens: Option<Count>,
    #[serde(default)]
    cache_creation_input_tokens: Option<Count>,
    #[serde(default)]
    cache_read_input_tokens: Option<Count>,
    #[serde(default)]
    cached_input_tokens: Option<Count>,
}

impl Counts {
    /// Codex counts: cached tokens are part of `input_tokens` (see the module docs).
    fn codex(&self) -> Usage {
        let cached = n(self.cached_input_tokens);
        Usage {
            input_tokens: n(self.input_tokens).saturating_sub(cached),
            output_tokens: n(self.output_tokens),
            cache_read_tokens: cached,
            cache_write_tokens: 0,
            cost_micros: None,
        }
    }
}

/// The JSON after [`USAGE_PREFIX`].
#[derive(Deserialize)]
struct Reported {
    #[serde(default)]
    input_tokens: Option<Count>,
    #[serde(default)]
    output_tokens: Option<Count>,
    #[serde(default)]
    cache_read_tokens: Option<Count>,
    #[serde(default)]
    cache_write_tokens: Option<Count>,
    #[serde(default)]
    cost_usd: Option<f64>,
}

#[cfg(test)]
#[path = "usage_tests.rs"]
mod tests;
