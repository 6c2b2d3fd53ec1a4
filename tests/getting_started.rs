//! A new user's first steps on the real binary: `corral init` in a git repository with corral
//! not yet on PATH, shell completions and the man page.

mod common;

use common::cli::{Headless, corral, ok, stderr, stdout};
use common::wait_for;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs git in `dir` with no user or system config, returning stdout; asserts success.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args(args)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn init_leaves_corral_state_out_of_git() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    git(p, &["init", "-q"]);
    ok(p, &["init"]);
    let ignore = std::fs::read_to_string(p.join(".corral/.gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "*"), "{ignore}");
    assert_eq!(git(p, &["status", "--porcelain"]), "?? corral.toml\n");
    // Once used (a feature, a database, a run directory), still nothing of it shows.
    ok(p, &["feature", "add", "--name", "First"]);
    git(p, &["add", "-A"]);
    assert_eq!(git(p, &["ls-files"]), "corral.toml\n");
}

#[test]
fn the_example_profile_runs_before_corral_is_on_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for d in path.split(':') {
        assert!(
            !Path::new(d).join("corral").exists(),
            "a corral in {d} would hide the problem"
        );
    }
    ok(p, &["init"]);
    let toml = std::fs::read_to_string(p.join("corral.toml")).unwrap();
    let exe = env!("CARGO_BIN_EXE_corral");
    assert!(
        toml.contains(&format!("command = [\"{exe}\", \"demo-agent\"")),
        "{toml}"
    );
    assert!(toml.contains("so this example works\n# before corral is on PATH"));
    ok(p, &["feature", "add", "--name", "First"]);
    let _headless = Headless::start_with_env(p, "headless.out", &[("PATH", path)]);
    // The demo agent's first lines reach the run's log: it was found and started.
    let log = p.join(".corral/runs/1.log");
    wait_for("the demo agent's output", Duration::from_secs(20), || {
        let text = std::fs::read_to_string(&log).ok()?;
        text.contains("demo-agent").then_some(())
    });
    let status = common::cli::json_of(p, &["status", "--json"]);
    let run = &status["runs"][0];
    assert_ne!(run["status"], "spawn_failed", "{run}");
}

#[test]
fn completions_are_generated_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(p, &["completions", shell]);
        for sub in [
            "init", "status", "feature", "job", "breaker", "import", "man",
        ] {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
        // A global option and the values of `feature list --status` are offered too.
        assert!(script.contains("project"), "{shell}: no --project");
        assert!(script.contains("in_progress"), "{shell}: no status words");
        assert!(!script.contains("demo-agent"), "{shell}: the hidden agent");
    }
    // bash accepts the script, and sourcing it registers the completion.
    let script = dir.path().join("corral.bash");
    std::fs::write(&script, ok(p, &["completions", "bash"])).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "bash -n: {}", stderr(&check));
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p corral", script.display()))
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert!(stdout(&loaded).contains("corral"), "{}", stdout(&loaded));
    let out = corral(p).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bash"), "{}", stderr(&out));
}

#[test]
fn the_man_page_is_roff_and_names_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let page = ok(p, &["man"]);
    assert!(page.contains(".TH corral 1"), "{page}");
    assert!(page.contains(".SH SYNOPSIS") && page.contains(".SH SUBCOMMANDS"));
    for sub in [
        "init",
        "run",
        "status",
        "feature",
        "job",
        "import",
        "completions",
    ] {
        assert!(page.contains(&format!("corral\\-{sub}(1)")), "no {sub}");
    }
    assert!(!page.contains("demo\\-agent"), "the hidden agent");
    let retry = ok(p, &["man", "job", "retry"]);
    assert!(retry.contains(".TH corral-job-retry 1"), "{retry}");
    assert!(retry.contains("fresh attempts"), "{retry}");
    let out = corral(p).args(["man", "job", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no subcommand `corral job nope`"),
        "{}",
        stderr(&out)
    );
}
