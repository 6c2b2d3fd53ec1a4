//! Classifying a failed run from the tail of its log: retry later, give up, or stop the account.
//!
//! Rules (choices made here; the tests pin each one):
//! - Matching is ASCII case-insensitive, line by line. A line with no signal is neutral, and a
//!   tail with no signal at all is [`Class::Permanent`]: retrying an unknown failure burns quota.
//! - [`Class::Auth`] wins over any transient signal anywhere in the tail, because retrying with
//!   bad credentials can never succeed and may lock the account.
//! - HTTP statuses count only next to a status word (`status 429`, `HTTP/1.1 503`,
//!   `Error code: 529`, `API Error: 401`) or before a reason (`503 Service Unavailable`), so
//!   line numbers, ports and sizes are not mistaken for statuses.
//! - A timeout counts only when it names a network operation (`Read timed out`,
//!   `ConnectTimeout`, `Operation timed out`); a test or command timeout is a real failure.
//! - The wait comes from the line nearest the end that carries one: later news is fresher.
//!   A `Retry-After` header alone is also a transient signal, since servers send it only with
//!   429 and 503. Waits in the past are clamped to `now_ms`.
//! - Relative waits need retry wording before them (`try again in 2.5s`, `resets in 2 hours`)
//!   so that `finished in 3s` is not a wait.

use super::agent_text::readable;
use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet, RegexSetBuilder};

/// The earliest moment a retry has a chance, as told by the failing service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Milliseconds since the Unix epoch.
    pub until_ms: i64,
}

/// What to do about a failed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The service or network hiccupped: retry, no sooner than `wait` when known.
    Transient { wait: Option<Wait> },
    /// The run itself failed; retrying would fail the same way.
    Permanent,
    /// The credentials are bad or expired: never retry, a human must log in.
    Auth,
}

/// Phrases that mean the credentials are the problem.
const AUTH_PHRASES: &[&str] = &[
    "invalid api key",
    "invalid x-api-key",
    "invalid_api_key",
    "incorrect api key",
    "authentication_error",
    "please log in",
    "please login",
    "please run /login",
    "not logged in",
    "token expired",
    "expired token",
    "token has expired",
    // Gemini CLI with no credentials: "Please set an Auth method in your …/settings.json or
    // specify one of the following environment variables before running: GEMINI_API_KEY, …".
    "please set an auth method",
    // Gemini's API with a bad key.
    "api key not valid",
    // Codex CLI.
    "re-run `codex login`",
    "re-run codex login",
    "sign in again",
    "log in again",
];

/// Phrases that mean the service or the network is temporarily unable.
const TRANSIENT_PHRASES: &[&str] = &[
    "overloaded",
    "rate limit",
    "rate_limit",
    "rate-limit",
    "ratelimit",
    "usage limit",
    "limit reached",
    "hit your limit",
    "quota",
    "too many requests",
    "service unavailable",
    "bad gateway",
    "gateway timeout",
    "internal server error",
    "connection reset",
    "connection refused",
    "connection aborted",
    "connection error",
    "socket hang up",
    "stream disconnected",
    "network is unreachable",
    "econnreset",
    "econnrefused",
    "econnaborted",
    "etimedout",
    "getaddrinfo",
    "could not resolve host",
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "enotfound",
    "eai_again",
];

/// A status code next to a status word (group 1) or before its reason phrase (group 2).
const STATUS: &str = r#"(?i)(?:\b(?:status(?:[ _]?code)?|(?:error[ _])?code|http(?:/[\d.]+)?|(?:api )?error)["']?\s*[:=]?\s*["']?(\d{3})\b|\b(\d{3})\s+(?:unauthorized|forbidden|too many requests|internal server error|bad gateway|service unavailable|gateway timeout|server error|client error|overloaded))"#;

/// A timeout of a network operation, not of a test or command.
const NET_TIMEOUT: &str = r"(?i)\b(?:connect(?:ion)?|request|read|write|operation|socket|network|https?|api|gateway|upstream|fetch|stream|response|handshake|headers?)[ _-]?(?:has |was )?(?:timed[ _-]?out|timeout)";

/// Lines of the project's own tests, code and servers: they may quote a 500 or "please log in"
/// without the service having said anything, so they are never a signal. Assertions,
/// expectations (`expected … got`, Go's `got … want`, Jest's `Expected substring:`), pytest's
/// `E   ` detail lines, test reports, test-file locations, and request logs of a server under
/// test (`"POST /users HTTP/1.1" 500`).
const TEST_OUTPUT: &str = r#"(?i)\bassert|\bexpected\b.*\b(?:got|found|but|actual|received)\b|\bgot\b.*\bwant(?:ed)?\b|\bwant(?:ed)?\b.*\bgot\b|^\s*(?:expected|received|actual)\b[^:]{0,30}:|panicked at|^\s*(?:left|right)\s*:|^\s*E\s{2,}|\btest\b.*\.\.\.\s*(?:ok|failed)\b|^\s*(?:FAIL|PASS)\s|\.(?:contains|includes|to_?[Ee]qual|toBe)\(|(?:_test\.go|\.(?:test|spec)\.[cm]?[jt]sx?|_spec\.rb|test_\w+\.py|_test\.py):\d+|"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S* HTTP/[\d.]+""#;

