//! Keys given twice in a JSON object. serde_json keeps the last value of a repeated key
//! without a word, so an import would take one of two values silently; this second look at
//! the text finds them so the import can refuse them instead.

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// For each item of the top-level array (counted from 1) that repeats a key, the item and
/// the repeated keys in order of their second appearance. Empty when `text` is not a JSON
/// array (the parser reports that) or repeats nothing.
pub fn repeated_item_keys(text: &str) -> Vec<(usize, Vec<String>)> {
    let Ok(items) = serde_json::from_str::<Vec<Repeats>>(text) else {
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .filter(|(_, r)| !r.0.is_empty())
        .map(|(i, r)| (i + 1, r.0))
        .collect()
}

/// The keys an object repeats; empty for anything that is not an object.
struct Repeats(Vec<String>);

impl<'de> Deserialize<'de> for Repeats {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RepeatsVisitor)
    }
}

struct RepeatsVisitor;

impl<'de> Visitor<'de> for RepeatsVisitor {
    type Value = Repeats;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Repeats, A::Error> {
        let mut seen = HashSet::new();
        let mut repeated = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            if !seen.insert(key.clone()) && !repeated.contains(&key) {
                repeated.push(key);
            }
        }
        Ok(Repeats(repeated))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Repeats, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Repeats(Vec::new()))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Repeats, E> {
        Ok(Repeats(Vec::new()))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Repeats, E> {
        Ok(Repeats(Vec::new()))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Repeats, E> {
        Ok(Repeats(Vec::new()))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Repeats, E> {
        Ok(Repeats(Vec::new()))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Repeats, E> {
        Ok(Repeats(Vec::new()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Repeats, E> {
        Ok(Repeats(Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::repeated_item_keys;

    #[test]
    fn repeated_keys_are_named_per_item() {
        let text = r#"[
            {"name": "a", "name": "b", "steps": [], "steps": [1], "name": "c"},
            {"name": "ok", "nested": {"x": 1, "x": 2}},
            "not an object", 3, null, [1, 2], true, 1.5,
            {"id": 1, "priority": 2, "id": 3}
        ]"#;
        assert_eq!(
            repeated_item_keys(text),
            vec![
                (1, vec!["name".to_string(), "steps".to_string()]),
                (9, vec!["id".to_string()]),
            ]
        );
        assert!(repeated_item_keys(r#"{"a": 1, "a": 2}"#).is_empty());
        assert!(repeated_item_keys("[{").is_empty());
    }
}
