//! The backlog commands on the real binary: `corral feature ...`, `corral import`, `corral export`.

mod common;

use common::cli::{corral, db_bytes, json_of, ok, refused, stderr};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A fresh project made by `corral init`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = corral(dir.path()).arg("init").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

fn item(name: &str, deps: &[i64]) -> Value {
    json!({"name": name, "category": "Shop", "description": "d", "steps": ["one"], "dependencies": deps})
}

#[test]
fn add_list_show_edit_round_trip() {
    let dir = project();
    let p = dir.path();
    assert_eq!(
        ok(
            p,
            &[
                "feature",
                "add",
                "--name",
                "Product catalog",
                "--category",
                "Catalog",
                "--step",
                "list",
                "--step",
                "detail"
            ]
        )
        .trim(),
        "added feature 1 (\"Product catalog\")"
    );
    ok(
        p,
        &[
            "feature",
            "add",
            "--name",
            "Shopping cart",
            "--dep",
            "1",
            "--priority",
            "-2",
        ],
    );
    ok(
        p,
        &[
            "feature",
            "add",
            "--name",
            "Checkout",
            "--dep",
            "2",
            "--id",
            "10",
            "--description",
            "pay",
        ],
    );
    let list = ok(p, &["feature", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert!(
        lines[0].starts_with("ID  STATUS   CATEGORY  NAME"),
        "{list}"
    );
    assert!(
        lines[1].starts_with("1   ready    Catalog   Product catalog"),
        "{list}"
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["2", "blocked", "Shopping", "cart", "1", "0"],
        "{list}"
    );
    assert!(lines[3].starts_with("10  blocked"), "{list}");
    let all = json_of(p, &["feature", "list", "--json"]);
    assert_eq!(all.as_array().unwrap().len(), 3);
    assert_eq!(all[1]["priority"], -2);
    assert_eq!(all[1]["blocked_by"], json!([1]));
    assert_eq!(all[0]["dependents"], json!([2]));
    assert_eq!(all[0]["steps"], json!(["list", "detail"]));
    let ready = json_of(p, &["feature", "list", "--status", "ready", "--json"]);
    assert_eq!(ready.as_array().unwrap().len(), 1);
    let pending = json_of(p, &["feature", "list", "--status", "pending", "--json"]);
    assert_eq!(pending.as_array().unwrap().len(), 3);

    ok(
        p,
        &[
            "feature",
            "edit",
            "10",
            "--name",
            "Checkout flow",
            "--step",
            "a",
            "--add-dep",
            "1",
            "--priority",
            "5",
        ],
    );
    let f = json_of(p, &["feature", "show", "10", "--json"]);
    assert_eq!(f["name"], "Checkout flow");
    assert_eq!(f["steps"], json!(["a"]));
    assert_eq!(f["dependencies"], json!([1, 2]));
    assert_eq!(f["priority"], 5);
    assert_eq!(f["description"], "pay", "fields not given stay");
    ok(p, &["feature", "edit", "10", "--rm-dep", "2"]);
    assert_eq!(
        json_of(p, &["feature", "show", "10", "--json"])["dependencies"],
        json!([1])
    );
    ok(p, &["feature", "edit", "10", "--dep", "2"]);
    assert_eq!(
        json_of(p, &["feature", "show", "10", "--json"])["dependencies"],
        json!([2])
    );
    ok(p, &["feature", "edit", "10", "--no-deps", "--no-steps"]);
    let f = json_of(p, &["feature", "show", "10", "--json"]);
    assert_eq!(
        (f["dependencies"].clone(), f["steps"].clone()),
        (json!([]), json!([]))
    );
    let shown = ok(p, &["feature", "show", "2"]);
    assert!(
        shown.starts_with("feature 2: Shopping cart\nstatus:       blocked (waiting for 1)"),
        "{shown}"
    );
    assert!(
        shown.contains("depends on:   1 (\"Product catalog\", ready)"),
        "{shown}"
    );

    assert!(refused(p, &["feature", "show", "99"]).contains("no feature 99"));
    assert!(refused(p, &["feature", "edit", "2"]).contains("nothing to change"));
    assert!(
        refused(p, &["feature", "edit", "2", "--rm-dep", "10"]).contains("does not depend on 10")
    );
    assert!(
        refused(p, &["feature", "edit", "2", "--name", ""]).contains("name: must not be empty")
    );
    let err = refused(p, &["feature", "add", "--name", "Orders", "--dep", "42"]);
    assert!(
        err.contains("new feature (\"Orders\"): dependencies: unknown feature 42"),
        "{err}"
    );
    assert!(
        refused(p, &["feature", "add", "--name", "Again", "--id", "10"])
            .contains("duplicate id 10")
    );
    assert!(
        !stderr(
            &corral(p)
                .args(["feature", "list", "--status", "nope"])
                .output()
                .unwrap()
        )
        .is_empty()
    );
}

#[test]
fn the_name_may_be_given_without_the_flag_but_not_twice_or_never() {
    let dir = project();
    let p = dir.path();
    assert_eq!(
        ok(p, &["feature", "add", "Login form"]),
        "added feature 1 (\"Login form\")\n"
    );
    assert_eq!(
        ok(p, &["feature", "add", "--name", "Cart"]),
        "added feature 2 (\"Cart\")\n"
    );
    let before = db_bytes(p);
    let twice = refused(p, &["feature", "add", "A", "--name", "B"]);
    assert!(twice.contains("cannot be used with"), "{twice}");
    let never = refused(p, &["feature", "add"]);
    assert!(never.contains("<NAME>"), "{never}");
    assert_eq!(db_bytes(p), before, "a refused add changes nothing");
}

#[test]
fn an_edit_that_closes_a_cycle_is_refused_and_changes_nothing() {
    let dir = project();
    let p = dir.path();
    for (name, dep) in [("A", None), ("B", Some("1")), ("C", Some("2"))] {
        let mut args = vec!["feature", "add", "--name", name];
        args.extend(dep.map(|d| ["--dep", d]).iter().flatten());
        ok(p, &args);
    }
    let before = db_bytes(p);
    let err = refused(
        p,
        &["feature", "edit", "1", "--add-dep", "3", "--name", "A2"],
    );
    assert!(
        err.contains("feature 1 (\"A2\"): dependencies: cycle: 1 -> 3 -> 2 -> 1"),
        "{err}"
    );
    assert!(refused(p, &["feature", "edit", "1", "--dep", "1"]).contains("depends on itself"));
    assert_eq!(db_bytes(p), before);
    assert_eq!(json_of(p, &["feature", "show", "1", "--json"])["name"], "A");
}

#[test]
fn rm_refuses_while_others_depend_unless_forced() {
    let dir = project();
    let p = dir.path();
    ok(p, &["feature", "add", "--name", "Base"]);
    ok(p, &["feature", "add", "--name", "Uses base", "--dep", "1"]);
    ok(
        p,
        &[
            "feature", "add", "--name", "Also", "--dep", "1", "--dep", "2",
        ],
    );
    let before = db_bytes(p);
    let err = refused(p, &["feature", "rm", "1"]);
    assert!(
        err.contains("feature 1 (\"Base\") is a dependency of 2 (\"Uses base\"), 3 (\"Also\")"),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert_eq!(db_bytes(p), before);
    let out = ok(p, &["feature", "rm", "1", "--force"]);
    assert!(
        out.contains("removed feature 1 (\"Base\") and the dependencies of 2"),
        "{out}"
    );
    let all = json_of(p, &["feature", "list", "--json"]);
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![2, 3]);
    assert_eq!(all[1]["dependencies"], json!([2]));
    ok(p, &["feature", "rm", "3"]);
    assert!(refused(p, &["feature", "rm", "3"]).contains("no feature 3"));
}

#[test]
fn pass_fail_requeue_and_run_reports() {
    let dir = project();
    let p = dir.path();
    ok(p, &["feature", "add", "--name", "Login"]);
    ok(p, &["feature", "add", "--name", "Logout", "--dep", "1"]);
    assert_eq!(
        ok(p, &["feature", "pass", "1"]).trim(),
        "feature 1 (\"Login\") passing"
    );
    assert_eq!(
        json_of(p, &["feature", "show", "2", "--json"])["status"],
        "ready"
    );
    let out = ok(p, &["feature", "fail", "1", "--reason", "tests red"]);
    assert_eq!(out.trim(), "feature 1 (\"Login\") failing: \"tests red\"");
    let f = json_of(p, &["feature", "show", "1", "--json"]);
    assert_eq!(
        (f["status"].clone(), f["last_error"].clone()),
        (json!("failing"), json!("tests red"))
    );
    assert_eq!(f["reports"], json!([]), "a person's decision is no report");
    assert_eq!(
        json_of(p, &["feature", "list", "--status", "failing", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A run of feature 1 reports; a run of another feature may not.
    let run = {
        let mut store = corral::runtime::store::Store::open(p).unwrap();
        let runs = p.join(".corral/runs");
        let (_, run, _) = store
            .begin_job_and_run(
                "coding",
                corral::api::Role::Coding,
                Some(corral::api::FeatureId(1)),
                &runs,
                1,
            )
            .unwrap();
        run.0.to_string()
    };
    let out = ok(p, &["feature", "pass", "1", "--run", &run]);
    assert_eq!(
        out.trim(),
        format!("feature 1 (\"Login\") passing (reported by run {run})")
    );
    ok(
        p,
        &["feature", "fail", "1", "--run", &run, "--reason", "flaky"],
    );
    let f = json_of(p, &["feature", "show", "1", "--json"]);
    let reports = f["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["run_id"].to_string(), run);
    assert_eq!(
        (reports[0]["passed"].clone(), reports[1]["passed"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(reports[1]["reason"], "flaky");
    assert!(ok(p, &["feature", "show", "1"]).contains(&format!("run {run} failed: flaky")));
    assert!(
        refused(p, &["feature", "pass", "2", "--run", &run])
            .contains(&format!("run {run} works on feature 1, not on 2"))
    );
    assert!(refused(p, &["feature", "pass", "1", "--run", "999"]).contains("no run 999"));

    let conn = rusqlite::Connection::open(p.join(".corral/corral.db")).unwrap();
    conn.execute(
        "UPDATE features SET status = 'failed', attempts = 3 WHERE id = 1",
        [],
    )
    .unwrap();
    drop(conn);
    assert_eq!(
        ok(p, &["feature", "requeue", "1"]).trim(),
        "feature 1 (\"Login\") requeued: ready, attempts 0"
    );
    let f = json_of(p, &["feature", "show", "1", "--json"]);
    assert_eq!(
        (
            f["status"].clone(),
            f["attempts"].clone(),
            f["last_error"].clone()
        ),
        (json!("ready"), json!(0), Value::Null)
    );
    assert!(refused(p, &["feature", "requeue", "7"]).contains("no feature 7"));
}

#[test]
fn show_says_what_the_features_runs_spent() {
    use corral::api::{FeatureId, Role, Usage};
    let dir = project();
    let p = dir.path();
    ok(p, &["feature", "add", "--name", "Login"]);
    ok(p, &["feature", "add", "--name", "Logout"]);
    // Nothing spent yet: no line, and a zero usage in the JSON.
    assert!(!ok(p, &["feature", "show", "1"]).contains("spent"));
    let usage = &json_of(p, &["feature", "show", "1", "--json"])["usage"];
    assert_eq!(usage["input_tokens"], 0);
    assert_eq!(usage["cost_micros"], Value::Null);
    {
        let mut store = corral::runtime::store::Store::open(p).unwrap();
        let runs = p.join(".corral/runs");
        let spend = Usage {
            input_tokens: 1_200,
            output_tokens: 3_400,
            cache_read_tokens: 50_000,
            cache_write_tokens: 8_000,
            cost_micros: Some(123_400),
        };
        // Two runs of feature 1 and one of feature 2, which is not counted for 1.
        for feature in [1, 1, 2] {
            let (_, run, _) = store
                .begin_job_and_run("coding", Role::Coding, Some(FeatureId(feature)), &runs, 1)
                .unwrap();
            store.save_run_usage(run, &spend).unwrap();
        }
    }
    let text = ok(p, &["feature", "show", "1"]);
    assert!(
        text.contains("spent:        $0.2468 · 125k tokens"),
        "{text}"
    );
    let usage = &json_of(p, &["feature", "show", "1", "--json"])["usage"];
    assert_eq!(
        (
            usage["input_tokens"].clone(),
            usage["output_tokens"].clone(),
            usage["cache_read_tokens"].clone(),
            usage["cache_write_tokens"].clone(),
            usage["cost_micros"].clone()
        ),
        (
            json!(2_400),
            json!(6_800),
            json!(100_000),
            json!(16_000),
            json!(246_800)
        )
    );
    assert_eq!(
        json_of(p, &["feature", "show", "2", "--json"])["usage"]["cost_micros"],
        123_400
    );
}

#[test]
fn import_export_round_trips_into_an_empty_project() {
    let dir = project();
    let p = dir.path();
    let file = write_json(
        p,
        "backlog.json",
        &json!([
            item("Catalog", &[]),
            {"id": 7, "name": "Cart", "category": "Shop", "description": "d", "steps": [], "priority": 2, "dependencies": [8]},
            item("Checkout", &[7, 8]),
        ]),
    );
    assert_eq!(
        ok(p, &["import", file.to_str().unwrap()]).trim(),
        "imported 3 features (ids 7..9)"
    );
    let ids: Vec<i64> = json_of(p, &["feature", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![7, 8, 9],
        "ids given are kept, the rest follow the highest"
    );
    ok(
        p,
        &[
            "feature",
            "add",
            "--name",
            "Extra $(x)",
            "--dep",
            "8",
            "--step",
            "s",
        ],
    );
    let exported = ok(p, &["export"]);
    assert_eq!(ok(p, &["export", "--json"]), exported);

    let other = project();
    let out = corral(other.path())
        .args(["import", "-"])
        .write_stdin(exported.clone())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ok(other.path(), &["export"]), exported);
    // Importing it again clashes on every id and adds nothing.
    let before = db_bytes(other.path());
    let err = corral(other.path())
        .args(["import", "-"])
        .write_stdin(exported)
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(2));
    assert!(
        stderr(&err).contains("stdin: 4 problems:\n  item 1 (\"Cart\"): id: duplicate id 7"),
        "{}",
        stderr(&err)
    );
    assert_eq!(db_bytes(other.path()), before);
}

#[test]
fn each_bad_import_names_item_and_field_and_changes_nothing() {
    let dir = project();
    let p = dir.path();
    let config = p.join("corral.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replacen(
            "\n[scheduler]\n",
            "\n[scheduler]\nmax_dependencies = 2\n",
            1,
        ),
    )
    .unwrap();
    ok(p, &["feature", "add", "--name", "Stored"]);
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "cycle",
            json!([{"id": 4, "name": "A", "category": "", "description": "", "steps": [], "dependencies": [7]},
                   {"id": 7, "name": "B", "category": "", "description": "", "steps": [], "dependencies": [9]},
                   {"id": 9, "name": "C", "category": "", "description": "", "steps": [], "dependencies": [4]}])
            .to_string(),
            "item 1 (\"A\"): dependencies: cycle: 4 -> 7 -> 9 -> 4",
        ),
        (
            "unknown dependency",
            json!([item("Catalog", &[1]), item("Cart totals", &[42])]).to_string(),
            "item 2 (\"Cart totals\"): dependencies: unknown feature 42",
        ),
        (
            "self dependency",
            json!([{"id": 5, "name": "Me", "category": "", "description": "", "steps": [], "dependencies": [5]}]).to_string(),
            "item 1 (\"Me\"): dependencies: depends on itself",
        ),
        (
            "wrong type",
            json!([item("Catalog", &[]), {"name": "Cart", "category": "", "description": "", "steps": [], "priority": "high"}]).to_string(),
            "item 2 (\"Cart\"): priority: invalid type: string \"high\", expected i64",
        ),
        (
            "unknown field",
            json!([{"name": "Cart", "category": "", "description": "", "steps": [], "passes": false}]).to_string(),
            "item 1 (\"Cart\"): passes: unknown field `passes`",
        ),
        (
            "duplicate id in the file",
            json!([{"id": 3, "name": "A", "category": "", "description": "", "steps": []},
                   {"id": 3, "name": "B", "category": "", "description": "", "steps": []}]).to_string(),
            "item 2 (\"B\"): id: duplicate id 3: item 1 has it too",
        ),
        (
            "duplicate id in the backlog",
            json!([{"id": 1, "name": "A", "category": "", "description": "", "steps": []}]).to_string(),
            "item 1 (\"A\"): id: duplicate id 1: feature 1 is already in the backlog",
        ),
        (
            "empty name",
            json!([item("Fine", &[]), item("", &[])]).to_string(),
            "item 2: name: must not be empty",
        ),
        (
            "too many dependencies",
            json!([item("A", &[]), item("B", &[]), item("Wide", &[1, 2, 3])]).to_string(),
            "item 3 (\"Wide\"): dependencies: 3 dependencies, more than the 2 allowed ([scheduler] max_dependencies)",
        ),
        (
            "truncated JSON",
            "[\n  {\"name\": \"A\",\n   \"steps\": [\"x\"".to_string(),
            "bad.json: line 3, column 16: EOF while parsing a list",
        ),
    ];
    for (what, text, want) in cases {
        let file = p.join("bad.json");
        std::fs::write(&file, text).unwrap();
        let before = db_bytes(p);
        assert!(before[0].is_some());
        let out = corral(p).args(["import", "bad.json"]).output().unwrap();
        assert_ne!(out.status.code(), Some(0), "{what}");
        assert_eq!(out.status.code(), Some(2), "{what}");
        let err = stderr(&out);
        assert!(err.contains(want), "{what}: want {want:?} in\n{err}");
        assert!(err.contains("nothing was imported"), "{what}: {err}");
        assert_eq!(db_bytes(p), before, "{what}: the database changed");
    }
    assert_eq!(
        json_of(p, &["feature", "list", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn every_problem_of_a_file_is_listed() {
    let dir = project();
    let p = dir.path();
    let file = write_json(
        p,
        "b.json",
        &json!([item("", &[]), item("B", &[9]), item("C", &[3])]),
    );
    let err = refused(p, &["import", file.to_str().unwrap()]);
    assert!(err.contains("3 problems:"), "{err}");
    assert!(err.contains("item 1: name: must not be empty"), "{err}");
    assert!(
        err.contains("item 2 (\"B\"): dependencies: unknown feature 9"),
        "{err}"
    );
    assert!(
        err.contains("item 3 (\"C\"): dependencies: depends on itself"),
        "{err}"
    );
}

#[test]
fn status_list_and_show_use_the_same_status_words() {
    let dir = project();
    let p = dir.path();
    ok(p, &["feature", "add", "--name", "Base"]);
    ok(p, &["feature", "add", "--name", "Next", "--dep", "1"]);
    ok(p, &["feature", "add", "--name", "Done"]);
    ok(p, &["feature", "add", "--name", "After done", "--dep", "3"]);
    ok(p, &["feature", "pass", "3"]);
    let want = [
        (1, "ready", json!([])),
        (2, "blocked", json!([1])),
        (3, "passing", json!([])),
        (4, "ready", json!([])),
    ];
    let status = json_of(p, &["status", "--json"]);
    let list = json_of(p, &["feature", "list", "--json"]);
    for (i, (id, word, blocked_by)) in want.iter().enumerate() {
        let show = json_of(p, &["feature", "show", &id.to_string(), "--json"]);
        for (from, f) in [
            ("status", &status["features"][i]),
            ("list", &list[i]),
            ("show", &show),
        ] {
            assert_eq!(f["id"], json!(id), "{from}");
            assert_eq!(f["status"], json!(word), "{from} #{id}: {f}");
            assert_eq!(f["blocked_by"], *blocked_by, "{from} #{id}");
        }
    }
    // The text forms agree too, and `pending` stays a filter for ready and blocked.
    let text = ok(p, &["status"]);
    assert!(!text.contains("pending"), "{text}");
    assert!(text.contains("blocked") && text.contains("ready"), "{text}");
    let pending = json_of(p, &["feature", "list", "--status", "pending", "--json"]);
    let ids: Vec<_> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(1), json!(2), json!(4)]);
    assert_eq!(
        ok(p, &["feature", "requeue", "2"]).trim(),
        "feature 2 (\"Next\") requeued: blocked by 1, attempts 0"
    );
}

/// The fenced block of `lang` that follows `after` in the README.
fn readme_block(after: &str, lang: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let from = readme
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} not in README"));
    let fence = format!("```{lang}\n");
    let start = from + readme[from..].find(&fence).unwrap() + fence.len();
    let end = start + readme[start..].find("```").unwrap();
    readme[start..end].to_string()
}

#[test]
fn the_readme_import_example_lists_every_kind_of_problem() {
    let dir = project();
    let p = dir.path();
    let file = readme_block("This `backlog.json`", "json");
    let want = readme_block("is refused with", "text");
    std::fs::write(p.join("backlog.json"), file).unwrap();
    let before = db_bytes(p);
    let err = refused(p, &["import", "backlog.json"]);
    assert_eq!(err, want);
    assert_eq!(db_bytes(p), before, "the database changed");
    assert_eq!(json_of(p, &["feature", "list", "--json"]), json!([]));
}

#[test]
fn shell_metacharacters_are_stored_and_shown_verbatim() {
    let dir = project();
    let p = dir.path();
    let nasty = "$(touch pwned); touch pwned2";
    ok(
        p,
        &[
            "feature",
            "add",
            "--name",
            nasty,
            "--category",
            "`id`",
            "--description",
            nasty,
            "--step",
            nasty,
        ],
    );
    let file = write_json(
        p,
        "n.json",
        &json!([{"name": format!("x {nasty}"), "category": "|", "description": "&&", "steps": [nasty]}]),
    );
    ok(p, &["import", file.to_str().unwrap()]);
    ok(p, &["feature", "fail", "1", "--reason", nasty]);
    let f = json_of(p, &["feature", "show", "1", "--json"]);
    assert_eq!(
        (f["name"].as_str(), f["description"].as_str()),
        (Some(nasty), Some(nasty))
    );
    assert_eq!(
        (f["steps"][0].as_str(), f["last_error"].as_str()),
        (Some(nasty), Some(nasty))
    );
    let shown = ok(p, &["feature", "show", "1"]);
    assert!(
        shown.starts_with(&format!("feature 1: {nasty}\n")),
        "{shown}"
    );
    assert!(shown.contains(&format!("  1. {nasty}")), "{shown}");
    assert!(ok(p, &["feature", "list"]).contains(nasty));
    assert!(ok(p, &["export"]).contains(&format!("\"x {nasty}\"")));
    assert!(!p.join("pwned").exists() && !p.join("pwned2").exists());
}

#[test]
fn a_running_dashboard_is_told_to_reload() {
    let dir = project();
    let p = dir.path();
    let listener = std::os::unix::net::UnixListener::bind(p.join(".corral/control.sock")).unwrap();
    ok(p, &["feature", "add", "--name", "A"]);
    let (stream, _) = listener.accept().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stream), &mut line).unwrap();
    assert_eq!(line, "{\"cmd\":\"reload\"}\n");
}

#[test]
fn backlog_commands_need_an_initialised_project() {
    let dir = tempfile::tempdir().unwrap();
    let err = refused(dir.path(), &["feature", "list"]);
    assert!(err.contains("corral init"), "{err}");
    let err = refused(dir.path(), &["export"]);
    assert!(err.contains("corral init"), "{err}");
    assert!(!dir.path().join(".corral").exists());
    let p = project();
    assert!(ok(p.path(), &["feature", "list"]).contains("no features yet"));
    assert_eq!(ok(p.path(), &["export"]).trim(), "[]");
    assert_eq!(json_of(p.path(), &["feature", "list", "--json"]), json!([]));
}

#[test]
fn importing_a_missing_file_says_so_once_naming_it() {
    let dir = project();
    let p = dir.path();
    let before = db_bytes(p);
    let err = refused(p, &["import", "missing.json"]);
    assert_eq!(
        err.trim_end(),
        "corral: missing.json: No such file or directory (os error 2)",
        "once, naming the file"
    );
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    assert_eq!(db_bytes(p), before, "nothing changed");
}
