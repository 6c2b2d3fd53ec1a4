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
/// `.corral/` with an empty database. Returns the config path.
pub fn init_project(project: &Path, force: bool) -> Result<PathBuf, InitError> {
    let path = project.join(PROJECT_FILE);
    if path.exists() && !force {
        return Err(InitError::Exists(path));
    }
    std::fs::create_dir_all(project).map_err(|source| InitError::Io {
        path: project.to_path_buf(),
        source,
    })?;
    std::fs::write(&path, DEFAULT_CONFIG).map_err(|source| InitError::Io {
        path: path.clone(),
        source,
    })?;
    Store::open(project)?;
    Ok(path)
}
