//! The built-in demo agent (`corral demo-agent`, hidden): it acts out a coding agent's
//! work (read the feature, explore, plan, edit, test, summarise) at a human pace, so a
//! demo of corral looks like real work. Nothing is actually done.
//!
//! [`plan`] builds the script as a pure function of the arguments, and [`run`] only plays
//! it, so determinism and timing are tested without sleeping. corral passes the run id
//! as the seed: each attempt at a feature differs, and a replay is identical.

use std::io::{self, Write};
use std::time::Duration;

pub struct DemoAgentArgs {
    pub feature: i64,
    pub name: Option<String>,
    pub seed: u64,
    pub pace: f64,
    /// Tell the work as Claude Code's `stream-json` events (see [`super::stream`]).
    pub stream_json: bool,
}

/// Which pipe a line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// On stdout, then wait for one line on stdin (a permission request and its answer;
    /// end of input counts as an answer).
    Ask,
}

/// One line of output, printed after waiting `delay` seconds (at pace 1.0).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub stream: Stream,
    pub text: String,
    pub delay: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub exit_code: i32,
}

/// Exit code when stdout/stderr is closed under us: what a shell reports for a
/// process killed by SIGPIPE (128 + 13), without the noise of a panic.
const BROKEN_PIPE: i32 = 141;

/// Runs the agent to completion, printing to stdout/stderr; returns the process exit code.
pub fn run(args: &DemoAgentArgs) -> i32 {
    let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
    let mut script = plan(args);
    if args.stream_json {
        script = super::stream::stream_plan(&script, args.seed);
    }
    play(&script, args.pace, &mut out, &mut err)
}

/// Plays a plan on the given writers (the real pipes, or buffers in tests).
fn play(plan: &Plan, pace: f64, out: &mut impl Write, err: &mut impl Write) -> i32 {
    for step in &plan.steps {
        // try_: a NaN, negative or huge pace must not panic; it means "no wait".
        if let Ok(d) = Duration::try_from_secs_f64(step.delay * pace) {
            std::thread::sleep(d);
        }
        // Flush every line: our stdout/stderr are pipes to corral, which would
        // otherwise see nothing until a 4 KiB block fills up.
        let w: &mut dyn Write = match step.stream {
            Stream::Stdout | Stream::Ask => out,
            Stream::Stderr => err,
        };
        match writeln!(w, "{}", step.text).and_then(|()| w.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return BROKEN_PIPE,
            Err(_) => return 1,
            Ok(()) => {}
        }
        if step.stream == Stream::Ask {
            // The answer (corral's control_response); whatever it says, the script goes on.
            let mut answer = String::new();
            let _ = io::stdin().read_line(&mut answer);
        }
    }
    plan.exit_code
}

// ANSI SGR codes: the dashboard renders them, which is part of what is shown off.
const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";

/// splitmix64: tiny, good enough, and keeps us off the `rand` crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            xs.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

/// Pause classes (seconds before a line, before scaling to the run's length):
/// quick for test results and details, normal for tool calls, slow for "thinking".
const Q: (f64, f64) = (0.3, 0.6);
const N: (f64, f64) = (0.6, 1.5);
const S: (f64, f64) = (1.5, 3.0);

struct Builder {
    rng: Rng,
    steps: Vec<Step>,
}

impl Builder {
    fn push(&mut self, stream: Stream, (lo, hi): (f64, f64), text: String) {
        let delay = self.rng.range(lo, hi);
        self.steps.push(Step {
            stream,
            text,
            delay,
        });
    }
}

/// `out!(builder, pause, format...)`: one stdout line; `err!` the same on stderr.
macro_rules! out {
    ($b:expr, $p:expr, $($f:tt)*) => { $b.push(Stream::Stdout, $p, format!($($f)*)) };
}
macro_rules! err {
    ($b:expr, $p:expr, $($f:tt)*) => { $b.push(Stream::Stderr, $p, format!($($f)*)) };
}

// Word lists, one string each so they stay compact; `{m}` is the module name.
const FILES: &str = "model handlers service validation store routes view errors";
const TESTS: &str = "creates_item rejects_empty_input totals handles_missing_id round_trip \
    validates_fields lists_in_order updates_in_place requires_login paginates escapes_html";
const THOUGHTS: &str = "The {m} code keeps its state in the handler; it belongs in the service.\n\
    There is no validation on the {m} input yet, so bad requests reach the store.\n\
    Existing tests cover the happy path only; I will add the edge cases.\n\
    The store already has a transaction helper I can reuse for {m}.\n\
    Errors are plain strings here; a small enum will make the tests clearer.";
