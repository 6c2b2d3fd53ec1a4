//! The demo project: a built-in backlog of a small web shop, and the
//! `corral.toml` that runs the built-in demo agent on it.
//!
//! The backlog is a DAG with several layers, so a demo shows features that are
//! ready at once (User accounts, Product catalog, Payment stub) next to others
//! blocked one to three levels deep (Checkout flow waits for Cart totals, which
//! waits for Shopping cart, which waits for Product catalog).

use crate::runtime::store::NewFeature;
use std::path::Path;

/// Embedded so `corral demo` works from an installed binary with no assets beside it.
const BACKLOG_JSON: &str = include_str!("../../assets/demo/backlog.json");

/// The built-in demo backlog.
pub fn demo_backlog() -> Vec<NewFeature> {
    // The file is part of the binary and checked by the tests below, so a parse
    // failure is a build defect, not a runtime condition a user could cause.
    serde_json::from_str(BACKLOG_JSON)
        .expect("assets/demo/backlog.json is valid (checked by tests)")
}

/// The corral.toml written into a demo project: three agents at a time, one
/// `coding` profile running this very executable's hidden `demo-agent`.
pub fn demo_config(exe: &Path) -> String {
    // Lossy: a non-UTF-8 path cannot be written in TOML at all; the demo would
    // then fail to spawn with a clear error rather than here.
    let exe = toml_string(&exe.to_string_lossy());
    format!(
        r#"# corral.toml for the built-in demo.
#
# Every agent here is `corral demo-agent`, a pretend coding agent that prints
# believable work for 20-60 seconds and then passes (most of the time) or fails.
# Swap the command for a real agent to use this project for real.

[scheduler]
# How many agents run at the same time.
max_agents = 3

[profiles.coding]
# Coding agents implement one feature each.
role = "coding"
# The run id as seed: each attempt at a feature plays out differently.
# `--stream-json` tells the work as Claude Code's event stream, so the Log pane shows steps
# (`v` shows the raw lines); without it the agent prints a plain transcript.
command = [
  {exe},
  "demo-agent",
  "--feature", "{{feature_id}}",
  "--name", "{{feature_name}}",
  "--seed", "{{run_id}}",
  "--stream-json",
]
# Give up on an agent after this long...
timeout = "10m"
# ...and after a stop request, wait this long between SIGTERM and SIGKILL.
grace = "3s"
"#
    )
}

/// A TOML basic string: quotes and backslashes escaped, control characters as
/// \uXXXX (TOML forbids them raw), so any path round-trips exactly.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// The demo file gives every id explicitly (the dashboard shows them).
    fn id(item: &NewFeature) -> i64 {
        item.id.expect("demo ids are explicit")
    }

    #[test]
    fn backlog_parses_and_is_a_layered_dag() {
        let items = demo_backlog();
        assert_eq!(items.len(), 12);
        let ids: HashSet<i64> = items.iter().map(id).collect();
        assert_eq!(
            ids,
            (1..=12).collect::<HashSet<_>>(),
            "ids unique and 1..=12"
        );
        for item in &items {
            assert!(
                item.name.chars().count() < 24,
                "name too long: {}",
                item.name
            );
            assert!(!item.steps.is_empty());
            for d in &item.dependencies {
                assert!(
                    ids.contains(d) && *d != id(item),
                    "#{} has bad dependency {d}",
                    id(item)
                );
            }
        }
        // Depth of each item (0 = ready at once); recursion with a visiting set catches cycles.
        let by_id: HashMap<i64, &NewFeature> = items.iter().map(|i| (id(i), i)).collect();
        fn depth(id: i64, by_id: &HashMap<i64, &NewFeature>, visiting: &mut Vec<i64>) -> usize {
            assert!(
                !visiting.contains(&id),
                "cycle through {visiting:?} -> {id}"
            );
            visiting.push(id);
            let d = by_id[&id]
                .dependencies
                .iter()
                .map(|&d| 1 + depth(d, by_id, visiting))
                .max()
                .unwrap_or(0);
            visiting.pop();
            d
        }
        let depths: Vec<usize> = items
            .iter()
            .map(|i| depth(id(i), &by_id, &mut Vec::new()))
            .collect();
        assert!(
            depths.iter().filter(|&&d| d == 0).count() >= 2,
            "several ready at once"
        );
        assert_eq!(depths.iter().max(), Some(&3), "blocked up to 3 levels deep");
    }

    #[test]
    fn config_is_valid_toml_with_awkward_exe_path() {
        let exe = Path::new("/opt/my tools/\"corral\"\\bin\tx/corral");
        let text = demo_config(exe);
        let v: toml::Table = toml::from_str(&text).expect("demo config parses");
        assert_eq!(v["scheduler"]["max_agents"].as_integer(), Some(3));
        let p = &v["profiles"]["coding"];
        assert_eq!(p["role"].as_str(), Some("coding"));
        assert_eq!(p["timeout"].as_str(), Some("10m"));
        assert_eq!(p["grace"].as_str(), Some("3s"));
        let cmd: Vec<&str> = p["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            cmd,
            [
                exe.to_str().unwrap(),
                "demo-agent",
                "--feature",
                "{feature_id}",
                "--name",
                "{feature_name}",
                "--seed",
                "{run_id}",
                "--stream-json"
            ]
        );
    }
}
