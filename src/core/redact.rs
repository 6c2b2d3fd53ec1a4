//! Hiding secrets in agent output before a line reaches memory, a log file or the screen.
//!
//! Almost no line holds a secret, so matching is two-staged: one ASCII case-insensitive
//! Aho-Corasick pass over trigger words says which built-in rules could fire at all, and a line
//! without any trigger comes back borrowed without a single regex run. Rules hide only the value
//! and keep its label (`token=`, `Authorization: Bearer `, the user of a URL) so the line stays
//! readable.
//!
//! What counts as a secret value (choices made here; the tests pin each one):
//! - An assignment (`=`, `:`, `:=`, `=>`, JSON and YAML forms) fires when its label *ends* in a
//!   sensitive word at a word, `_`/`-`/`.` or camelCase boundary: `GITHUB_TOKEN=`, `apiKey:`,
//!   `"client_secret":`, but not `monkey=`, `tokenizer=` or `secret_santa` as plain text.
//! - An unquoted value runs to whitespace, a quote, a backtick, a comma, a backslash (escaped
//!   JSON) or a control character (so the ANSI code after it survives); it may not start with
//!   `:` or `=`, so Rust paths (`secret::Vault`) and comparisons (`token == x`) are left alone.
//!   A quoted value runs to its closing quote, spaces included.
//! - A label ending in `tokens` with a purely numeric value is a usage count, not a secret:
//!   `input_tokens=1234` and `max_tokens=4096` stay; a singular `token=1234` is hidden.
//! - Placeholders stay: `$VAR`, `${VAR}`, `<your-token>`, masks such as `****`, and `null`,
//!   `none`, `nil`, `true`, `false`, `undefined`.
//! - Bare `sk-` keys and a `Bearer` token outside an `Authorization` header need a digit, so
//!   kebab-case names and prose ("bearer authentication") survive.
//! - Text that already is [`REDACTED`] is never redacted again, which makes redaction
//!   idempotent; empty matches of extra patterns are ignored for the same reason.
//!
//! Known limits: secrets split across lines (PEM blocks) and `--password value` flags with a
//! space instead of `=` are not recognised; code such as `fn f(key: &str)` loses its type.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{CaptureLocations, Regex, RegexSet};

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Any number of SGR colour codes: allowed around the operator so a label coloured differently
/// from its value is still seen as an assignment.
const ANSI: &str = r"(?:\x1b\[[0-9;]*m)*";

/// Where a whole-token rule may start: at a word boundary, or right after a colour code.
const START: &str = r"(?:(?-u:\b)|\x1b\[[0-9;]*m)";

/// An unquoted value. The first character may not be `:` or `=` (see the module docs); control
/// characters end it so colour codes stay intact.
const VALUE: &str = r#"[^\s"'`,\\:=\x00-\x1f\x7f][^\s"'`,\\\x00-\x1f\x7f]*"#;

/// How a rule's candidate value is vetted before it is hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The pattern alone is specific enough.
    Always,
    /// Must contain an ASCII digit: real keys do, prose and kebab-case names rarely do.
    HasDigit,
    /// Placeholders are kept, and so are numbers after a `*tokens` label (usage counts).
    Value,
}

/// One built-in rule as written in the source.
struct Spec {
    /// Literals (matched ASCII case-insensitively) without which the rule cannot match.
    triggers: &'static [&'static str],
    pattern: String,
    check: Check,
}

/// A compiled rule.
#[derive(Debug, Clone)]
struct Rule {
    re: Regex,
    check: Check,
    /// Capture groups that may hold the secret, first participating one wins; when none
    /// participates the whole match is the secret.
    value_groups: Vec<usize>,
    /// The group holding the label's sensitive word, for the usage-count exception.
    term_group: Option<usize>,
}

