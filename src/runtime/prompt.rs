//! The prompt a run hands its agent: a Markdown template filled with the feature's fields.
//!
//! Feature text comes from users and from agents, so it is data: the template is scanned once,
//! and a description that happens to contain `{{run_id}}` stays literal.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The built-in template for coding runs.
pub const CODING_TEMPLATE: &str = include_str!("../../assets/prompts/coding.md");
/// The built-in template for testing runs.
pub const TESTING_TEMPLATE: &str = include_str!("../../assets/prompts/testing.md");
/// The built-in template for initializer runs.
pub const INITIALIZER_TEMPLATE: &str = include_str!("../../assets/prompts/initializer.md");

/// What a run's prompt may mention. `feature_id` is `None` for runs about no feature (an
/// initializer); it then renders as `none`.
#[derive(Debug, Clone, Copy)]
pub struct PromptFields<'a> {
    /// The project root, as shown to the agent.
    pub project: &'a str,
    /// This run's id.
    pub run_id: i64,
    /// The feature worked on, if any.
    pub feature_id: Option<i64>,
    /// The feature's name.
    pub name: &'a str,
    /// The feature's category.
    pub category: &'a str,
    /// The feature's description (for an initializer: what to build the backlog from).
    pub description: &'a str,
    /// Verification steps, rendered as a numbered list.
    pub steps: &'a [String],
    /// `(id, name)` of each dependency, rendered as a bullet list.
    pub dependencies: &'a [(i64, String)],
}

/// Why no template could be had.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// The profile's `prompt` file could not be read.
    #[error("prompt template {}: {source}", path.display())]
    Read {
        /// The file, joined to the project root.
        path: PathBuf,
        /// Why reading it failed.
        source: io::Error,
    },
    /// The role has no built-in template and the profile names none.
    #[error(
        "role {role:?} has no built-in prompt template: set `prompt = \"FILE\"` in the profile"
    )]
    NoBuiltIn {
        /// The role as written in the profile.
        role: String,
    },
}

