//! The job queue through the real binary (`corral run --headless --until-done`) with scripted
//! agents: a rate-limited agent waits out its Retry-After without spending attempts, a broken
//! one stops after `max_attempts`, three agents on one account open its breaker and only a
//! single probe runs after the cooldown, and reported costs are recorded and stop the
//! scheduler at the budget.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use common::cli::Headless;
use common::write_script;
use corral::runtime::store::{NewFeature, Store};
use std::path::Path;

fn feature(id: i64) -> NewFeature {
    NewFeature {
        id: Some(id),
        category: "Q".into(),
        name: format!("feature {id}"),
        description: String::new(),
        steps: vec![],
        priority: 0,
        dependencies: vec![],
    }
}

/// A project with `features` independent features, `toml` as corral.toml and `body` as the
/// coding agent's `sh` script (`$CORRAL_PROJECT/agent.sh`).
fn project(features: i64, toml: &str, body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_script(&p.join("agent.sh"), body);
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    let items: Vec<NewFeature> = (1..=features).map(feature).collect();
    Store::open(p).unwrap().add_features(&items, 0).unwrap();
    dir
}

fn run_until_done(p: &Path) -> (Option<i32>, String) {
    let out = cargo_bin_cmd!("corral")
        .current_dir(p)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .env("XDG_DATA_HOME", p.join(".xdg"))
        .args(["run", "--headless", "--until-done"])
        .timeout(std::time::Duration::from_secs(90))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// (event, feature, ms since the epoch) lines the agents append to `journal`.
fn journal(p: &Path) -> Vec<(String, i64, i64)> {
    std::fs::read_to_string(p.join("journal"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let ns: i128 = f[2].parse().unwrap();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                (ns / 1_000_000) as i64,
            )
        })
        .collect()
}

/// Appends "$1 $CORRAL_FEATURE_ID <ns>" to the journal.
const NOTE: &str =
    "note() { echo \"$1 $CORRAL_FEATURE_ID $(date +%s%N)\" >> \"$CORRAL_PROJECT/journal\"; }\n";