/// Finds and hides secrets in lines of agent output.
///
/// Immutable after construction, so it is `Send + Sync` and cheap to share behind an `Arc`.
#[derive(Debug, Clone)]
pub struct Redactor {
    /// Trigger literals of all built-in rules.
    triggers: AhoCorasick,
    /// The same triggers in lower case, matched case-sensitively against a lowercased copy:
    /// that automaton can use the SIMD search, so most lines are cleared several times faster
    /// than by the case-insensitive one, which only runs on lines that hit.
    gate: AhoCorasick,
    /// For each trigger pattern id, the index of the rule it enables.
    trigger_rule: Vec<usize>,
    rules: Vec<Rule>,
    /// Config patterns as one set, so a line none of them matches costs one scan.
    extra_set: RegexSet,
    extra: Vec<Regex>,
}

/// The built-in rules. Kept in one place so the trigger list and the pattern of a rule
/// cannot drift apart.
fn specs() -> Vec<Spec> {
    let term = "passphrase|password|passwd|pass|pwd|apikey|key|secret|tokens|token";
    let camel = "Passphrase|Password|Passwd|Pass|Pwd|Key|Secret|Tokens|Token";
    let op = format!(r#"\\?["']?{ANSI}[\t ]*(?::=|=>|=|:)[\t ]*{ANSI}"#);
    vec![
        // OpenAI and Anthropic keys: sk-..., sk-proj-..., sk-ant-api03-...
        Spec {
            triggers: &["sk-"],
            pattern: format!(r"{START}(?P<v>sk-[A-Za-z0-9_\-]{{20,}})"),
            check: Check::HasDigit,
        },
        // GitHub classic tokens and fine-grained personal access tokens.
        Spec {
            triggers: &["ghp_", "gho_", "ghs_", "ghr_", "ghu_", "github_pat_"],
            pattern: format!(
                r"{START}(?P<v>gh[pousr]_[A-Za-z0-9]{{30,}}|github_pat_[A-Za-z0-9_]{{20,}})"
            ),
            check: Check::Always,
        },
        // AWS access key ids (long-term AKIA, temporary ASIA).
        Spec {
            triggers: &["akia", "asia"],
            pattern: format!(r"{START}(?P<v>(?:AKIA|ASIA)[A-Z0-9]{{16}})(?-u:\b)"),
            check: Check::Always,
        },
        // Other well-known token shapes: Stripe, Slack, GitLab, npm, Google API keys, JWTs.
        Spec {
            triggers: &[
                "sk_live_", "sk_test_", "rk_live_", "rk_test_", "xox", "glpat-",
            ],
            pattern: format!(
                concat!(
                    r"{START}(?P<v>[sr]k_(?:live|test)_[A-Za-z0-9]{{16,}}",
                    r"|xox[abposr]-[A-Za-z0-9\-]{{10,}}|glpat-[A-Za-z0-9_\-]{{20,}})"
                ),
                START = START
            ),
            check: Check::Always,
        },
        Spec {
            triggers: &["npm_", "aiza", "eyj"],
            pattern: format!(
                concat!(
                    r"{START}(?P<v>npm_[A-Za-z0-9]{{36}}|AIza[A-Za-z0-9_\-]{{35}}",
                    r"|eyJ[A-Za-z0-9_\-]{{8,}}\.eyJ[A-Za-z0-9_\-]{{8,}}\.[A-Za-z0-9_\-]{{8,}})"
                ),
                START = START
            ),
            check: Check::Always,
        },
        // HTTP auth headers: keep the header and the scheme, hide the credential.
        Spec {
            triggers: &["authorization"],
            pattern: format!(
                concat!(
                    r"(?i)authorization{op}[\t ]*['\x22]?",
                    r"(?:(?:bearer|basic|token|bot)[\t ]+)?(?P<v>{value})"
                ),
                op = op,
                value = VALUE
            ),
            check: Check::Value,
        },
        // A bearer token quoted outside a header (`-H "...: Bearer x"` is caught above too).
        Spec {
            triggers: &["bearer"],
            pattern: format!(r"(?i){START}bearer[\t ]+(?P<v>[A-Za-z0-9\-._~+/]{{16,}}=*)"),
            check: Check::HasDigit,
        },
        // Passwords in URLs: keep the scheme and user, hide what is between `:` and `@`.
        Spec {
            triggers: &["://"],
            pattern:
                r#"(?i)[a-z][a-z0-9+.\-]*://[^\s/@:"'`\x00-\x1f]*:(?P<v>[^\s/@"'`\x00-\x1f]+)@"#
                    .into(),
            check: Check::Value,
        },
        // Assignments whose label ends in a sensitive word.
        Spec {
            triggers: &["pass", "pwd", "key", "secret", "token"],
            pattern: format!(
                concat!(
                    r"(?P<term>(?:(?-u:\b)|[_.\-]|\x1b\[[0-9;]*m)(?i:{term})|[a-z0-9](?:{camel}))",
                    r#"{op}(?:"(?P<dq>(?:[^"\\\x00-\x1f]|\\[^\x00-\x1f])+)""#,
                    r#"|'(?P<sq>[^'\x00-\x1f]+)'|\\?["']?(?P<v>{value}))"#
                ),
                term = term,
                camel = camel,
                op = op,
                value = VALUE
            ),
            check: Check::Value,
        },
    ]
}

impl Redactor {
    /// Built-in rules plus `extra` regular expressions from config (each whole match is replaced).
    pub fn new(extra: &[String]) -> Result<Redactor, regex::Error> {
        let mut literals = Vec::new();
        let mut trigger_rule = Vec::new();
        let mut rules = Vec::new();
        for (index, spec) in specs().into_iter().enumerate() {
            for &literal in spec.triggers {
                literals.push(literal);
                trigger_rule.push(index);
            }
            // The built-in patterns are constants; the tests compile every one of them.
            let re = Regex::new(&spec.pattern).expect("built-in redaction pattern compiles");
            let group = |name: &str| re.capture_names().position(|n| n == Some(name));
            let value_groups = ["dq", "sq", "v"].iter().filter_map(|n| group(n)).collect();
            let term_group = group("term");
            rules.push(Rule {
                check: spec.check,
                value_groups,
                term_group,
                re,
            });
        }
        let triggers = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            // Standard semantics allow overlapping search, so no trigger hides another.
            .match_kind(MatchKind::Standard)
            .build(&literals)
            // A handful of short constant literals always fits the automaton.
            .expect("built-in trigger automaton builds");
        let lower: Vec<String> = literals.iter().map(|l| l.to_ascii_lowercase()).collect();
        // Leftmost matching lets the gate use the packed (SIMD) searcher; it only answers yes/no.
        let gate = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .build(&lower)
            .expect("built-in trigger automaton builds");
        Ok(Redactor {
            gate,
            triggers,
            trigger_rule,
            rules,
            extra_set: RegexSet::new(extra)?,
            extra: extra
                .iter()
                .map(|p| Regex::new(p))
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether any trigger word occurs, ignoring ASCII case.
    fn any_trigger(&self, line: &str) -> bool {
        thread_local! {
            static LOWER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        LOWER.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            buf.push_str(line);
            buf.make_ascii_lowercase();
            self.gate.is_match(buf.as_str())
        })
    }

    /// Where in `chunk` (many lines at once) a secret may be: pushes onto `hits`, in order,
    /// the offset of every trigger word and colour code found (a colour code may split a
    /// trigger word), and returns true. A line of the chunk holding none of them comes back
    /// from [`Redactor::redact`] unchanged, so it need not be passed through it. Returns false
    /// when it cannot tell (config patterns are in use): then every line must be.
    pub fn candidates(&self, chunk: &[u8], hits: &mut Vec<usize>) -> bool {
        if !self.extra.is_empty() {
            return false;
        }
        thread_local! {
            static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let from = hits.len();
        LOWER.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            buf.extend_from_slice(chunk);
            buf.make_ascii_lowercase();
            // No trigger word holds a line end, so every match lies inside one line, and a
            // line with a trigger has at least one leftmost match of its own.
            hits.extend(self.gate.find_iter(buf.as_slice()).map(|m| m.start()));
        });
        let words = hits.len();
        hits.extend(memchr::memchr_iter(0x1b, chunk));
        if hits.len() > words && words > from {
            hits[from..].sort_unstable();
        }
        true
    }

    /// The line with every secret replaced by REDACTED; borrowed (no allocation) when nothing
    /// matched.
    ///
    /// Escape sequences are invisible on a screen, so a key with a colour code inside it
    /// (`sk-ant-ap\x1b[1mi03-…`) still shows whole: secrets are looked for in the text without
    /// its escape sequences, and a hidden span keeps the colour codes that were inside it (so
    /// the colours after it stay as the agent set them).
    pub fn redact<'a>(&self, line: &'a str) -> Cow<'a, str> {
        if memchr::memchr(0x1b, line.as_bytes()).is_none() {
            let spans = self.spans(line);
            return replace(line, &spans, |_, _, _| {});
        }
        let (visible, _) = without_escapes(line, false);
        let found = self.spans(&visible);
        if found.is_empty() {
            // The common coloured line: no secret, and no offsets computed for it.
            return Cow::Borrowed(line);
        }
        let (_, at) = without_escapes(line, true);
        let spans: Vec<(usize, usize)> = found
            .into_iter()
            // `at` has an entry per visible byte (and one for the end): a span's last byte is
            // copied from the original one byte before the span's original end.
            .map(|(start, end)| (at[start], at[end - 1] + 1))
            .collect();
        replace(line, &spans, |line, span, out| {
            let mut rest = &line[span.0..span.1];
            while let Some(i) = rest.find('\x1b') {
                let len = crate::core::lines::escape_len(&rest.as_bytes()[i..]);
                let seq = &rest[i..i + len];
                if crate::core::lines::strip_sgr(seq).is_empty() {
                    out.push_str(seq);
                }
                rest = &rest[i + len..];
            }
        })
    }

    /// The sorted, merged spans of every secret in `line`.
    fn spans(&self, line: &str) -> Vec<(usize, usize)> {
        let mut spans: Vec<(usize, usize)> = Vec::new();
        if self.any_trigger(line) {
            // Which rules a trigger enabled; there are fewer rules than bits.
            let mut enabled = 0u32;
            for m in self.triggers.find_overlapping_iter(line) {
                enabled |= 1 << self.trigger_rule[m.pattern().as_usize()];
            }
            for (index, rule) in self.rules.iter().enumerate() {
                if enabled & (1 << index) != 0 {
                    rule.collect(line, &mut spans);
                }
            }
        }
        if !self.extra.is_empty() {
            for index in self.extra_set.matches(line).iter() {
                let found = self.extra[index].find_iter(line);
                spans.extend(
                    found
                        .filter(|m| !m.is_empty())
                        .map(|m| (m.start(), m.end())),
                );
            }
        }
        settle(line, &mut spans);
        spans
    }
}

