//! `corral init`: a commented corral.toml and the state directory.

use crate::config::{DEFAULT_CONFIG, PROJECT_FILE};
use crate::runtime::store::{Store, StoreError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0} exists; pass --force to overwrite it")]
    Exists(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes `<project>/corral.toml` (unless it exists and `force` is false) and creates
/// `.corral/` with an empty database. `exe` is the running corral, written into the example
/// profile so it works before corral is on PATH. Returns the config path.
pub fn init_project(project: &Path, force: bool, exe: Option<&Path>) -> Result<PathBuf, InitError> {
    let path = project.join(PROJECT_FILE);
    if path.exists() && !force {
        return Err(InitError::Exists(path));
    }
    std::fs::create_dir_all(project).map_err(|source| InitError::Io {
        path: project.to_path_buf(),
        source,
    })?;
    std::fs::write(&path, example_config(exe)).map_err(|source| InitError::Io {
        path: path.clone(),
        source,
    })?;
    Store::open(project)?;
    Ok(path)
}

/// The example profile's command as shipped: `corral` found on PATH.
const EXAMPLE_COMMAND: &str = r#"command = ["corral", "demo-agent", "--feature", "{feature_id}"]"#;

/// The default config, its example profile running `exe` by its absolute path: a fresh clone
/// has no `corral` on PATH yet, and the first run must not fail with "program not found".
fn example_config(exe: Option<&Path>) -> String {
    let Some(exe) = exe.filter(|e| e.is_absolute()).and_then(Path::to_str) else {
        return DEFAULT_CONFIG.to_string();
    };
    let quoted = toml::Value::String(exe.to_string()).to_string();
    let command = format!(
        "# `corral init` wrote the full path of the corral that ran it, so this example works\n\
         # before corral is on PATH; once it is (`cargo install --path .`), \"corral\" will do.\n\
         command = [{quoted}, \"demo-agent\", \"--feature\", \"{{feature_id}}\"]"
    );
    DEFAULT_CONFIG.replacen(EXAMPLE_COMMAND, &command, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_example_profile_runs_the_given_corral_whatever_its_path_holds() {
        assert!(
            DEFAULT_CONFIG.contains(EXAMPLE_COMMAND),
            "the line init replaces"
        );
        let exe = Path::new("/opt/my \"tools\"\\bin/corral");
        let text = example_config(Some(exe));
        let config = Config::parse(&text, "corral.toml").unwrap();
        let command = &config.profiles["coding"].command;
        assert_eq!(command[0], exe.to_str().unwrap());
        assert_eq!(command[1..], ["demo-agent", "--feature", "{feature_id}"]);
        // A relative or missing path keeps the shipped `corral` (found on PATH).
        for exe in [None, Some(Path::new("corral"))] {
            assert_eq!(example_config(exe), DEFAULT_CONFIG);
        }
    }
}
