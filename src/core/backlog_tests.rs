use super::*;
use serde_json::json;

fn spec(id: Option<i64>, name: &str, deps: &[i64]) -> FeatureSpec {
    FeatureSpec {
        id,
        name: name.into(),
        category: "c".into(),
        description: "d".into(),
        steps: vec!["s".into()],
        priority: 0,
        dependencies: deps.to_vec(),
        model: None,
        effort: None,
        profile: None,
    }
}

fn graph(edges: &[(i64, &[i64])]) -> DependencyGraph {
    edges
        .iter()
        .map(|(id, deps)| (*id, deps.to_vec()))
        .collect()
}

fn messages(e: BacklogErrors) -> Vec<String> {
    e.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn parse_errors_name_the_item_and_field() {
    let item = |extra: serde_json::Value| {
        let mut v = json!({"name": "A", "category": "c", "description": "d", "steps": []});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            json!([item(json!({})), item(json!({"priority": "high"}))]),
            "item 2 (\"A\"): priority: invalid type: string \"high\", expected i64",
        ),
        (
            json!([item(json!({"steps": ["ok", 3]}))]),
            "item 1 (\"A\"): steps[1]: invalid type: integer `3`, expected a string",
        ),
        (
            json!([item(json!({"passes": false}))]),
            "item 1 (\"A\"): passes: unknown field `passes`",
        ),
        (
            json!([{"name": "B", "category": "c", "description": "d"}]),
            "item 1 (\"B\"): missing field `steps`",
        ),
        (
            json!([item(json!({"dependencies": "1"}))]),
            "item 1 (\"A\"): dependencies: invalid type: string \"1\", expected a sequence",
        ),
        (json!([3]), "item 1: invalid type: integer `3`"),
        (
            json!({"name": "A"}),
            "expected a JSON array of features, found an object",
        ),
    ];
    for (value, want) in cases {
        let got = messages(parse_import(&value.to_string()).unwrap_err());
        assert_eq!(got.len(), 1, "{value}: {got:?}");
        assert!(
            got[0].starts_with(want),
            "{value}:\n got {}\nwant {want}",
            got[0]
        );
    }
}

#[test]
fn every_bad_item_is_reported_not_just_the_first() {
    let text = json!([
        {"name": "A", "category": "c", "description": "d", "steps": [], "priority": "x"},
        {"name": "B", "category": "c", "description": "d", "steps": []},
        {"name": "C", "category": 1, "description": "d", "steps": []},
    ])
    .to_string();
    let got = messages(parse_import(&text).unwrap_err());
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].starts_with("item 1 (\"A\"): priority:"));
    assert!(got[1].starts_with("item 3 (\"C\"): category:"));
}

#[test]
fn truncated_json_gives_line_and_column() {
    let text = "[\n  {\"name\": \"A\",\n   \"steps\": [\"x\"";
    let got = messages(parse_import(text).unwrap_err());
    assert_eq!(got, vec!["line 3, column 16: EOF while parsing a list"]);
    let got = messages(parse_import("").unwrap_err());
    assert!(got[0].starts_with("line 1, column 0: EOF"), "{got:?}");
}

#[test]
fn ids_are_assigned_after_the_highest_stored_or_given_id() {
    let existing = graph(&[(1, &[]), (2, &[1])]);
    let specs = vec![
        spec(None, "a", &[2]),
        spec(Some(7), "b", &[]),
        spec(None, "c", &[7, 8, 7]),
    ];
    let out = validate_import(specs, &existing, 50).unwrap();
    let ids: Vec<_> = out.iter().map(|s| s.id.unwrap()).collect();
    assert_eq!(ids, vec![8, 7, 9]);
    assert_eq!(out[2].dependencies, vec![7, 8], "repeats dropped");
    let out = validate_import(vec![spec(None, "x", &[])], &DependencyGraph::new(), 50).unwrap();
    assert_eq!(out[0].id, Some(1));
}