/// `line` with each span replaced by REDACTED followed by whatever `keep` adds for it.
fn replace<'a>(
    line: &'a str,
    spans: &[(usize, usize)],
    keep: impl Fn(&str, (usize, usize), &mut String),
) -> Cow<'a, str> {
    if spans.is_empty() {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len() + spans.len() * REDACTED.len());
    let mut done = 0;
    for &(start, end) in spans {
        out.push_str(&line[done..start]);
        out.push_str(REDACTED);
        keep(line, (start, end), &mut out);
        done = end;
    }
    out.push_str(&line[done..]);
    Cow::Owned(out)
}

/// `line` without its escape sequences, and when `offsets` for each byte of that text (and
/// its end) the offset it came from in `line`.
fn without_escapes(line: &str, offsets: bool) -> (String, Vec<usize>) {
    let bytes = line.as_bytes();
    let mut visible = Vec::with_capacity(bytes.len());
    let mut at = Vec::with_capacity(if offsets { bytes.len() + 1 } else { 0 });
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x1b {
            i += crate::core::lines::escape_len(&bytes[i..]);
            continue;
        }
        // Runs of text between escapes are copied whole.
        let run = memchr::memchr(0x1b, &bytes[i..]).map_or(bytes.len(), |n| i + n);
        visible.extend_from_slice(&bytes[i..run]);
        if offsets {
            at.extend(i..run);
        }
        i = run;
    }
    at.push(bytes.len());
    // Sequences start at an ESC and end after an ASCII byte (or at the end): never inside a
    // character, so what is left is still UTF-8.
    let visible = String::from_utf8(visible)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (visible, at)
}

