//! `corral run --headless --until-done` when what is left needs a person: agents that print
//! the real CLIs' messages for missing credentials (tests/fixtures/agents/) are held for a
//! login, the run says so and exits 1, with the agents' own words as the last error, and a
//! closing line that names failed features and what a restart cleaned up.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use common::write_script;
use corral::runtime::store::Store;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/agents")
        .join(name)
}

fn until_done(p: &Path) -> (Option<i32>, String) {
    let out = cargo_bin_cmd!("corral")
        .current_dir(p)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .env("XDG_DATA_HOME", p.join(".xdg"))
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// A project of three features whose agent, named like the real tool (`bin/<tool>`), prints
/// `fixture` to `stream` and exits `code`.
fn project(tool: &str, fixture_name: &str, stream: &str, code: i32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir(p.join("bin")).unwrap();
    let redirect = if stream == "stderr" { " >&2" } else { "" };
    write_script(
        &p.join("bin").join(tool),
        &format!(
            "cat '{}'{redirect}\nexit {code}",
            fixture(fixture_name).display()
        ),
    );
    let toml = format!(
        "[scheduler]\nmax_agents = 1\nmax_attempts = 1\n\n\
         [profiles.{tool}]\nrole = \"coding\"\ncommand = [\"{}\"]\n",
        p.join("bin").join(tool).display()
    );
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    Store::open(p)
        .unwrap()
        .add_features(
            &[
                common::feature(1, &[]),
                common::feature(2, &[]),
                common::feature(3, &[]),
            ],
            0,
        )
        .unwrap();
    dir
}

#[test]
fn refused_credentials_end_until_done_with_exit_1_saying_what_it_waits_for() {
    let cases = [
        (
            "claude",
            "claude-2.1.197-not-logged-in.stream-json",
            "stdout",
            1,
            "Not logged in · Please run /login",
            "run `claude` and type /login",
        ),
        (
            "gemini",
            "gemini-0.61.0-no-auth.stderr",
            "stderr",
            41,
            "Please set an Auth method in your /home/user/.gemini/settings.json",
            "run `gemini` and sign in",
        ),
        (
            "codex",
            "codex-0.171.0-unauthorized.stderr",
            "stderr",
            1,
            "ERROR: unexpected status 401 Unauthorized: Missing bearer or basic authentication",
            "run `codex login`",
        ),
    ];
    for (tool, fixture_name, stream, code, words, hint) in cases {
        let dir = project(tool, fixture_name, stream, code);
        let (exit, out) = until_done(dir.path());
        assert_eq!(
            exit,
            Some(1),
            "{tool}: exits 1 once only a person can help:\n{out}"
        );
        assert!(
            out.contains(&format!(
                "corral: nothing more can run without you: features 1, 2, 3 wait for a login on account {tool}: {hint}"
            )),
            "{tool}: says what it waits for:\n{out}"
        );
        assert!(
            out.contains(&format!("then `corral breaker close {tool}`")),
            "{out}"
        );
        assert!(
            out.lines().any(|l| l.contains(&format!("queued: {words}"))
                && l.contains(&format!(" — credentials refused, exit {code}"))),
            "{tool}: the last error is the tool's own words:\n{out}"
        );
        let closing = out
            .lines()
            .find(|l| l.contains("corral: finished:"))
            .unwrap_or_else(|| panic!("{tool}: no closing line:\n{out}"));
        assert!(
            closing.ends_with(&format!(
                "corral: finished: 0/3 features passing; waiting: #1, #2, #3 (login on {tool})"
            )),
            "{tool}: {closing}"
        );
    }
}

#[test]
fn a_usage_report_before_the_error_never_becomes_the_last_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_script(
        &p.join("agent.sh"),
        "echo 'compiling'\n\
         echo 'corral-usage: {\"input_tokens\":1200,\"output_tokens\":3400,\"cost_usd\":0.12}'\n\
         echo 'error: could not compile project: mismatched types'\nexit 1",
    );
    std::fs::write(
        p.join("corral.toml"),
        "[scheduler]\nmax_attempts = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
         command = [\"sh\", \"{project}/agent.sh\"]\nsuccess = \"report\"\n",
    )
    .unwrap();
    Store::open(p)
        .unwrap()
        .add_features(&[common::feature(1, &[])], 0)
        .unwrap();
    let (exit, out) = until_done(p);
    assert_eq!(exit, Some(1), "{out}");
    assert!(
        out.contains(
            "job 1 coding #1: failed: error: could not compile project: mismatched types — exit 1 without reporting pass or fail"
        )
            || out.contains("job 1 coding #1: failed: error: could not compile project: mismatched types — exit 1"),
        "{out}"
    );
    assert!(
        out.contains("corral: finished: 0/1 features passing; failed: #1 feature 1"),
        "{out}"
    );
}

#[test]
fn after_a_crash_the_closing_line_names_the_runs_recorded_lost_and_the_leftovers_killed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // The first run hangs (and outlives a corral killed with SIGKILL); later runs pass.
    write_script(
        &p.join("agent.sh"),
        "if [ ! -e \"$CORRAL_PROJECT/first\" ]; then\n\
           echo $$ > \"$CORRAL_PROJECT/first\"; exec sleep 600\n\
         fi\nexit 0",
    );
    std::fs::write(
        p.join("corral.toml"),
        // A script goes on after a crash without waiting for a person.
        "[scheduler]\nresume_after_crash = true\n\n\
         [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n",
    )
    .unwrap();
    Store::open(p)
        .unwrap()
        .add_features(&[common::feature(1, &[])], 0)
        .unwrap();
    let mut first = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .current_dir(p)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .env("XDG_DATA_HOME", p.join(".xdg"))
        .args(["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid: i32 = common::wait_for("the first agent", Duration::from_secs(20), || {
        std::fs::read_to_string(p.join("first"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
    });
    // Give the runtime time to record the run's pid (it does so right after the spawn).
    common::wait_for("the run recorded live", Duration::from_secs(10), || {
        let conn = rusqlite::Connection::open(p.join(".corral/corral.db")).ok()?;
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM runs WHERE status = 'running' AND pid IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .ok()?;
        (n == 1).then_some(())
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let leftover = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();

    let (exit, out) = until_done(p);
    assert_eq!(exit, Some(0), "{out}");
    assert!(
        out.contains("corral: run(s) 1 of an earlier corral recorded lost"),
        "{out}"
    );
    let closing = out
        .lines()
        .find(|l| l.contains("corral: finished:"))
        .unwrap_or_else(|| panic!("no closing line:\n{out}"));
    assert!(
        closing.contains("1/1 features passing; run(s) 1 of an earlier corral recorded lost"),
        "{closing}"
    );
    if leftover {
        assert!(
            closing.contains("leftover processes of run(s) 1 killed"),
            "{closing}"
        );
    }
    common::wait_for("the leftover agent gone", Duration::from_secs(10), || {
        let alive =
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
        (!alive).then_some(())
    });
}

/// An agent that prints Codex's real no-network retries and then hangs until its timeout:
/// each run is a failed attempt (never a transient backoff), so the feature fails after
/// `max_attempts` runs instead of looping for hours.
#[test]
fn a_run_that_times_out_retrying_the_network_spends_an_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_script(
        &p.join("agent.sh"),
        &format!(
            "cat '{}' >&2\nexec sleep 600",
            fixture("codex-0.171.0-no-network.stderr").display()
        ),
    );
    std::fs::write(
        p.join("corral.toml"),
        "[scheduler]\nmax_attempts = 2\n\n[retry]\nbase = \"100ms\"\ncap = \"200ms\"\n\n\
         [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n\
         timeout = \"1s\"\ngrace = \"1s\"\n",
    )
    .unwrap();
    Store::open(p)
        .unwrap()
        .add_features(&[common::feature(1, &[])], 0)
        .unwrap();
    let (exit, out) = until_done(p);
    assert_eq!(exit, Some(1), "{out}");
    assert!(
        !out.contains("backoff"),
        "never retried as transient:\n{out}"
    );
    assert!(
        out.contains("job 1 coding #1: running (attempt 2/2)"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("job 1 coding #1: failed: ") && l.ends_with(" — timed_out")),
        "the tool's words, then how the run ended:\n{out}"
    );
    assert!(
        out.contains("corral: finished: 0/1 features passing; failed: #1 feature 1"),
        "{out}"
    );
}