const PLAN_STEPS: &str = "Add the {m} model and its validation\n\
    Wire the {m} handlers into the router\n\
    Move the business rules into src/{m}/service.rs\n\
    Return typed errors instead of strings\n\
    Write tests for the edge cases\n\
    Update the templates for the new fields";
/// Cargo-style warnings: the message, then the help shown under the location.
const WARNINGS: &str = "unused variable: `qty`|help: prefix it with an underscore: `_qty`\n\
    unused import: `std::collections::HashMap`|note: `#[warn(unused_imports)]` on by default\n\
    field `created_at` is never read|note: `#[warn(dead_code)]` on by default\n\
    unused `Result` that must be used|note: this `Result` may be an `Err` variant";

/// Builds the whole script from the arguments; pure, so it can be tested.
// Not rustfmt'd: one line of code per line of output reads like the transcript it prints.
#[rustfmt::skip]
pub fn plan(args: &DemoAgentArgs) -> Plan {
    let id = args.feature;
    let mut rng = Rng(args.seed ^ (id as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.next(); // decorrelate small seeds from the first draw
    // Drawn apart from `rng` so the rest of each script stays what it was before rate limits.
    let mut side = Rng(args.seed.rotate_left(17) ^ 0x9E37_79B9_7F4A_7C15 ^ id as u64);
    side.next();
    let rate_limited = side.below(100) < 8; // now and then the service says "not now"
    let fails = rng.below(100) < 20; // about one run in five fails its tests
    let fix_then_pass = !fails && rng.below(10) < 3; // a red run the agent then fixes looks real
    let target = rng.range(22.0, 55.0);
    // Longer runs do more work rather than only waiting longer between lines.
    let size = ((target - 22.0) / 11.0) as usize; // 0..=3
    let name = display_name(args);
    let m = module_name(&name, id);
    let mut files: Vec<&str> = FILES.split(' ').collect();
    rng.shuffle(&mut files);
    let mut tests: Vec<&str> = TESTS.split_whitespace().collect();
    rng.shuffle(&mut tests);
    let mut plan_steps: Vec<&str> = PLAN_STEPS.lines().collect();
    rng.shuffle(&mut plan_steps);
    let mut b = Builder { rng, steps: Vec::new() };
    let fill = |s: &str| s.trim().replace("{m}", &m);

    // Reading the feature.
    out!(b, Q, "{BOLD}demo-agent{RESET} {DIM}· feature #{id} · seed {}{RESET}", args.seed);
    out!(b, N, "{BOLD}● Reading feature #{id}: {name}{RESET}");
    out!(b, N, "  {CYAN}Read{RESET} feature_list.json {DIM}(feature #{id}, {} steps){RESET}", 3 + size);

    // Exploring: made-up paths under the feature's module.
    out!(b, S, "{BOLD}● Exploring the code{RESET}");
    let n = 12 + b.rng.below(30);
    out!(b, N, "  {CYAN}Glob{RESET} src/**/*.rs {DIM}({n} files){RESET}");
    for f in files.iter().take(2 + size) {
        let lines = 40 + b.rng.below(260);
        out!(b, N, "  {CYAN}Read{RESET} src/{m}/{f}.rs {DIM}({lines} lines){RESET}");
    }
    let hits = 2 + b.rng.below(9);
    out!(b, N, "  {CYAN}Grep{RESET} \"fn {m}\" src/ {DIM}({hits} matches){RESET}");
    let thoughts: Vec<&str> = THOUGHTS.lines().collect();
    for _ in 0..1 + size / 2 {
        let t = fill(b.rng.pick(&thoughts));
        out!(b, S, "  {DIM}{t}{RESET}");
    }
    if rate_limited {
        // What Claude Code prints when the API refuses; corral backs off for the Retry-After.
        let wait = 15 + side.below(30);
        err!(b, N, "{RED}{BOLD}API Error: 429{RESET} {{\"type\":\"error\",\"error\":{{\"type\":\"rate_limit_error\",\"message\":\"Number of request tokens has exceeded your per-minute rate limit\"}}}}");
        err!(b, Q, "{DIM}retry-after: {wait}{RESET}");
        let mut steps = b.steps;
        fit_duration(&mut steps, 20.5);
        return Plan { steps, exit_code: 1 };
    }

    // Planning.
    out!(b, S, "{BOLD}● Plan{RESET}");
    for (i, s) in plan_steps.iter().take(3 + size.min(2)).enumerate() {
        out!(b, N, "  {}. {}", i + 1, fill(s));
    }

    // Editing.
    out!(b, S, "{BOLD}● Implementing{RESET}");
    let (mut added, mut removed) = (0, 0);
    let edited = 2 + size.min(3);
    for f in files.iter().take(edited) {
        let (a, r) = (3 + b.rng.below(60), b.rng.below(15));
        (added, removed) = (added + a, removed + r);
        let tool = if r == 0 { "Write" } else { "Edit" };
        out!(b, S, "  {CYAN}{tool}{RESET} src/{m}/{f}.rs {GREEN}+{a}{RESET} {RED}−{r}{RESET}");
    }
    let a = 10 + b.rng.below(50);
    added += a;
    out!(b, S, "  {CYAN}Write{RESET} tests/{m}.rs {GREEN}+{a}{RESET} {RED}−0{RESET}");

    // Testing; a run the agent fixes shows one red test, an edit, then green.
    let n_tests = 5 + size + b.rng.below(4) as usize;
    let n_failed = if fails { 1 + b.rng.below(3) as usize } else { usize::from(fix_then_pass) };
    cargo_test(&mut b, &m, &files, &tests[..n_tests], n_failed);
    if fix_then_pass {
        out!(b, S, "{BOLD}● Fixing {m}::{}{RESET}", tests[0]);
        out!(b, S, "  {DIM}Off by one in the bounds check; the test is right.{RESET}");
        let (a, r) = (1 + b.rng.below(5), 1 + b.rng.below(3));
        (added, removed) = (added + a, removed + r);
        let f = files[0];
        out!(b, S, "  {CYAN}Edit{RESET} src/{m}/{f}.rs {GREEN}+{a}{RESET} {RED}−{r}{RESET}");
        cargo_test(&mut b, &m, &files, &tests[..n_tests], 0);
    }

    // Summary, consistent with the last test run and with the exit code.
    out!(b, N, "{BOLD}● Summary{RESET}");
    let changed = format!("{} files changed, {GREEN}+{added}{RESET} {RED}−{removed}{RESET}", edited + 1);
    let exit_code = if fails {
        let passed = n_tests - n_failed;
        out!(b, N, "  {RED}{BOLD}✗ error: tests failed{RESET} ({n_failed} failed, {passed} passed)");
        out!(b, Q, "  {changed}; leaving the feature for review");
        1
    } else {
        out!(b, N, "  {GREEN}{BOLD}✓ {name} done{RESET}: {n_tests} tests passing");
        out!(b, Q, "  {changed}");
        0
    };

    // What the run cost, in the line any agent may print for corral to record.
    let (input, output) = (8_000 + side.below(40_000), 1_500 + side.below(9_000));
    let cached = 20_000 + side.below(120_000);
    // Priced like a mid-size model: $3 per million in, $15 out, $0.30 cached.
    let usd = (input as f64 * 3.0 + output as f64 * 15.0 + cached as f64 * 0.3) / 1e6;
    out!(b, Q, "{DIM}corral-usage: {{\"input_tokens\":{input},\"output_tokens\":{output},\"cache_read_tokens\":{cached},\"cost_usd\":{usd:.4}}}{RESET}");

    let mut steps = b.steps;
    fit_duration(&mut steps, target);
    Plan { steps, exit_code }
}

/// One `cargo test` run: compile, stderr warnings, per-test lines, result.
#[rustfmt::skip]
fn cargo_test(b: &mut Builder, m: &str, files: &[&str], tests: &[&str], n_failed: usize) {
    out!(b, N, "{BOLD}● Running tests{RESET}");
    out!(b, Q, "  {CYAN}Bash{RESET} cargo test");
    out!(b, S, "  {DIM}   Compiling shop v0.1.0 (/work/shop){RESET}");
    // Warnings go to stderr, as cargo's do, so the dashboard shows its stderr styling.
    let warnings: Vec<&str> = WARNINGS.lines().collect();
    for _ in 0..1 + b.rng.below(2) {
        let (w, help) = b.rng.pick(&warnings).trim().split_once('|').unwrap_or_default();
        err!(b, Q, "{YELLOW}{BOLD}warning{RESET}{BOLD}: {w}{RESET}");
        let (line, col) = (10 + b.rng.below(200), 5 + b.rng.below(20));
        let f = files[b.rng.below(3) as usize];
        err!(b, Q, "  {DIM}--> src/{m}/{f}.rs:{line}:{col} {help}{RESET}");
    }
    let secs = b.rng.range(2.0, 9.0);
    out!(b, S, "  {DIM}    Finished `test` profile [unoptimized + debuginfo] in {secs:.2}s{RESET}");
    out!(b, Q, "  running {} tests", tests.len());
    for (i, t) in tests.iter().enumerate() {
        let verdict = if i < n_failed { format!("{RED}FAILED") } else { format!("{GREEN}ok") };
        out!(b, Q, "  test {m}::{t} ... {verdict}{RESET}");
    }
    let passed = tests.len() - n_failed;
    if n_failed == 0 {
        out!(b, Q, "  test result: {GREEN}ok{RESET}. {passed} passed; 0 failed; 0 ignored");
        return;
    }
    let (t, line) = (tests[0], 20 + b.rng.below(80));
    out!(b, Q, "  ---- {m}::{t} stdout ----");
    out!(b, Q, "  {DIM}thread '{m}::{t}' panicked at tests/{m}.rs:{line}:5:{RESET}");
    out!(b, Q, "  {DIM}assertion `left == right` failed{RESET}");
    out!(b, Q, "  test result: {RED}FAILED{RESET}. {passed} passed; {n_failed} failed; 0 ignored");
    err!(b, Q, "{RED}{BOLD}error{RESET}{BOLD}: test failed, to rerun pass `--test {m}`{RESET}");
}

/// Scales the delays so the run lasts about `target` seconds, while keeping
/// every gap readable (0.3 s) and never stalling (3 s).
fn fit_duration(steps: &mut [Step], target: f64) {
    for _ in 0..4 {
        let total: f64 = steps.iter().map(|s| s.delay).sum();
        let factor = target / total;
        if (factor - 1.0).abs() < 0.01 {
            break;
        }
        for s in steps.iter_mut() {
            s.delay = (s.delay * factor).clamp(0.3, 3.0);
        }
    }
}

/// The feature name as shown: control characters removed (it comes from the
/// command line and must not inject escape codes), and bounded in length.
fn display_name(args: &DemoAgentArgs) -> String {
    let raw = args.name.as_deref().unwrap_or("");
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).take(60).collect();
    match cleaned.trim() {
        "" => format!("Feature {}", args.feature),
        name => name.to_string(),
    }
}

/// A plausible Rust module name from the feature name: "Shopping cart" → "shopping_cart".
fn module_name(name: &str, feature: i64) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(2)
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let m = words.join("_");
    match m.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => m,
        _ => format!("feature_{}", feature.unsigned_abs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(feature: i64, name: Option<&str>, seed: u64) -> DemoAgentArgs {
        DemoAgentArgs {
            feature,
            name: name.map(String::from),
            seed,
            pace: 1.0,
            stream_json: false,
        }
    }

    #[test]
    fn same_seed_same_plan() {
        let cart = |seed| plan(&args(3, Some("Shopping cart"), seed));
        assert_eq!(cart(42), cart(42));
        assert_ne!(cart(42), cart(43));
    }

    #[test]
    fn outcomes_durations_and_streams_are_plausible() {
        let plans: Vec<Plan> = (0..100).map(|s| plan(&args(s as i64, None, s))).collect();
        let failed = plans.iter().filter(|p| p.exit_code == 1).count();
        assert!((5..=40).contains(&failed), "{failed} failures in 100");
        let limited = plans
            .iter()
            .filter(|p| p.steps.iter().any(|s| s.text.contains("retry-after:")))
            .count();
        assert!((1..=20).contains(&limited), "{limited} rate limits in 100");
        for p in &plans {
            let says_failed = p.steps.iter().any(|s| s.text.contains("tests failed"));
            let limited = p.steps.iter().any(|s| s.text.contains("API Error: 429"));
            assert_eq!(
                says_failed || limited,
                p.exit_code == 1,
                "output matches exit code"
            );
            let total: f64 = p.steps.iter().map(|s| s.delay).sum();
            assert!((20.0..=60.0).contains(&total), "{total}s");
            assert!(p.steps.iter().all(|s| (0.3..=3.0).contains(&s.delay)));
            let errs = p.steps.iter().filter(|s| s.stream == Stream::Stderr);
            assert!((2..=10).contains(&errs.count()));
        }
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(module_name("Shopping cart", 3), "shopping_cart");
        assert_eq!(module_name("42 things", 7), "feature_7");
        assert!(!display_name(&args(1, Some("evil\x1b[2Jname"), 1)).contains('\x1b'));
        assert_eq!(display_name(&args(5, None, 1)), "Feature 5");
    }

    #[test]
    fn play_writes_every_line_to_its_stream() {
        let p = plan(&args(1, Some("Login"), 7));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        assert_eq!(play(&p, 0.0, &mut out, &mut err), p.exit_code);
        let lines = |v: Vec<u8>| String::from_utf8(v).map_or(0, |s| s.lines().count());
        assert_eq!(lines(out) + lines(err), p.steps.len());
    }

    #[test]
    fn broken_pipe_exits_141() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let p = plan(&args(1, None, 1));
        assert_eq!(play(&p, f64::NAN, &mut Closed, &mut Closed), 141);
    }
}