/// Fills `template`: `{{project}}`, `{{run_id}}`, `{{feature_id}}`, `{{name}}`,
/// `{{category}}`, `{{description}}`, `{{steps}}` (numbered list, or `none`) and
/// `{{dependencies}}` (bullets of `#id name`, or `none`). Anything else between double braces
/// is kept as written. One pass: inserted values are never scanned again.
pub fn render(template: &str, f: &PromptFields) -> String {
    let mut out = String::with_capacity(template.len() + f.description.len() + 256);
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let value = after
            .find("}}")
            .and_then(|close| field(&after[..close], f).map(|v| (close, v)));
        match value {
            Some((close, value)) => {
                out.push_str(&value);
                rest = &after[close + 2..];
            }
            None => {
                // Not a field: keep the braces and go on right after them, so `{{{{name}}`
                // still finds the field inside.
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of one field, or `None` for a name that is not a field.
fn field(name: &str, f: &PromptFields) -> Option<String> {
    Some(match name {
        "project" => f.project.to_string(),
        "run_id" => f.run_id.to_string(),
        "feature_id" => f
            .feature_id
            .map_or_else(|| "none".into(), |id| id.to_string()),
        "name" => f.name.to_string(),
        "category" => f.category.to_string(),
        "description" => f.description.to_string(),
        "steps" => steps_list(f.steps),
        "dependencies" => dependency_list(f.dependencies),
        _ => return None,
    })
}

/// `1. first` … with continuation lines indented so a multi-line step stays one item.
fn steps_list(steps: &[String]) -> String {
    if steps.is_empty() {
        return "none".into();
    }
    let items: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let marker = format!("{}. ", i + 1);
            let indent = " ".repeat(marker.len());
            let body = step
                .trim_end()
                .lines()
                .collect::<Vec<_>>()
                .join(&format!("\n{indent}"));
            format!("{marker}{body}")
        })
        .collect();
    items.join("\n")
}

/// `- #3 Login form` per dependency; a name's line breaks become spaces to keep one bullet.
fn dependency_list(deps: &[(i64, String)]) -> String {
    if deps.is_empty() {
        return "none".into();
    }
    deps.iter()
        .map(|(id, name)| {
            format!(
                "- #{id} {}",
                name.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The template for a run of `role` (`"coding"`, `"testing"`, `"initializer"`, …).
///
/// With `override_path` (the profile's `prompt` key), that file is read, relative to
/// `project`; errors name it. Otherwise the built-in template for the role;
/// [`PromptError::NoBuiltIn`] for a role that has none (`custom`).
pub fn template_for(
    role: &str,
    project: &Path,
    override_path: Option<&str>,
) -> Result<String, PromptError> {
    if let Some(rel) = override_path {
        let path = project.join(rel);
        return fs::read_to_string(&path).map_err(|source| PromptError::Read { path, source });
    }
    match role {
        "coding" => Ok(CODING_TEMPLATE.to_string()),
        "testing" => Ok(TESTING_TEMPLATE.to_string()),
        "initializer" => Ok(INITIALIZER_TEMPLATE.to_string()),
        other => Err(PromptError::NoBuiltIn {
            role: other.to_string(),
        }),
    }
}

/// Writes `text` to `<dir>/<run_id>.md`, readable by the owner only (the prompt may quote
/// private project details), creating `dir` (mode 0700) if needed. Returns the file's path.
pub fn write_prompt_file(dir: &Path, run_id: i64, text: &str) -> io::Result<PathBuf> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let path = dir.join(format!("{run_id}.md"));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    // `mode` only applies when the file is created; a leftover file keeps its old mode.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.flush()?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(steps: &'a [String], deps: &'a [(i64, String)]) -> PromptFields<'a> {
        PromptFields {
            project: "/home/me/app",
            run_id: 7,
            feature_id: Some(12),
            name: "Login form",
            category: "auth",
            description: "Users sign in with {{run_id}} literally in the text.",
            steps,
            dependencies: deps,
        }
    }

    #[test]
    fn render_table() {
        let steps = vec![
            "Open /login".to_string(),
            "Type a password\nand submit".into(),
        ];
        let deps = vec![(3, "Session store".to_string()), (4, "Users\ntable".into())];
        let f = fields(&steps, &deps);
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("{{project}} run {{run_id}} feature {{feature_id}}", "/home/me/app run 7 feature 12"),
            ("{{name}} [{{category}}]", "Login form [auth]"),
            ("{{description}}", "Users sign in with {{run_id}} literally in the text."),
            ("{{steps}}", "1. Open /login\n2. Type a password\n   and submit"),
            ("{{dependencies}}", "- #3 Session store\n- #4 Users table"),
            ("{{unknown}} {{ name }} {{name", "{{unknown}} {{ name }} {{name"),
            ("{{{{name}}}}", "{{Login form}}"),
            ("{single} }} {{", "{single} }} {{"),
            ("é{{run_id}}é", "é7é"),
            ("", ""),
        ];
        for (template, want) in cases {
            assert_eq!(render(template, &f), *want, "{template:?}");
        }
    }

    #[test]
    fn render_empty_lists_and_no_feature() {
        let mut f = fields(&[], &[]);
        f.feature_id = None;
        assert_eq!(
            render("{{feature_id}}|{{steps}}|{{dependencies}}", &f),
            "none|none|none"
        );
    }

    #[test]
    fn values_are_not_rescanned() {
        let steps = vec!["{{description}}".to_string()];
        let deps = vec![(1, "{{steps}}".to_string())];
        let mut f = fields(&steps, &deps);
        f.name = "{{name}}";
        assert_eq!(
            render("{{name}} {{steps}} {{dependencies}}", &f),
            "{{name}} 1. {{description}} - #1 {{steps}}"
        );
    }

    #[test]
    fn built_in_templates_carry_the_contract() {
        for role in ["coding", "testing", "initializer"] {
            let text = template_for(role, Path::new("/nonexistent"), None).expect(role);
            assert!(text.contains("{{run_id}}"), "{role}");
            assert!(text.contains("CORRAL_RUN_ID"), "{role}");
        }
        for role in ["coding", "testing"] {
            let text = template_for(role, Path::new("/"), None).expect(role);
            assert!(text.contains("corral feature pass {{feature_id}} --run {{run_id}}"));
            assert!(text.contains("corral feature fail {{feature_id}} --run {{run_id}} --reason"));
            assert!(text.contains("{{steps}}") && text.contains("{{description}}"));
        }
        let init = template_for("initializer", Path::new("/"), None).expect("initializer");
        assert!(init.contains("corral import"));
        let err = template_for("custom", Path::new("/"), None).expect_err("custom");
        assert!(err.to_string().contains("\"custom\""), "{err}");
    }

    #[test]
    fn override_is_read_relative_to_project() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("prompts")).expect("mkdir");
        fs::write(dir.path().join("prompts/mine.md"), "Do {{name}}").expect("write");
        let text = template_for("custom", dir.path(), Some("prompts/mine.md")).expect("read");
        assert_eq!(text, "Do {{name}}");

        let err = template_for("coding", dir.path(), Some("prompts/missing.md"))
            .expect_err("missing file");
        let msg = err.to_string();
        assert!(msg.contains("prompts/missing.md"), "{msg}");
        assert!(matches!(err, PromptError::Read { .. }));
    }

    #[test]
    fn prompt_file_is_private_and_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let prompts = dir.path().join(".corral/prompts");
        let path = write_prompt_file(&prompts, 42, "first, longer text").expect("write");
        assert_eq!(path, prompts.join("42.md"));
        let mode = |p: &Path| fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&prompts), 0o700);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        write_prompt_file(&prompts, 42, "second").expect("rewrite");
        assert_eq!(fs::read_to_string(&path).expect("read"), "second");
        assert_eq!(mode(&path), 0o600);
    }
}