/// The start of a test run's output (cargo, pytest, Jest, go test): everything up to its end
/// is the project's, whatever it says.
const TEST_BLOCK_START: &str = r"(?i)^\s*running \d+ tests?\b|^\s*-{4} .* std(?:out|err) -{4}|^=+ (?:test session starts|failures|errors) =+|^\s*(?:FAIL|PASS|RUNS)\s+\S|^\s*=== RUN\b|^\s*--- (?:FAIL|PASS):";

/// The end of a test run's output.
const TEST_BLOCK_END: &str = r"(?i)^\s*test result:|^=+ .*\b(?:passed|failed|errors?)\b.*=+\s*$|^(?:FAIL|ok)\s+\S+\s+[\d.]+s|^\s*Tests:\s|^\s*error: test failed";

/// Claude Code's own API error line: the agent talking, even right after test output.
const AGENT_API_ERROR: &str = r"^\s*API Error:";

/// Units of a relative wait, longest spelling first: alternation is leftmost-first, and `ms`
/// must win over `m` while `m` in `4m30s` must still match.
const UNITS: &str = r"milliseconds?|ms|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s";

/// Classifies failed runs; build once per profile and reuse.
#[derive(Debug, Clone)]
pub struct Classifier {
    auth: AhoCorasick,
    transient: AhoCorasick,
    status: Regex,
    net_timeout: Regex,
    extra: RegexSet,
    retry_after_ms: Regex,
    retry_after: Regex,
    http_date: Regex,
    epoch: Regex,
    clock: Regex,
    relative: Regex,
    unit: Regex,
    test_output: Regex,
    test_start: Regex,
    test_end: Regex,
    agent_error: Regex,
    error_word: Regex,
    boilerplate: Regex,
}

impl Classifier {
    /// Builds a classifier with the profile's `extra` transient patterns (regexes, matched
    /// case-insensitively like the built-in rules).
    pub fn new(extra: &[String]) -> Result<Classifier, regex::Error> {
        let phrases = |list: &[&str]| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(list)
                .expect("built-in failure phrases build")
        };
        let re = |pattern: &str| Regex::new(pattern).expect("built-in failure pattern compiles");
        Ok(Classifier {
            auth: phrases(AUTH_PHRASES),
            transient: phrases(TRANSIENT_PHRASES),
            status: re(STATUS),
            net_timeout: re(NET_TIMEOUT),
            extra: RegexSetBuilder::new(extra).case_insensitive(true).build()?,
            retry_after_ms: re(r#"(?i)\bretry[-_]after[-_]ms["']?\s*[:=]\s*["']?(\d+)"#),
            retry_after: re(
                r#"(?i)\bretry[-_ ]after["']?\s*[:=]\s*["']?(?:(\d+(?:\.\d+)?)\b|(.+))"#,
            ),
            http_date: re(
                r"(?i)^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,\s*(\d{1,2})[ -](jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*[ -](\d{4})\s+(\d{2}):(\d{2}):(\d{2})\s*(?:gmt|utc)",
            ),
            epoch: re(
                r"(?i)(?:\bresets?\b(?:\s+at)?\s*[:=]?\s*|limit reached\s*\|\s*)(\d{13}|\d{10})\b",
            ),
            clock: re(r"(?i)\bresets?\b(?:\s+at)?\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?\b"),
            relative: re(&format!(
                r"(?i)\b(?:again|retry(?:ing)?|resets?|available|wait|resumes?)\b[^.;\n]{{0,20}}?\b(?:in|after)\s+((?:\d+(?:\.\d+)?\s*(?:{UNITS})(?:\s*,?\s*(?:and\s+)?)?)+)"
            )),
            unit: re(&format!(r"(?i)(\d+(?:\.\d+)?)\s*({UNITS})")),
            test_output: re(TEST_OUTPUT),
            test_start: re(TEST_BLOCK_START),
            test_end: re(TEST_BLOCK_END),
            agent_error: re(AGENT_API_ERROR),
            boilerplate: re(
                r"(?i)could not compile `[^`]*`|aborting due to|previous errors?\b|for more information about this error|warning: build failed|^error: test failed, to rerun",
            ),
            error_word: re(
                r"(?i)\b(?:error|errors?\[|failed|failure|fatal|panicked|exception|traceback)\b",
            ),
        })
    }

