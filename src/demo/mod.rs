//! The built-in demo: a small web-shop backlog worked on by a fake agent that looks busy.

pub mod agent;
pub mod backlog;
pub mod stream;

use crate::runtime::now_ms;
use crate::runtime::store::{Store, StoreError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "{0} already holds a corral project; open it with `corral --project {0}` or pick an empty directory"
    )]
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

/// A fresh directory for a demo under the system temp dir.
pub fn default_demo_dir() -> PathBuf {
    std::env::temp_dir().join(format!("corral-demo-{}-{}", std::process::id(), now_ms()))
}

/// Writes a demo project into `dir`: a corral.toml whose profile runs `exe demo-agent`, and the
/// demo backlog in `.corral/corral.db`. Refuses a directory that already has a corral.toml.
pub fn create_demo_project(dir: &Path, exe: &Path) -> Result<(), DemoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io { path, source }
    };
    let config = dir.join(crate::config::PROJECT_FILE);
    if config.exists() {
        return Err(DemoError::Exists(dir.to_path_buf()));
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    std::fs::write(&config, backlog::demo_config(exe)).map_err(io(&config))?;
    let items = backlog::demo_backlog();
    let mut store = Store::open(dir)?;
    store.add_features(&items, now_ms())?;
    Ok(())
}
