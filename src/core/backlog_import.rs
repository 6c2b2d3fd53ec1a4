//! Reading a backlog file: JSON into [`FeatureSpec`]s, with every problem of every item named.

use super::backlog::{
    BacklogError, BacklogErrors, Candidate, DependencyGraph, FeatureSpec, Subject, check_items,
};
use super::backlog_profiles::{ProfileRoles, profile_problem};
use serde_json::Value;

/// Parses a backlog file: a JSON array of [`FeatureSpec`]s. A syntax error gives its line and
/// column; otherwise every item that does not fit is reported with its field.
pub fn parse_import(text: &str) -> Result<Vec<FeatureSpec>, BacklogErrors> {
    if let Some(specs) = read_fast(text) {
        return Ok(specs);
    }
    let items = read_items(text)?;
    let errors: Vec<BacklogError> = items.iter().flat_map(|i| i.errors.clone()).collect();
    if errors.is_empty() {
        Ok(items.into_iter().filter_map(|i| i.spec).collect())
    } else {
        Err(BacklogErrors::new(errors))
    }
}

/// Parses a backlog file and checks it against the stored backlog (`existing`) in one pass:
/// the specs with their ids set, or every problem of every kind (type errors, ids, unknown
/// dependencies, cycles, a `profile` that is not a coding or testing profile of `profiles`),
/// ordered by item. An item with type errors takes part in the other
/// checks with the fields that could be read, so a file's problems all show at once.
pub fn check_import(
    text: &str,
    existing: &DependencyGraph,
    max_dependencies: u32,
    profiles: &ProfileRoles,
) -> Result<Vec<FeatureSpec>, BacklogErrors> {
    let (mut errors, candidates): (Vec<BacklogError>, Vec<Candidate>) = match read_fast(text) {
        Some(specs) => {
            let candidates = specs
                .into_iter()
                .enumerate()
                .map(|(i, spec)| Candidate {
                    index: i + 1,
                    label: Some(spec.name.clone()),
                    spec,
                    id_readable: true,
                })
                .collect();
            (Vec::new(), candidates)
        }
        None => {
            let items = read_items(text)?;
            let errors = items.iter().flat_map(|i| i.errors.clone()).collect();
            (
                errors,
                items.into_iter().filter_map(|i| i.candidate).collect(),
            )
        }
    };
    for c in &candidates {
        let Some(message) = c
            .spec
            .profile
            .as_deref()
            .and_then(|p| profile_problem(p, profiles))
        else {
            continue;
        };
        errors.push(BacklogError {
            subject: Subject::Item {
                index: c.index,
                name: c.label.clone(),
            },
            field: "profile".into(),
            message,
        });
    }
    let (specs, more) = check_items(candidates, existing, max_dependencies);
    errors.extend(more);
    if errors.is_empty() {
        return Ok(specs);
    }
    // Stable: within an item, type errors first, then the rest in the order found.
    errors.sort_by_key(|e| match e.subject {
        Subject::Item { index, .. } => index,
        _ => 0,
    });
    Err(BacklogErrors::new(errors))
}

/// A right file read straight into specs, without a tree of the whole file (a third of the
/// memory on a big one). `None` when anything is wrong in it (a repeated field included,
/// which the typed reading refuses): then it is read again item by item to name every problem.
fn read_fast(text: &str) -> Option<Vec<FeatureSpec>> {
    serde_json::from_str::<Vec<FeatureSpec>>(text).ok()
}

/// One item of the file: what could be read of it and what could not.
struct ReadItem {
    /// The item itself, when every field fits.
    spec: Option<FeatureSpec>,
    /// Its readable fields, for the checks across items (none when it is not an object).
    candidate: Option<Candidate>,
    errors: Vec<BacklogError>,
}

