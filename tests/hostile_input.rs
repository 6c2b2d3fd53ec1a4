//! Hostile input through the real binary: ids at and past their limit, duplicate keys in an
//! import, features naming profiles that cannot run them, and configs that would make every
//! run fail at once. Each is refused with a sentence naming what is wrong, and changes nothing.

mod common;

use common::cli::{corral, db_bytes, json_of, ok, refused};
use std::path::Path;

/// A fresh project made by `corral init`, with a `careful` coding profile and a `checker`
/// testing profile besides the template's.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init"]);
    let toml = std::fs::read_to_string(dir.path().join("corral.toml")).unwrap();
    std::fs::write(
        dir.path().join("corral.toml"),
        format!(
            "{toml}\n[profiles.careful]\nrole = \"coding\"\ncommand = [\"true\"]\n\n\
             [profiles.checker]\nrole = \"testing\"\ncommand = [\"true\"]\n\n\
             [profiles.starter]\nrole = \"initializer\"\ncommand = [\"true\"]\n"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn ids_stay_positive_and_bounded_and_export_import_round_trips() {
    let dir = project();
    let p = dir.path();
    let before = db_bytes(p);
    let err = refused(
        p,
        &[
            "feature",
            "add",
            "--name",
            "Huge",
            "--id",
            "9223372036854775807",
        ],
    );
    assert!(
        err.contains("id: must be between 1 and 999999999, not 9223372036854775807"),
        "{err}"
    );
    assert_eq!(db_bytes(p), before, "a refusal wrote nothing");
    ok(
        p,
        &["feature", "add", "--name", "Last", "--id", "999999999"],
    );
    let err = refused(p, &["feature", "add", "--name", "Next"]);
    assert!(
        err.contains("new feature (\"Next\"): id: no id is left after 999999999"),
        "{err}"
    );
    ok(p, &["feature", "add", "--name", "Low", "--id", "1"]);
    let file = p.join("big.json");
    std::fs::write(
        &file,
        r#"[{"id": 9223372036854775807, "name": "X", "category": "", "description": "", "steps": []}]"#,
    )
    .unwrap();
    let err = refused(p, &["import", file.to_str().unwrap()]);
    assert!(
        err.contains("item 1 (\"X\"): id: must be between 1"),
        "{err}"
    );

    // What export writes, import takes back whole in a fresh project.
    let exported = ok(p, &["export"]);
    let other = project();
    let q = other.path();
    std::fs::write(q.join("backlog.json"), &exported).unwrap();
    ok(q, &["import", "backlog.json"]);
    assert_eq!(ok(q, &["export"]), exported);
    let ids: Vec<i64> = json_of(q, &["feature", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 999_999_999]);
}

/// Writes `text` to `dir/name` and returns its path as a string.
fn file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn an_import_repeating_a_key_is_refused_naming_item_and_key() {
    let dir = project();
    let p = dir.path();
    let before = db_bytes(p);
    let path = file(
        p,
        "dup.json",
        r#"[
  {"name": "Fine", "category": "", "description": "", "steps": []},
  {"name": "First", "category": "", "description": "", "steps": [], "name": "Second", "id": 5, "id": 6}
]"#,
    );
    let err = refused(p, &["import", &path]);
    assert!(err.contains("2 problems"), "{err}");
    assert!(
        err.contains("item 2 (\"Second\"): name: given more than once in this item: keep one"),
        "{err}"
    );
    assert!(
        err.contains("item 2 (\"Second\"): id: given more than once"),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(db_bytes(p), before);
}

#[test]
fn a_feature_may_only_name_a_coding_or_testing_profile_of_corral_toml() {
    let dir = project();
    let p = dir.path();
    let before = db_bytes(p);
    let err = refused(p, &["feature", "add", "--name", "A", "--profile", "carful"]);
    assert!(
        err.contains("new feature (\"A\"): profile: no profile \"carful\" in corral.toml (coding and testing profiles: careful, checker, coding"),
        "{err}"
    );
    let err = refused(
        p,
        &["feature", "add", "--name", "A", "--profile", "starter"],
    );
    assert!(
        err.contains("profile \"starter\" has role initializer, and a feature runs with a coding or testing profile"),
        "{err}"
    );
    let path = file(
        p,
        "profiles.json",
        r#"[{"name": "B", "category": "", "description": "", "steps": [], "profile": "nope"}]"#,
    );
    let err = refused(p, &["import", &path]);
    assert!(
        err.contains("item 1 (\"B\"): profile: no profile \"nope\""),
        "{err}"
    );
    assert_eq!(db_bytes(p), before);
    ok(
        p,
        &["feature", "add", "--name", "A", "--profile", "careful"],
    );
    ok(
        p,
        &["feature", "add", "--name", "T", "--profile", "checker"],
    );
    let err = refused(p, &["feature", "edit", "1", "--profile", "gone"]);
    assert!(
        err.contains("feature 1 (\"A\"): profile: no profile \"gone\""),
        "{err}"
    );
    // "" still clears it.
    ok(p, &["feature", "edit", "1", "--profile", ""]);
    assert!(json_of(p, &["feature", "show", "1", "--json"])["profile"].is_null());
}

#[test]
fn a_feature_whose_profile_left_corral_toml_runs_the_default_and_says_so() {
    let dir = project();
    let p = dir.path();
    ok(
        p,
        &["feature", "add", "--name", "A", "--profile", "careful"],
    );
    // corral.toml loses the profile afterwards.
    std::fs::write(
        p.join("corral.toml"),
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"true\"]\n",
    )
    .unwrap();
    let out = corral(p)
        .args(["run", "--headless", "--until-done"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "notice: feature 1 names profile \"careful\", which is not an enabled coding or \
             testing profile in corral.toml: it runs with \"coding\""
        ),
        "{text}"
    );
}

#[test]
fn configs_that_would_run_nothing_or_fail_every_run_are_refused_by_name() {
    let dir = project();
    let p = dir.path();
    let cases = [
        (
            "",
            "corral.toml: profiles: no profile, so corral has no agent to run",
        ),
        (
            "[scheduler]\nmax_attempts = 0\n\n[profiles.coding]\nrole = \"coding\"\ncommand = [\"true\"]\n",
            "corral.toml:2: scheduler.max_attempts: must be at least 1, got 0",
        ),
        (
            "[profiles.coding]\nrole = \"coding\"\ncommand = [\"true\"]\ntimeout = \"0s\"\n",
            "corral.toml:4: profiles.coding.timeout: must be longer than zero",
        ),
    ];
    for (toml, want) in cases {
        std::fs::write(p.join("corral.toml"), toml).unwrap();
        let before = db_bytes(p);
        for args in [
            &["run", "--headless"][..],
            &["feature", "add", "--name", "x"],
        ] {
            let err = refused(p, args);
            assert!(err.contains(want), "{toml:?} {args:?}: {err}");
        }
        assert_eq!(db_bytes(p), before);
    }
}