impl Rule {
    /// Adds the span of every secret this rule finds in `line`.
    fn collect(&self, line: &str, spans: &mut Vec<(usize, usize)>) {
        let mut locs: CaptureLocations = self.re.capture_locations();
        let mut at = 0;
        while let Some(m) = self.re.captures_read_at(&mut locs, line, at) {
            let span = self.value_groups.iter().find_map(|&g| locs.get(g));
            let (start, end) = span.unwrap_or((m.start(), m.end()));
            let term = self.term_group.and_then(|g| locs.get(g));
            // In `https://x-access-token:ghs_…@host` the label is a URL's user: the URL rule
            // hides just the password (a value it is sure to match), so the host stays readable.
            let by_url_rule = line[start..end]
                .split_once('@')
                .is_some_and(|(pw, _)| !pw.contains('/'));
            let url_user = by_url_rule && term.is_some_and(|(s, _)| in_url_userinfo(&line[..s]));
            let term = term.map(|(s, e)| &line[s..e]);
            if start < end && !url_user && self.accepts(&line[start..end], term) {
                spans.push((start, end));
            }
            // Built-in patterns never match empty, but a stalled search must not loop.
            if m.end() <= at {
                break;
            }
            at = m.end();
        }
    }

    fn accepts(&self, value: &str, term: Option<&str>) -> bool {
        match self.check {
            Check::Always => true,
            Check::HasDigit => value.bytes().any(|b| b.is_ascii_digit()),
            Check::Value => {
                // A bare value ends at whitespace, so closers of the code around it
                // (`"n": null}}`) come along; they are not part of the word being judged.
                let core = value.trim_end_matches([')', ']', '}', ';']);
                !is_placeholder(core) && !is_usage_count(core, term)
            }
        }
    }
}