fn read_items(text: &str) -> Result<Vec<ReadItem>, BacklogErrors> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        let message = format!("line {}, column {}: {message}", e.line(), e.column());
        BacklogErrors::one(Subject::File, "", message)
    })?;
    let Value::Array(items) = value else {
        let message = format!(
            "expected a JSON array of features, found {}",
            kind_of(&value)
        );
        return Err(BacklogErrors::one(Subject::File, "", message));
    };
    let mut read: Vec<ReadItem> = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| read_item(i + 1, item))
        .collect();
    // The parser kept one value of a repeated key without a word: refuse rather than guess.
    for (index, keys) in super::json_keys::repeated_item_keys(text) {
        let Some(item) = read.get_mut(index - 1) else {
            continue;
        };
        let name = item.candidate.as_ref().and_then(|c| c.label.clone());
        for key in keys {
            item.errors.push(BacklogError {
                subject: Subject::Item {
                    index,
                    name: name.clone(),
                },
                field: key,
                message: "given more than once in this item: keep one".into(),
            });
        }
    }
    Ok(read)
}

fn read_item(index: usize, item: Value) -> ReadItem {
    let label = item.get("name").and_then(Value::as_str).map(str::to_owned);
    let subject = Subject::Item {
        index,
        name: label.clone(),
    };
    let e = match serde_path_to_error::deserialize::<_, FeatureSpec>(item.clone()) {
        Ok(spec) => {
            let candidate = Candidate {
                index,
                label: Some(spec.name.clone()),
                spec: spec.clone(),
                id_readable: true,
            };
            return ReadItem {
                spec: Some(spec),
                candidate: Some(candidate),
                errors: Vec::new(),
            };
        }
        Err(e) => e,
    };
    let fields = field_errors(&item);
    let errors = if fields.is_empty() {
        let path = e.path().to_string();
        vec![BacklogError {
            subject: subject.clone(),
            field: if path == "." { String::new() } else { path },
            message: e.into_inner().to_string(),
        }]
    } else {
        fields
            .into_iter()
            .map(|(field, message)| BacklogError {
                subject: subject.clone(),
                field,
                message,
            })
            .collect()
    };
    ReadItem {
        spec: None,
        candidate: salvage(&item).map(|(spec, id_readable)| Candidate {
            index,
            label,
            spec,
            id_readable,
        }),
        errors,
    }
}

/// The fields of a broken item that fit on their own, over placeholders for the rest (a
/// non-empty name, so a missing one is not reported twice); and whether its id was readable.
fn salvage(item: &Value) -> Option<(FeatureSpec, bool)> {
    let Value::Object(fields) = item else {
        return None;
    };
    let mut kept = serde_json::Map::new();
    let mut id_readable = true;
    for (key, value) in fields {
        if probe(key, value).is_ok() {
            kept.insert(key.clone(), value.clone());
        } else if key == "id" {
            id_readable = false;
        }
    }
    let mut out = placeholder();
    out.extend(kept);
    let spec = serde_json::from_value(Value::Object(out)).ok()?;
    Some((spec, id_readable))
}

fn placeholder() -> serde_json::Map<String, Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("name".into(), Value::String("?".into()));
    fields.insert("category".into(), Value::String(String::new()));
    fields.insert("description".into(), Value::String(String::new()));
    fields.insert("steps".into(), Value::Array(Vec::new()));
    fields
}

/// One field tried on its own inside an otherwise valid item.
fn probe(
    key: &str,
    value: &Value,
) -> Result<FeatureSpec, serde_path_to_error::Error<serde_json::Error>> {
    let mut fields = placeholder();
    fields.insert(key.to_owned(), value.clone());
    serde_path_to_error::deserialize::<_, FeatureSpec>(Value::Object(fields))
}

/// Every problem of one item, field by field: serde stops at the first, a person wants all.
/// Each field is tried on its own inside an otherwise valid item; missing required fields are
/// named too. Empty when the item is not an object (the caller reports the whole-item error).
fn field_errors(item: &Value) -> Vec<(String, String)> {
    let Value::Object(fields) = item else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for required in ["name", "category", "description", "steps"] {
        if !fields.contains_key(required) {
            out.push((String::new(), format!("missing field `{required}`")));
        }
    }
    for (key, value) in fields {
        if let Err(e) = probe(key, value) {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            out.push((field, e.into_inner().to_string()));
        }
    }
    out
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