#[test]
fn ids_stay_positive_and_bounded_and_the_next_one_never_overflows() {
    let none = DependencyGraph::new();
    let err = |specs: Vec<FeatureSpec>, existing: &DependencyGraph| {
        messages(validate_import(specs, existing, 50).unwrap_err())
    };
    assert_eq!(
        err(vec![spec(Some(i64::MAX), "A", &[])], &none),
        ["item 1 (\"A\"): id: must be between 1 and 999999999, not 9223372036854775807"]
    );
    assert_eq!(
        err(vec![spec(Some(-5), "A", &[])], &none),
        ["item 1 (\"A\"): id: must be between 1 and 999999999, not -5"]
    );
    // The last id is taken; the next feature gets it, the one after has none left.
    let out = validate_import(
        vec![spec(None, "A", &[])],
        &graph(&[(MAX_FEATURE_ID - 1, &[])]),
        50,
    )
    .unwrap();
    assert_eq!(out[0].id, Some(MAX_FEATURE_ID));
    let full = graph(&[(MAX_FEATURE_ID, &[])]);
    assert_eq!(
        err(vec![spec(None, "B", &[])], &full),
        [
            "item 1 (\"B\"): id: no id is left after 999999999: ids go up to 999999999; give this feature a free id below it"
        ]
    );
    assert!(validate_import(vec![spec(Some(7), "B", &[])], &full, 50).is_ok());
    // A stored id from before the limit existed does not overflow the next one.
    let old = graph(&[(i64::MAX, &[])]);
    assert_eq!(err(vec![spec(None, "C", &[])], &old).len(), 1);
    let e = validate_new(spec(Some(i64::MAX), "D", &[]), &none, 50).unwrap_err();
    assert_eq!(
        e.to_string(),
        "new feature (\"D\"): id: must be between 1 and 999999999, not 9223372036854775807"
    );
}

#[test]
fn validation_table() {
    let existing = graph(&[(1, &[]), (2, &[1]), (3, &[2])]);
    let many: Vec<i64> = (1..=3).collect();
    let cases: Vec<(Vec<FeatureSpec>, u32, Vec<&str>)> = vec![
        (
            vec![spec(Some(5), "A", &[]), spec(Some(6), "Cart totals", &[42])],
            50,
            vec!["item 2 (\"Cart totals\"): dependencies: unknown feature 42"],
        ),
        (
            vec![spec(Some(5), "A", &[5])],
            50,
            vec!["item 1 (\"A\"): dependencies: depends on itself"],
        ),
        (
            vec![spec(Some(5), "A", &[]), spec(Some(5), "B", &[])],
            50,
            vec!["item 2 (\"B\"): id: duplicate id 5: item 1 has it too"],
        ),
        (
            vec![spec(Some(2), "A", &[])],
            50,
            vec!["item 1 (\"A\"): id: duplicate id 2: feature 2 is already in the backlog"],
        ),
        (
            vec![spec(Some(0), "A", &[])],
            50,
            vec!["item 1 (\"A\"): id: must be between 1 and 999999999, not 0"],
        ),
        (
            vec![spec(None, "  ", &[])],
            50,
            vec!["item 1 (\"  \"): name: must not be empty"],
        ),
        (
            vec![spec(None, "A", &many)],
            2,
            vec![
                "item 1 (\"A\"): dependencies: 3 dependencies, more than the 2 allowed ([scheduler] max_dependencies)",
            ],
        ),
        (
            vec![
                spec(Some(4), "A", &[7]),
                spec(Some(7), "B", &[9]),
                spec(Some(9), "C", &[4]),
            ],
            50,
            vec!["item 1 (\"A\"): dependencies: cycle: 4 -> 7 -> 9 -> 4"],
        ),
        (
            // The cycle is named from the first new feature in it, here item 2.
            vec![
                spec(Some(8), "X", &[]),
                spec(Some(9), "B", &[10]),
                spec(Some(10), "C", &[9]),
            ],
            50,
            vec!["item 2 (\"B\"): dependencies: cycle: 9 -> 10 -> 9"],
        ),
        (
            vec![spec(None, "A", &[]), spec(None, "B", &[3, 4])],
            50,
            vec![],
        ),
    ];
    for (specs, max, want) in cases {
        let got = match validate_import(specs.clone(), &existing, max) {
            Ok(_) => Vec::new(),
            Err(e) => messages(e),
        };
        assert_eq!(got, want, "{specs:?}");
    }
}

#[test]
fn cycles_through_the_stored_backlog_are_found() {
    // Stored features cannot depend on new ones, so only an edit can close a cycle through
    // them: 3 -> 2 -> 1 stored, and 1 made to depend on 3.
    let existing = graph(&[(1, &[]), (2, &[1]), (3, &[2])]);
    let e = check_edit(&existing, 1, "Base", vec![3], 50).unwrap_err();
    assert_eq!(
        messages(e),
        vec!["feature 1 (\"Base\"): dependencies: cycle: 1 -> 3 -> 2 -> 1"]
    );
    assert_eq!(
        check_edit(&existing, 3, "Top", vec![1, 2, 1], 50).unwrap(),
        vec![1, 2]
    );
    let e = check_edit(&existing, 2, "", vec![2, 99], 1).unwrap_err();
    assert_eq!(
        messages(e),
        vec![
            "feature 2 (\"\"): name: must not be empty",
            "feature 2 (\"\"): dependencies: 2 dependencies, more than the 1 allowed ([scheduler] max_dependencies)",
            "feature 2 (\"\"): dependencies: depends on itself",
            "feature 2 (\"\"): dependencies: unknown feature 99",
        ]
    );
}