    /// Classifies a failed run from the last lines of its log (oldest first).
    ///
    /// `now_ms` anchors relative waits; `utc_offset_min` is the local offset from UTC, used to
    /// read wall-clock resets such as `resets 3pm`.
    pub fn classify(&self, tail: &[&str], now_ms: i64, utc_offset_min: i32) -> Class {
        let tail = &self.service_lines(tail)[..];
        let mut transient = false;
        for line in tail {
            match self.signal(line) {
                Signal::Auth => return Class::Auth,
                Signal::Transient => transient = true,
                Signal::None => {}
            }
        }
        if !transient {
            return Class::Permanent;
        }
        let wait = tail
            .iter()
            .rev()
            .find_map(|line| self.wait_until(line, now_ms, utc_offset_min))
            .map(|until_ms| Wait {
                until_ms: until_ms.max(now_ms),
            });
        Class::Transient { wait }
    }

    /// The line that decided [`Classifier::classify`], for a job's last error: the first auth
    /// line, else the last line naming the trouble (a status, a phrase), joined with the last
    /// line announcing a wait when that is a separate one; `None` for a permanent failure.
    pub fn evidence(&self, tail: &[&str]) -> Option<String> {
        let tail = &self.service_lines(tail)[..];
        let (mut named, mut other) = (None, None);
        for line in tail {
            match self.signal(line) {
                Signal::Auth => return Some(words(line)),
                Signal::Transient if self.names_trouble(line) => named = Some(words(line)),
                Signal::Transient => other = Some(words(line)),
                Signal::None => {}
            }
        }
        let main = named.or(other)?;
        let wait = tail
            .iter()
            .rev()
            .find(|l| self.wait_until(l, 0, 0).is_some())
            .map(|l| words(l));
        Some(match wait {
            Some(w) if w != main => format!("{main} · {w}"),
            _ => main,
        })
    }

    /// For a permanent failure, the line most likely to say what went wrong, in the agent's own
    /// words ([`readable`]): the last line that starts with an error word (`error`, `fatal`,
    /// `FAILED`, `panicked`, ...), else the last with such a word anywhere, else a build tool's
    /// closing line (`could not compile`), else the last line with any words. Usage reports
    /// and JSON events without a message are never it, and corral's own notes (`corral: …`)
    /// only when the agent said nothing.
    pub fn summary(&self, tail: &[&str]) -> Option<String> {
        let said: Vec<String> = tail
            .iter()
            .filter_map(|l| readable(l))
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        let (notes, agent): (Vec<&str>, Vec<&str>) = said
            .iter()
            .map(String::as_str)
            .partition(|l| l.starts_with(CORRAL_NOTE));
        let pick = |lines: &[&str]| {
            let starts = |l: &&&str| self.error_word.find(l).is_some_and(|m| m.start() == 0);
            // Closing lines ("aborting due to 2 previous errors") only say that an error came
            // before: the error itself wins over them.
            let specific = || lines.iter().filter(|l| !self.boilerplate.is_match(l));
            specific()
                .rfind(starts)
                .or_else(|| specific().rfind(|l| self.error_word.is_match(l)))
                .or_else(|| lines.iter().rfind(|l| self.error_word.is_match(l)))
                .or_else(|| lines.last())
                .map(|l| l.to_string())
        };
        pick(&agent).or_else(|| pick(&notes))
    }

    /// A transient signal other than a bare `Retry-After` header.
    fn names_trouble(&self, line: &str) -> bool {
        self.status_signal(line) == Signal::Transient || self.names_phrase(line)
    }

    /// A transient phrase, a network timeout or one of the profile's patterns.
    fn names_phrase(&self, line: &str) -> bool {
        self.transient.is_match(line)
            || self.net_timeout.is_match(line)
            || self.extra.is_match(line)
    }

    /// What the HTTP statuses on `line` say: 401/403 mean credentials, 429 and 5xx a passing
    /// trouble; any other status (or none) nothing.
    fn status_signal(&self, line: &str) -> Signal {
        let mut found = Signal::None;
        for caps in self.status.captures_iter(line) {
            match caps.get(1).or_else(|| caps.get(2)).map(|m| m.as_str()) {
                Some("401" | "403") => return Signal::Auth,
                Some("429" | "500" | "502" | "503" | "504" | "529") => found = Signal::Transient,
                _ => {}
            }
        }
        found
    }