fn sql(p: &Path, query: &str) -> Vec<Vec<String>> {
    let conn = rusqlite::Connection::open(p.join(".corral/corral.db")).unwrap();
    let mut stmt = conn.prepare(query).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                r.get::<_, rusqlite::types::Value>(i).map(|v| match v {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(f) => f.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(_) => "blob".into(),
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

#[test]
fn a_rate_limited_agent_waits_out_retry_after_and_keeps_its_attempts() {
    // Three 429s with `retry-after: 2`, then success; only 3 attempts allowed.
    let body = format!(
        "{NOTE}n=$(cat \"$CORRAL_PROJECT/count\" 2>/dev/null || echo 0)\n\
         echo $((n + 1)) > \"$CORRAL_PROJECT/count\"\n\
         note start\n\
         if [ \"$n\" -lt 3 ]; then\n\
           echo 'HTTP/1.1 429 Too Many Requests'\n\
           echo 'retry-after: 2'\n\
           note fail; exit 1\n\
         fi\n\
         note pass"
    );
    let toml = "[scheduler]\nmax_agents = 1\nmax_attempts = 3\n\n\
                [retry]\nbase = \"100ms\"\ncap = \"1s\"\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n";
    let dir = project(1, toml, &body);
    let p = dir.path();
    let (code, out) = run_until_done(p);
    assert_eq!(code, Some(0), "{out}");
    let events = journal(p);
    let starts: Vec<i64> = events
        .iter()
        .filter(|e| e.0 == "start")
        .map(|e| e.2)
        .collect();
    let fails: Vec<i64> = events
        .iter()
        .filter(|e| e.0 == "fail")
        .map(|e| e.2)
        .collect();
    assert_eq!(starts.len(), 4, "done on the fourth run:\n{out}");
    assert_eq!(fails.len(), 3);
    for (fail, next) in fails.iter().zip(&starts[1..]) {
        assert!(
            next - fail >= 2_000,
            "a retry {} ms after its 429 said retry-after 2 s:\n{out}",
            next - fail
        );
    }
    assert!(out.contains("backoff until"), "{out}");
    let job = sql(
        p,
        "SELECT state, attempts, max_attempts, transient_attempts FROM jobs",
    );
    assert_eq!(
        job,
        vec![vec!["done", "1", "3", "3"]],
        "transient failures spent no attempt"
    );
    let runs = sql(p, "SELECT COUNT(*), COUNT(DISTINCT job_id) FROM runs");
    assert_eq!(runs, vec![vec!["4", "1"]], "four runs of one job");
    assert_eq!(sql(p, "SELECT status FROM features"), vec![vec!["passing"]]);
}

#[test]
fn a_permanently_failing_agent_stops_after_max_attempts() {
    let body = format!("{NOTE}note start\necho 'assertion failed: cart total is 0'\nexit 1");
    let toml = "[scheduler]\nmax_agents = 1\nmax_attempts = 3\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n";
    let dir = project(1, toml, &body);
    let p = dir.path();
    let (code, out) = run_until_done(p);
    assert_eq!(
        code,
        Some(1),
        "a failed feature makes --until-done fail:\n{out}"
    );
    assert_eq!(journal(p).len(), 3, "exactly max_attempts runs:\n{out}");
    let job = sql(p, "SELECT state, attempts, transient_attempts FROM jobs");
    assert_eq!(job, vec![vec!["failed", "3", "0"]]);
    let feature = sql(p, "SELECT status, attempts, last_error FROM features");
    assert_eq!(
        feature,
        vec![vec![
            "failed",
            "3",
            "assertion failed: cart total is 0 — exit 1"
        ]],
        "the error says what the agent said"
    );
    assert!(
        !out.contains("backoff"),
        "no backoff for a real failure:\n{out}"
    );
}

#[test]
fn three_agents_on_one_account_open_its_breaker_and_a_single_probe_follows_the_cooldown() {
    // Every first run hits a rate limit after a moment; every later run passes.
    let body = format!(
        "{NOTE}note start\n\
         if [ ! -e \"$CORRAL_PROJECT/seen-$CORRAL_FEATURE_ID\" ]; then\n\
           touch \"$CORRAL_PROJECT/seen-$CORRAL_FEATURE_ID\"\n\
           sleep 0.3\n\
           echo 'API Error: 429 {{\"type\":\"error\",\"error\":{{\"type\":\"rate_limit_error\"}}}}'\n\
           echo 'retry-after: 3'\n\
           note fail; exit 1\n\
         fi\n\
         sleep 0.5\n\
         note pass"
    );
    let toml = "[scheduler]\nmax_agents = 3\n\n\
                [retry]\nbase = \"100ms\"\ncap = \"1s\"\n\n\
                [breaker]\nthreshold = 3\ncooldown = \"1m\"\n\n\
                [profiles.coding]\nrole = \"coding\"\naccount = \"anthropic-main\"\n\
                command = [\"sh\", \"{project}/agent.sh\"]\n";
    let dir = project(3, toml, &body);
    let p = dir.path();
    let (code, out) = run_until_done(p);
    assert_eq!(code, Some(0), "{out}");
    let events = journal(p);
    let starts: Vec<&(String, i64, i64)> = events.iter().filter(|e| e.0 == "start").collect();
    let fails: Vec<i64> = events
        .iter()
        .filter(|e| e.0 == "fail")
        .map(|e| e.2)
        .collect();
    let passes: Vec<i64> = events
        .iter()
        .filter(|e| e.0 == "pass")
        .map(|e| e.2)
        .collect();
    assert_eq!(
        (starts.len(), fails.len(), passes.len()),
        (6, 3, 3),
        "{out}"
    );
    let opened = *fails.iter().max().unwrap();
    // Nothing on the account starts before the reset the service announced (3 s), and the
    // reset, not the one-minute cooldown, decides when the probe goes.
    let probe = starts[3];
    assert!(
        (3_000..30_000).contains(&(probe.2 - opened)),
        "the probe started {} ms after the breaker opened:\n{out}",
        probe.2 - opened
    );
    // The probe runs alone; the others start only once it passed.
    let probe_end = events
        .iter()
        .find(|e| e.0 == "pass" && e.1 == probe.1)
        .unwrap()
        .2;
    for later in &starts[4..] {
        assert!(
            later.2 >= probe_end,
            "{later:?} started while the probe ran:\n{out}"
        );
    }
    assert!(
        out.contains("account anthropic-main: breaker open until"),
        "{out}"
    );
    assert!(
        out.contains("account anthropic-main: breaker closed"),
        "{out}"
    );
    let jobs = sql(p, "SELECT DISTINCT account FROM jobs");
    assert_eq!(jobs, vec![vec!["anthropic-main"]]);
}

#[test]
fn reported_costs_are_recorded_and_the_budget_pauses_the_scheduler() {
    let fixture = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude_result.json"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("result.json"), &fixture).unwrap();
    let body = format!("{NOTE}note start\ncat \"$CORRAL_PROJECT/result.json\"");
    let toml = "[scheduler]\nmax_agents = 1\n\n[budget]\nusd = 0.2\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n";
    let p = dir.path();
    write_script(&p.join("agent.sh"), &body);
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    let items: Vec<NewFeature> = (1..=3).map(feature).collect();
    Store::open(p).unwrap().add_features(&items, 0).unwrap();
    let (code, out) = run_until_done(p);
    assert_eq!(code, Some(1), "stopped by the budget, not done:\n{out}");
    assert_eq!(
        journal(p).len(),
        2,
        "0.1234 + 0.1234 passes 0.20: no third run:\n{out}"
    );
    assert!(out.contains("budget spent: $0.2468 of $0.20"), "{out}");
    assert!(
        out.contains("spent $0.1234 of $0.20: 1200 tokens in, 3400 out"),
        "{out}"
    );
    let runs = sql(
        p,
        "SELECT cost_micros, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens FROM runs",
    );
    assert_eq!(
        runs,
        vec![vec!["123400", "1200", "3400", "50000", "8000"]; 2]
    );
    let pending = sql(p, "SELECT COUNT(*) FROM features WHERE status = 'passing'");
    assert_eq!(pending, vec![vec!["2"]]);
    // Shown afterwards too, from the database.
    let status = common::cli::ok(p, &["status"]);
    assert!(
        status
            .contains("spent $0.2468 of $0.20 budget, spent: the scheduler pauses: 125200 tokens"),
        "{status}"
    );
    assert!(status.contains("jobs: 1 queued, 0 running"), "{status}");
}

#[test]
fn refused_credentials_wait_for_a_login_and_the_breaker_closed_by_hand_even_across_a_restart() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // A stand-in named like the real agent, so the hint says how to log in to it.
    std::fs::create_dir(p.join("bin")).unwrap();
    write_script(
        &p.join("bin/claude"),
        &format!(
            "{NOTE}note start\n\
             if [ ! -e \"$CORRAL_PROJECT/logged-in\" ]; then\n\
               echo 'Invalid API key · Please run /login'; note fail; exit 1\n\
             fi\n\
             note pass"
        ),
    );
    let toml = "[scheduler]\nmax_agents = 1\n\n[retry]\nbase = \"100ms\"\ncap = \"200ms\"\n\n\
                [profiles.coding]\nrole = \"coding\"\naccount = \"anthropic-main\"\n\
                command = [\"sh\", \"{project}/bin/claude\"]\n";
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    Store::open(p)
        .unwrap()
        .add_features(&[feature(1)], 0)
        .unwrap();
    let corral = Headless::start(p, "headless.out");
    let limit = Duration::from_secs(20);
    let hint = "account anthropic-main: breaker open: credentials refused; run `claude` and type /login, then press b";
    common::wait_for("the login hint", limit, || {
        corral.output().contains(hint).then_some(())
    });
    // An observation window, not a stand-in for a condition: a retry with a 100 ms base would
    // have started many times over by now if refused credentials were retried.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        journal(p).len(),
        2,
        "one run (start, fail), never retried by itself"
    );
    let job = sql(p, "SELECT state, attempts FROM jobs");
    assert_eq!(job, vec![vec!["queued", "0"]], "held, no attempt spent");

    // A restart does not forget it: the job stays held.
    drop(corral);
    let corral = Headless::start(p, "again.out");
    common::wait_for("the login hint again", limit, || {
        corral.output().contains(hint).then_some(())
    });
    // Again a window to see that nothing starts (a forgotten breaker starts it at once).
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(journal(p).len(), 2, "still held after a restart");

    let cli = |args: &[&str]| {
        let out = common::cli::corral(p).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (_, list) = cli(&["job", "list"]);
    assert!(
        list.contains("login needed (`corral breaker close anthropic-main`)"),
        "{list}"
    );
    let (_, retried) = cli(&["job", "retry", "1"]);
    assert!(
        retried.contains("it waits for the breaker of anthropic-main: open, credentials refused"),
        "{retried}"
    );
    let (_, breakers) = cli(&["breaker", "list"]);
    assert!(
        breakers.contains("anthropic-main: open, credentials refused"),
        "{breakers}"
    );

    // The person logs in and closes the breaker (here from another terminal, as a headless
    // user would): the held job runs and passes.
    std::fs::write(p.join("logged-in"), "").unwrap();
    assert_eq!(cli(&["breaker", "close", "anthropic-main"]).0, Some(0));
    common::wait_for("the feature to pass", limit, || {
        let passing = sql(p, "SELECT status FROM features") == vec![vec!["passing"]];
        passing.then_some(())
    });
    assert_eq!(journal(p).iter().filter(|e| e.0 == "start").count(), 2);
    drop(corral);
    let closed = sql(p, "SELECT state, until_ms FROM breakers");
    assert_eq!(closed, vec![vec!["closed", "NULL"]]);
}

#[test]
fn without_a_known_reset_the_breaker_rests_for_its_cooldown_then_one_probe_runs() {
    // For its first two seconds the service is overloaded (no Retry-After): every run started
    // then fails, whichever job it belongs to; later runs pass.
    let body = format!(
        "{NOTE}note start\n\
         now=$(date +%s%N)\n\
         [ -e \"$CORRAL_PROJECT/t0\" ] || echo \"$now\" > \"$CORRAL_PROJECT/t0\"\n\
         t0=$(cat \"$CORRAL_PROJECT/t0\")\n\
         if [ $((now - t0)) -lt 2000000000 ]; then\n\
           sleep 0.2\n\
           echo 'API Error: 529 {{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\"}}}}'\n\
           note fail; exit 1\n\
         fi\n\
         sleep 0.5\n\
         note pass"
    );
    let toml = "[scheduler]\nmax_agents = 3\n\n\
                [retry]\nbase = \"1s\"\ncap = \"1s\"\n\n\
                [breaker]\nthreshold = 3\ncooldown = \"4s\"\n\n\
                [profiles.coding]\nrole = \"coding\"\naccount = \"anthropic-main\"\n\
                command = [\"sh\", \"{project}/agent.sh\"]\n";
    let dir = project(3, toml, &body);
    let p = dir.path();
    let (code, out) = run_until_done(p);
    assert_eq!(code, Some(0), "{out}");
    let events = journal(p);
    let fails: Vec<i64> = events
        .iter()
        .filter(|e| e.0 == "fail")
        .map(|e| e.2)
        .collect();
    assert!(fails.len() >= 3, "{out}");
    // The third failure opened the breaker. A start within 100 ms of it may have been decided
    // before corral saw that failure; after that, nothing until the 4 s cooldown is over.
    let opened = fails[2];
    let later: Vec<&(String, i64, i64)> = events
        .iter()
        .filter(|e| e.0 == "start" && e.2 > opened + 100)
        .collect();
    assert!(!later.is_empty(), "{out}");
    let probe = later[0];
    assert!(
        probe.2 - opened >= 4_000,
        "a run started {} ms after the breaker opened:\n{out}",
        probe.2 - opened
    );
    let probe_end = events
        .iter()
        .filter(|e| e.1 == probe.1 && e.2 > probe.2 && e.0 != "start")
        .map(|e| e.2)
        .next()
        .unwrap();
    for other in &later[1..] {
        assert!(
            other.2 >= probe_end,
            "{other:?} started while the probe ran:\n{out}"
        );
    }
    assert!(
        out.contains("account anthropic-main: breaker open until"),
        "{out}"
    );
}