#[test]
fn a_new_feature_is_named_by_its_name() {
    let e = validate_new(spec(None, "Cart", &[42]), &DependencyGraph::new(), 50).unwrap_err();
    assert_eq!(
        e.to_string(),
        "new feature (\"Cart\"): dependencies: unknown feature 42"
    );
    let ok = validate_new(spec(None, "Cart", &[1]), &graph(&[(1, &[])]), 50).unwrap();
    assert_eq!(ok.id, Some(2));
}

#[test]
fn many_problems_are_capped_and_counted() {
    let specs: Vec<FeatureSpec> = (0..30).map(|i| spec(None, "", &[1000 + i])).collect();
    let e = validate_import(specs, &DependencyGraph::new(), 50).unwrap_err();
    assert_eq!(e.errors.len(), MAX_ERRORS);
    assert_eq!(e.count(), 60);
    let text = e.to_string();
    assert!(
        text.starts_with("60 problems:\n  item 1: name: must not be empty"),
        "{text}"
    );
    assert!(text.ends_with("... and 40 more"), "{text}");
}

#[test]
fn export_shape_round_trips() {
    let s = spec(Some(3), "A $(touch x)", &[1]);
    let text = serde_json::to_string(&vec![s.clone()]).unwrap();
    assert_eq!(parse_import(&text).unwrap(), vec![s]);
    let no_id = serde_json::to_value(spec(None, "A", &[])).unwrap();
    assert!(no_id.get("id").is_none());
}

#[test]
fn every_bad_field_of_an_item_is_reported() {
    let text = r#"[{"name": "Cart", "steps": "x", "priority": "high", "description": ""}]"#;
    let err = parse_import(text).unwrap_err().to_string();
    assert!(err.contains("steps: invalid type: string \"x\""), "{err}");
    assert!(
        err.contains("priority: invalid type: string \"high\""),
        "{err}"
    );
    assert!(err.contains("missing field `category`"), "{err}");
    assert!(err.contains("item 1 (\"Cart\")"), "{err}");
}

#[test]
fn check_import_reports_type_errors_with_the_other_kinds() {
    let text = json!([
        {"name": "A", "category": "c", "description": "d", "steps": []},
        {"name": "B", "category": "c", "description": "d", "steps": [], "priority": "high", "dependencies": [42]},
        {"name": "C", "category": "c", "description": "d", "steps": [], "dependencies": [43]},
        {"id": 4, "name": "D", "category": 1, "description": "d", "steps": [], "dependencies": [7]},
        {"id": 7, "name": "E", "category": "c", "description": "d", "steps": [], "dependencies": [4]},
    ])
    .to_string();
    let got = messages(
        check_import(&text, &DependencyGraph::new(), 50, &Default::default()).unwrap_err(),
    );
    assert_eq!(
        got,
        vec![
            "item 2 (\"B\"): priority: invalid type: string \"high\", expected i64",
            "item 2 (\"B\"): dependencies: unknown feature 42",
            "item 3 (\"C\"): dependencies: unknown feature 43",
            "item 4 (\"D\"): category: invalid type: integer `1`, expected a string",
            "item 4 (\"D\"): dependencies: cycle: 4 -> 7 -> 4",
        ]
    );
}

#[test]
fn an_unreadable_id_or_name_is_not_checked_under_a_made_up_one() {
    // Item 1's id is a string: it gets none, so item 2 is still numbered 1 and nothing claims
    // a duplicate or a cycle; item 2's missing name is reported once, not also as empty.
    let text = json!([
        {"id": "5", "name": "A", "category": "c", "description": "d", "steps": [], "dependencies": [0]},
        {"category": "c", "description": "d", "steps": [], "dependencies": [1]},
        "x",
    ])
    .to_string();
    let got = messages(check_import(&text, &graph(&[]), 50, &Default::default()).unwrap_err());
    assert_eq!(
        got,
        vec![
            "item 1 (\"A\"): id: invalid type: string \"5\", expected i64",
            "item 1 (\"A\"): dependencies: unknown feature 0",
            "item 2: missing field `name`",
            "item 2: dependencies: depends on itself",
            "item 3: invalid type: string \"x\", expected struct FeatureSpec",
        ]
    );
    let fine = json!([{"name": "A", "category": "c", "description": "d", "steps": []}]);
    let out = check_import(
        &fine.to_string(),
        &graph(&[(3, &[])]),
        50,
        &Default::default(),
    )
    .unwrap();
    assert_eq!(out[0].id, Some(4));
}
