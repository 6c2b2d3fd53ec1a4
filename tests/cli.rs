//! The real binary: entry points, errors a new user meets, `status --json`, the demo agent.

use assert_cmd::cargo::cargo_bin_cmd;
use std::path::Path;

/// The binary with no user config and a private data dir, run in `dir`.
fn corral(dir: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("corral");
    cmd.current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".xdg-config"))
        .env("XDG_DATA_HOME", dir.join(".xdg-data"))
        .env_remove("NO_COLOR");
    cmd
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn no_config_is_a_clear_error_with_the_init_hint_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = corral(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("no corral.toml in") && err.contains("corral init"),
        "{err}"
    );
    assert!(!dir.path().join(".corral").exists());
}

#[test]
fn a_broken_config_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[scheduler]\nmax_agents = 2\n\n[profiles.coding]\nrole = \"coding\"\ncommand = [\"x\"]\ntimeout = \"soon\"\n";
    std::fs::write(dir.path().join("corral.toml"), toml).unwrap();
    let out = corral(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("corral.toml:7: profiles.coding.timeout: expected a duration like \"30m\"")
            && err.contains("hint: ")
            && err.contains("corral init --force"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    assert!(
        !dir.path().join(".corral").exists(),
        "a bad config changes nothing"
    );
}

#[test]
fn init_writes_a_working_config_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = corral(dir.path()).arg("init").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = std::fs::read_to_string(dir.path().join("corral.toml")).unwrap();
    assert!(text.contains("[profiles.coding]"));
    assert!(corral::config::Config::load_with_user(dir.path(), None).is_ok());
    assert!(dir.path().join(".corral/corral.db").exists());
    let again = corral(dir.path()).arg("init").output().unwrap();
    assert!(again.status.success(), "{}", stderr_of(&again));
    assert!(String::from_utf8_lossy(&again.stdout).contains("is there already"));
    assert!(
        corral(dir.path())
            .args(["init", "--force"])
            .output()
            .unwrap()
            .status
            .success()
    );
}

#[test]
fn init_keeps_the_users_corral_toml_and_makes_the_state_and_force_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let mine =
        "# mine\n[profiles.agent]\nrole = \"coding\"\ncommand = [\"sh\", \"-c\", \"exit 0\"]\n";
    std::fs::write(p.join("corral.toml"), mine).unwrap();
    let out = corral(p).arg("init").output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", stderr_of(&out));
    assert_eq!(
        std::fs::read_to_string(p.join("corral.toml")).unwrap(),
        mine
    );
    assert!(said.contains("kept the existing"), "{said}");
    assert!(said.contains("--force"), "says how to overwrite: {said}");
    assert!(said.contains("created"), "{said}");
    assert!(p.join(".corral/corral.db").exists());
    assert!(p.join(".corral/.gitignore").exists());
    // The state is usable: a feature can be added right away.
    let add = corral(p)
        .args(["feature", "add", "--name", "First"])
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", stderr_of(&add));
    // --force writes the commented example over it, and keeps the backlog.
    let out = corral(p).args(["init", "--force"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let text = std::fs::read_to_string(p.join("corral.toml")).unwrap();
    assert!(!text.contains("# mine") && text.contains("[profiles.coding]"));
    let list = corral(p).args(["feature", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("First"));
}

#[test]
fn status_json_reads_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_corral"));
    corral::demo::create_demo_project(dir.path(), exe).unwrap();
    let out = corral(dir.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), corral::demo::backlog::demo_backlog().len());
    // Nothing has run: features without dependencies are ready, the others blocked.
    for f in features {
        let want = if f["dependencies"].as_array().unwrap().is_empty() {
            "ready"
        } else {
            "blocked"
        };
        assert_eq!(f["status"], want, "{f}");
    }
    assert!(
        features
            .iter()
            .any(|f| !f["dependencies"].as_array().unwrap().is_empty())
    );
    assert_eq!(v["runs"].as_array().unwrap().len(), 0);
    // Creating a demo twice in one place is refused rather than overwriting it.
    assert!(corral::demo::create_demo_project(dir.path(), exe).is_err());
}

#[test]
fn status_without_state_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = corral(dir.path())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("corral init"));
}

#[test]
fn the_demo_agent_is_deterministic_for_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str| {
        corral(dir.path())
            .args([
                "demo-agent",
                "--feature",
                "4",
                "--name",
                "Cart totals",
                "--seed",
                seed,
                "--pace",
                "0.001",
            ])
            .output()
            .unwrap()
    };
    let (a, b) = (run("7"), run("7"));
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stderr, b.stderr);
    assert_eq!(a.status.code(), b.status.code());
    assert!(
        String::from_utf8_lossy(&a.stdout).contains("\x1b["),
        "output is coloured"
    );
    let codes: std::collections::HashSet<_> =
        (0..12).map(|s| run(&s.to_string()).status.code()).collect();
    assert!(
        codes.contains(&Some(0)) && codes.len() > 1,
        "mostly passes, sometimes fails: {codes:?}"
    );
}

#[test]
fn without_a_terminal_nothing_starts_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let toml = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"sleep\", \"300\"]\n";
    std::fs::write(dir.path().join("corral.toml"), toml).unwrap();
    // assert_cmd gives the child pipes, never a terminal.
    let out = corral(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(
        err.contains("`corral run --headless`") && err.contains("`corral status`"),
        "both ways on without a terminal: {err}"
    );
    assert!(
        !dir.path().join(".corral").exists(),
        "no state, so no agent was started"
    );
}

#[test]
fn status_with_a_broken_corral_toml_shows_the_state_and_fails_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let exe = Path::new(env!("CARGO_BIN_EXE_corral"));
    corral::demo::create_demo_project(dir.path(), exe).unwrap();
    let toml = dir.path().join("corral.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    // The demo's max_agents given the wrong type.
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("max_agents = "))
        .unwrap_or_else(|| panic!("{text}"));
    let text: String = text
        .lines()
        .map(|l| match l.starts_with("max_agents = ") {
            true => "max_agents = \"three\"\n".to_string(),
            false => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&toml, &text).unwrap();
    for json in [false, true] {
        let args: &[&str] = if json {
            &["status", "--json"]
        } else {
            &["status"]
        };
        let out = corral(dir.path()).args(args).output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), stderr_of(&out));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!("corral.toml:{line}")),
            "{args:?}: names the file and line: {stderr}"
        );
        assert!(
            stderr.contains("the status above is the database's alone"),
            "{stderr}"
        );
        if json {
            let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert!(v["features"].as_array().is_some_and(|f| !f.is_empty()));
            assert!(
                v["config_error"]
                    .as_str()
                    .is_some_and(|e| e.contains("corral.toml:")),
                "{v}"
            );
        } else {
            assert!(stdout.contains("features passing"), "{stdout}");
        }
    }
}
