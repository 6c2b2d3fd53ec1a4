//! `corral init`: a commented corral.toml and the state directory.

use crate::config::{DEFAULT_CONFIG, PROJECT_FILE};
use crate::runtime::store::{Store, StoreError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `corral init` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Initialised {
    /// The project's corral.toml.
    pub config: PathBuf,
    /// False when a corral.toml was there already and kept (no `--force`).
    pub wrote_config: bool,
    /// The state directory, and whether it was made now (false: it was there).
    pub state: PathBuf,
    pub made_state: bool,
}

impl Initialised {
    /// What to tell the user, one line per thing done or kept.
    pub fn describe(&self) -> String {
        let config = match self.wrote_config {
            true => format!("wrote {}", self.config.display()),
            false => format!(
                "kept the existing {} (`corral init --force` overwrites it with the commented example)",
                self.config.display()
            ),
        };
        let state = match self.made_state {
            true => format!("created {}", self.state.display()),
            false => format!("{} is there already", self.state.display()),
        };
        format!("{config}\n{state}")
    }
}

/// Creates `.corral/` with an empty database (or keeps the one there) and writes
/// `<project>/corral.toml`, unless one exists and `force` is false: the user's file is kept.
/// `exe` is the running corral, written into the example profile so it works before corral is
/// on PATH.
pub fn init_project(
    project: &Path,
    force: bool,
    exe: Option<&Path>,
) -> Result<Initialised, InitError> {
    let path = project.join(PROJECT_FILE);
    std::fs::create_dir_all(project).map_err(|source| InitError::Io {
        path: project.to_path_buf(),
        source,
    })?;
    let state = crate::runtime::store::state_dir(project);
    let made_state = !state.join("corral.db").exists();
    let write = force || !path.exists();
    if write {
        std::fs::write(&path, example_config(exe)).map_err(|source| InitError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Store::open(project)?;
    Ok(Initialised {
        config: path,
        wrote_config: write,
        state,
        made_state,
    })
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