    /// The lines of `tail` that can be the service or the agent talking: without the project's
    /// test runs (from their start line to their end line) and test-like lines.
    fn service_lines<'a>(&self, tail: &[&'a str]) -> Vec<&'a str> {
        let mut inside = false;
        let mut kept = Vec::with_capacity(tail.len());
        for line in tail {
            if self.agent_error.is_match(line) {
                inside = false;
                kept.push(*line);
            } else if self.test_end.is_match(line) {
                // Checked first: go's `FAIL  pkg  0.01s` ends a run and looks like a start.
                inside = false;
            } else if self.test_start.is_match(line) {
                inside = true;
            } else if !inside && !self.test_output.is_match(line) {
                kept.push(*line);
            }
        }
        kept
    }

    fn signal(&self, line: &str) -> Signal {
        if self.auth.is_match(line) {
            return Signal::Auth;
        }
        let status = self.status_signal(line);
        if status == Signal::Auth {
            return Signal::Auth;
        }
        let transient = status == Signal::Transient
            || self.names_phrase(line)
            || self.retry_after.is_match(line)
            || self.retry_after_ms.is_match(line);
        if transient {
            Signal::Transient
        } else {
            Signal::None
        }
    }

    /// The absolute end of a wait announced on `line`, most explicit form first.
    fn wait_until(&self, line: &str, now_ms: i64, utc_offset_min: i32) -> Option<i64> {
        if let Some(c) = self.retry_after_ms.captures(line) {
            return Some(now_ms.saturating_add(c[1].parse().ok()?));
        }
        if let Some(c) = self.retry_after.captures(line) {
            if let Some(secs) = c.get(1) {
                let secs: f64 = secs.as_str().parse().ok()?;
                return Some(now_ms.saturating_add((secs * 1000.0) as i64));
            }
            if let Some(date) = c
                .get(2)
                .and_then(|d| self.parse_http_date(d.as_str().trim()))
            {
                return Some(date);
            }
        }
        if let Some(c) = self.epoch.captures(line) {
            let n: i64 = c[1].parse().ok()?;
            return Some(if c[1].len() == 13 { n } else { n * 1000 });
        }
        if let Some(c) = self.clock.captures(line)
            && let Some(until) = next_wall_clock(&c, now_ms, utc_offset_min)
        {
            return Some(until);
        }
        let c = self.relative.captures(line)?;
        let group = c.get(1)?;
        let mut total_ms = 0f64;
        for u in self.unit.captures_iter(group.as_str()) {
            // `in 10 sessions` would read as 10 s: a unit must not run on into a word.
            let after = line[group.start() + u.get(0)?.end()..].chars().next();
            if after.is_some_and(char::is_alphabetic) {
                return None;
            }
            let n: f64 = u[1].parse().ok()?;
            total_ms += n * unit_ms(&u[2].to_ascii_lowercase());
        }
        Some(now_ms.saturating_add(total_ms as i64))
    }

    /// Reads an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), the only date form of
    /// `Retry-After` that servers send in practice.
    fn parse_http_date(&self, text: &str) -> Option<i64> {
        let c = self.http_date.captures(text)?;
        let day: i64 = c[1].parse().ok()?;
        let month = MONTHS.iter().position(|m| c[2].eq_ignore_ascii_case(m))? as i64 + 1;
        let year: i64 = c[3].parse().ok()?;
        let (h, m, s): (i64, i64, i64) =
            (c[4].parse().ok()?, c[5].parse().ok()?, c[6].parse().ok()?);
        if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        Some(((days * 24 + h) * 60 + m) * 60_000 + s * 1000)
    }
}

/// How corral's own lines in a run's log start.
const CORRAL_NOTE: &str = "corral: ";

/// The words of a line that carries a signal: the message inside a JSON event, else the line.
fn words(line: &str) -> String {
    readable(line).map_or_else(|| line.trim().to_string(), |w| w.into_owned())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Signal {
    Auth,
    Transient,
    None,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

fn unit_ms(unit: &str) -> f64 {
    match unit {
        "ms" | "millisecond" | "milliseconds" => 1.0,
        "d" | "day" | "days" => 86_400_000.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600_000.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000.0,
        _ => 1000.0,
    }
}

/// The next local wall-clock time strictly after now named by a `resets 3pm` match.
///
/// A bare hour (`resets 3`) is refused: without `am`/`pm` or minutes it is too likely to be a
/// count rather than a time.
fn next_wall_clock(c: &regex::Captures, now_ms: i64, utc_offset_min: i32) -> Option<i64> {
    let mut hour: i64 = c[1].parse().ok()?;
    let minute: i64 = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
    match c.get(3).map(|m| m.as_str().to_ascii_lowercase()) {
        Some(half) => {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + if half == "pm" { 12 } else { 0 };
        }
        None if c.get(2).is_none() => return None,
        None => {}
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    let offset_ms = i64::from(utc_offset_min) * MINUTE_MS;
    let local_now = now_ms + offset_ms;
    let mut local = local_now.div_euclid(DAY_MS) * DAY_MS + (hour * 60 + minute) * MINUTE_MS;
    if local <= local_now {
        local += DAY_MS;
    }
    Some(local - offset_ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
