//! One owner per project: only the corral holding `.corral/lock` runs the project's agents.

use super::process::process_start_time;
use super::store::{StoreError, ensure_state_dir};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{project}: another corral (pid {holder}) is already running this project's agents; \
         close it first (read-only commands such as `corral status` work alongside it)"
    )]
    Held { project: PathBuf, holder: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Held for as long as this corral owns the project; dropping it (or dying) releases it.
///
/// The kernel ties an flock to the open file, so a lock left by a crashed or SIGKILLed corral
/// is gone with its process, and a reused pid can never look like a live owner. The file also
/// names the owner (pid and process start time) for the message a second corral prints.
#[derive(Debug)]
pub struct ProjectLock {
    _file: Flock<File>,
}

pub fn acquire(project: &Path) -> Result<ProjectLock, LockError> {
    let path = ensure_state_dir(project)?.join("lock");
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    // std opens files close-on-exec, so agents never inherit (and never hold) the lock.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(locked) => locked,
        Err((mut file, nix::Error::EWOULDBLOCK)) => {
            let mut owner = String::new();
            let _ = file.read_to_string(&mut owner);
            let holder = owner
                .split_whitespace()
                .next()
                .unwrap_or("unknown")
                .to_string();
            return Err(LockError::Held {
                project: project.to_path_buf(),
                holder,
            });
        }
        Err((_, e)) => return Err(io(e.into())),
    };
    let pid = std::process::id();
    let start = process_start_time(pid).map_or("-".to_string(), |t| t.to_string());
    file.set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| writeln!(file, "{pid} {start}"))
        .map_err(io)?;
    Ok(ProjectLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_refused_with_the_holders_pid_and_the_lock_frees_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).unwrap();
        let err = acquire(dir.path()).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        assert!(acquire(dir.path()).is_ok());
    }
}
