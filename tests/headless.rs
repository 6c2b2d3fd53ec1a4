//! `corral run --headless --until-done` on a diamond and a chain, with agents that record when
//! each feature starts and ends: everything passes, in dependency order, never more than
//! `max_agents` at once, and a failing re-check sends its feature back to coding.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use common::write_script;
use corral::runtime::store::{NewFeature, Store};
use std::collections::HashMap;

fn feature(id: i64, deps: &[i64]) -> NewFeature {
    NewFeature {
        id: Some(id),
        category: "T".into(),
        name: format!("feature {id}"),
        description: String::new(),
        steps: vec![],
        priority: 0,
        dependencies: deps.to_vec(),
    }
}

/// `corral run --headless --until-done` in `p`, with no user config, a minute at most.
fn run_until_done(p: &std::path::Path) -> std::process::Output {
    cargo_bin_cmd!("corral")
        .current_dir(p)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .env("XDG_DATA_HOME", p.join(".xdg"))
        .args(["run", "--headless", "--until-done"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

/// (kind, feature, time in ns) from the agents' journal.
fn journal(dir: &std::path::Path) -> Vec<(String, i64, u128)> {
    std::fs::read_to_string(dir.join("journal"))
        .unwrap()
        .lines()
        .map(|l| {
            let p: Vec<&str> = l.split_whitespace().collect();
            (
                p[0].to_string(),
                p[1].parse().unwrap(),
                p[2].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_diamond_and_a_chain_run_to_done_in_order_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // One line per event, appended (O_APPEND writes of a short line do not interleave).
    write_script(
        &p.join("code.sh"),
        "echo \"start $CORRAL_FEATURE_ID $(date +%s%N)\" >> \"$CORRAL_PROJECT/journal\"\n\
         sleep 0.2\n\
         echo \"end $CORRAL_FEATURE_ID $(date +%s%N)\" >> \"$CORRAL_PROJECT/journal\"",
    );
    // The first re-check of feature 1 finds a regression; every other re-check passes.
    write_script(
        &p.join("test.sh"),
        "if [ \"$CORRAL_FEATURE_ID\" = 1 ] && [ ! -e \"$CORRAL_PROJECT/regressed\" ]; then\n\
           touch \"$CORRAL_PROJECT/regressed\"; exit 1\n\
         fi\nexit 0",
    );
    let toml = "[scheduler]\nmax_agents = 2\ntesting_agents = 1\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/code.sh\"]\n\n\
                [profiles.testing]\nrole = \"testing\"\ncommand = [\"sh\", \"{project}/test.sh\"]\n";
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    let backlog = [
        feature(1, &[]),
        feature(2, &[1]),
        feature(3, &[1]),
        feature(4, &[2, 3]),
        feature(5, &[]),
        feature(6, &[5]),
        feature(7, &[6]),
    ];
    Store::open(p).unwrap().add_features(&backlog, 0).unwrap();

    let out = run_until_done(p);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "until-done exits 0 when all pass:\n{stdout}"
    );
    assert!(stdout.contains("feature 4 feature 4: passing"), "{stdout}");

    let events = journal(p);
    let deps: HashMap<i64, Vec<i64>> = backlog
        .iter()
        .map(|f| (f.id.unwrap(), f.dependencies.clone()))
        .collect();
    // No feature started before each of its dependencies had finished once.
    for (kind, f, t) in &events {
        if kind == "start" {
            for d in &deps[f] {
                assert!(
                    events.iter().any(|(k, g, u)| k == "end" && g == d && u < t),
                    "feature {f} started before its dependency {d} finished"
                );
            }
        }
    }
    // Never more than max_agents coding agents at once.
    let mut sorted = events.clone();
    sorted.sort_by_key(|e| e.2);
    let (mut live, mut most) = (0i32, 0i32);
    for (kind, _, _) in &sorted {
        live += if kind == "start" { 1 } else { -1 };
        most = most.max(live);
    }
    assert!(most <= 2, "{most} coding agents ran at once");
    // Feature 1 was coded twice: once, and again after its re-check failed.
    let starts_of_1 = events
        .iter()
        .filter(|(k, f, _)| k == "start" && *f == 1)
        .count();
    assert_eq!(starts_of_1, 2, "{stdout}");
    assert!(p.join("regressed").exists());
    assert!(
        stdout.contains("testing #1: failed: exit 1")
            || stdout.contains("feature 1 feature 1: failing"),
        "{stdout}"
    );
}

#[test]
fn until_done_exits_non_zero_when_a_feature_failed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_script(&p.join("code.sh"), "[ \"$CORRAL_FEATURE_ID\" != 2 ]");
    let toml = "[scheduler]\nmax_attempts = 2\n\n[profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/code.sh\"]\n";
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    Store::open(p)
        .unwrap()
        .add_features(&[feature(1, &[]), feature(2, &[]), feature(3, &[2])], 0)
        .unwrap();
    let out = run_until_done(p);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("feature 2 feature 2: failed"), "{stdout}");
    assert!(stdout.contains("feature 1 feature 1: passing"), "{stdout}");
}

#[test]
fn the_initializer_fills_an_empty_backlog_and_the_work_follows() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let spec = r#"[
        {"name": "Schema", "description": "tables", "category": "DB", "steps": ["write it"]},
        {"name": "Queries", "description": "selects", "category": "DB", "steps": [], "dependencies": [1]}
    ]"#;
    std::fs::write(p.join("spec.json"), spec).unwrap();
    write_script(
        &p.join("init.sh"),
        "\"$CORRAL_BIN\" --project \"$CORRAL_PROJECT\" import \"$CORRAL_PROJECT/spec.json\"",
    );
    write_script(&p.join("code.sh"), "exit 0");
    let toml = format!(
        "[profiles.init]\nrole = \"initializer\"\ncommand = [\"sh\", \"{{project}}/init.sh\"]\nenv = {{ CORRAL_BIN = {:?} }}\n\n\
         [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{{project}}/code.sh\"]\n",
        env!("CARGO_BIN_EXE_corral")
    );
    std::fs::write(p.join("corral.toml"), toml).unwrap();
    Store::open(p).unwrap();
    let out = run_until_done(p);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("initializer (init)"), "{stdout}");
    assert!(stdout.contains("feature 2 Queries: passing"), "{stdout}");
}
