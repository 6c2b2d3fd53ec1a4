//! Turning a profile on or off from the dashboard, written back into corral.toml so the choice
//! survives a restart, with the file's comments and layout left as they were.

use crate::config::PROJECT_FILE;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ToggleError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot edit it: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: has no [profiles.{profile}] (a profile from the user file is changed there)")]
    NoSuchProfile { path: String, profile: String },
}

/// Sets `profiles.<profile>.enabled` in `<project>/corral.toml`. The new file is written next
/// to the old one and renamed over it, so a crash never leaves half a config behind.
pub fn set_profile_enabled(
    project: &Path,
    profile: &str,
    enabled: bool,
) -> Result<(), ToggleError> {
    let path = project.join(PROJECT_FILE);
    let shown = path.display().to_string();
    let io = |source| ToggleError::Io {
        path: shown.clone(),
        source,
    };
    let text = std::fs::read_to_string(&path).map_err(io)?;
    let mut doc: toml_edit::DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ToggleError::Parse {
                path: shown.clone(),
                message: e.to_string(),
            })?;
    let table = doc
        .get_mut("profiles")
        .and_then(|p| p.get_mut(profile))
        .and_then(|t| t.as_table_like_mut())
        .ok_or_else(|| ToggleError::NoSuchProfile {
            path: shown.clone(),
            profile: profile.to_string(),
        })?;
    match table
        .get_mut("enabled")
        .and_then(|item| item.as_value_mut())
    {
        // Keep the spacing and any comment around the old value.
        Some(value) => {
            let decor = value.decor().clone();
            *value = toml_edit::Value::from(enabled);
            *value.decor_mut() = decor;
        }
        None => {
            table.insert("enabled", toml_edit::value(enabled));
        }
    }
    let tmp = project.join(format!(".{PROJECT_FILE}.corral-tmp"));
    std::fs::write(&tmp, doc.to_string()).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_enabled_key_changes_and_comments_stay() {
        let dir = tempfile::tempdir().unwrap();
        let text = "# my agents\n[profiles.coding]\nrole = \"coding\"   # the main one\ncommand = [\"a\"]\n\n\
                    [profiles.tester]\nrole = \"testing\"\ncommand = [\"b\"]\nenabled = true # keep\n";
        std::fs::write(dir.path().join("corral.toml"), text).unwrap();
        set_profile_enabled(dir.path(), "coding", false).unwrap();
        set_profile_enabled(dir.path(), "tester", false).unwrap();
        let after = std::fs::read_to_string(dir.path().join("corral.toml")).unwrap();
        assert!(
            after.starts_with(
                "# my agents\n[profiles.coding]\nrole = \"coding\"   # the main one\n"
            )
        );
        assert!(after.contains("enabled = false # keep"), "{after}");
        let c = crate::config::Config::parse(&after, "corral.toml").unwrap();
        assert!(!c.profiles["coding"].enabled && !c.profiles["tester"].enabled);
        let err = set_profile_enabled(dir.path(), "nope", true).unwrap_err();
        assert!(err.to_string().contains("has no [profiles.nope]"));
    }
}
