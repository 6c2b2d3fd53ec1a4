//! Reading a backlog file: JSON into [`FeatureSpec`]s, with every problem of every item named.

use super::backlog::{BacklogError, BacklogErrors, FeatureSpec, Subject};
use serde_json::Value;

/// Parses a backlog file: a JSON array of [`FeatureSpec`]s. A syntax error gives its line and
/// column; otherwise every item that does not fit is reported with its field.
pub fn parse_import(text: &str) -> Result<Vec<FeatureSpec>, BacklogErrors> {
    // A right file is read straight into specs, without a tree of the whole file (a third of
    // the memory on a big one). Anything wrong in it (a repeated field included, which the
    // typed reading refuses) is looked for again below, item by item, to name every problem.
    if let Ok(specs) = serde_json::from_str::<Vec<FeatureSpec>>(text) {
        return Ok(specs);
    }
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
    let mut specs = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    // Each item is read by reference, so one that fails can still be looked at field by
    // field, and dropped right after (no second copy of a big file).
    for (i, item) in items.into_iter().enumerate() {
        let name = item.get("name").and_then(Value::as_str).map(str::to_owned);
        match serde_path_to_error::deserialize::<_, FeatureSpec>(&item) {
            Ok(spec) => specs.push(spec),
            Err(e) => {
                let subject = Subject::Item { index: i + 1, name };
                let fields = field_errors(&item);
                if fields.is_empty() {
                    let path = e.path().to_string();
                    errors.push(BacklogError {
                        subject,
                        field: if path == "." { String::new() } else { path },
                        message: e.into_inner().to_string(),
                    });
                } else {
                    errors.extend(fields.into_iter().map(|(field, message)| BacklogError {
                        subject: subject.clone(),
                        field,
                        message,
                    }));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(specs)
    } else {
        Err(BacklogErrors::new(errors))
    }
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
        let mut probe =
            serde_json::json!({"name": "x", "category": "", "description": "", "steps": []});
        if let Value::Object(p) = &mut probe {
            p.insert(key.clone(), value.clone());
        }
        if let Err(e) = serde_path_to_error::deserialize::<_, FeatureSpec>(probe) {
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