/// Whether `before` ends inside the user part of a URL (`scheme://user`). The user part holds
/// no whitespace, `/` or `@`, so only its own bytes are scanned.
fn in_url_userinfo(before: &str) -> bool {
    let stop = before.rfind(|c: char| c.is_whitespace() || c == '/' || c == '@');
    stop.is_some_and(|i| before[i..].starts_with('/') && before[..i].ends_with(":/"))
}

/// `input_tokens=1234`: a number after a label ending in `tokens` counts tokens.
fn is_usage_count(value: &str, term: Option<&str>) -> bool {
    let tail = term.and_then(|t| t.get(t.len().saturating_sub("tokens".len())..));
    tail.is_some_and(|t| t.eq_ignore_ascii_case("tokens"))
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// Values that stand for a secret without being one; keeping them keeps examples readable.
fn is_placeholder(value: &str) -> bool {
    let var = |v: &str| {
        let mut b = v.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_uppercase() || c == b'_')
            && b.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
    };
    let words = ["null", "none", "nil", "true", "false", "undefined"];
    value.strip_prefix('$').is_some_and(var)
        || value.strip_prefix("${").is_some_and(|v| {
            let name = v.trim_end_matches('}');
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        || (value.len() > 2 && value.starts_with('<') && value.ends_with('>'))
        || value.bytes().all(|b| b == b'*' || b == b'.')
        || words.iter().any(|w| value.eq_ignore_ascii_case(w))
}

/// Sorts and merges `spans`, first widening any span that touches an existing REDACTED to
/// cover it whole, then dropping spans that are exactly one: redacting twice changes nothing.
/// One sweep over both sorted lists, so a long line of many markers stays linear.
fn settle(line: &str, spans: &mut Vec<(usize, usize)>) {
    // Most lines: nothing found, and no searcher built for the markers.
    if spans.is_empty() {
        return;
    }
    spans.sort_unstable();
    let mut markers = line
        .match_indices(REDACTED)
        .map(|(i, m)| (i, i + m.len()))
        .peekable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for &(mut start, mut end) in spans.iter() {
        while let Some(&(ms, me)) = markers.peek() {
            if me <= start {
                markers.next();
            } else if ms < end {
                (start, end) = (start.min(ms), end.max(me));
                markers.next();
            } else {
                break;
            }
        }
        match merged.last_mut() {
            Some(last) if start < last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged.retain(|&(s, e)| &line[s..e] != REDACTED);
    *spans = merged;
}

#[cfg(test)]
#[path = "redact_tests.rs"]
mod tests;
