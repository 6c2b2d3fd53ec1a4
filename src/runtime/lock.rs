//! One owner per project: only the corral holding `.corral/lock` runs the project's agents.
//!
//! The lock is held twice: on the project directory itself, which deleting `.corral/` cannot
//! take away (so a second corral is refused even then), and on `.corral/lock`, which names
//! the owner. [`ProjectLock::relink`] notices a deleted or replaced lock file and makes it
//! again.

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
         close it first (`corral daemon stop` when it is the daemon; `corral agent list` and \
         read-only commands such as `corral status` work alongside it)"
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
    file: Flock<File>,
    /// The project directory, locked for as long as this corral owns it.
    _dir: Flock<File>,
    path: PathBuf,
    /// The corral that owned the project before this one ended without stopping cleanly
    /// (killed outright): its lock file named it and never said `ended=clean`.
    pub ended_uncleanly: bool,
}

/// The line a corral adds to its lock file once it has stopped every agent and saved its
/// state; a lock file without it names a corral that was killed.
const CLEAN_END: &str = "ended=clean";

impl ProjectLock {
    /// Says in the lock file that this corral stopped cleanly (see [`CLEAN_END`]).
    pub fn mark_clean_end(&self) {
        let mut file: &File = &self.file;
        if let Err(e) = file
            .seek(std::io::SeekFrom::End(0))
            .and_then(|_| writeln!(file, "{CLEAN_END}"))
        {
            log::warn!("{}: {e}", self.path.display());
        }
    }

    /// Makes `.corral/lock` again if it was deleted or replaced since it was taken; says so.
    /// The directory lock never lapsed, so nobody else can own the project meanwhile.
    pub fn relink(&mut self, project: &Path) -> Result<Option<String>, LockError> {
        if same_file(&self.file, &self.path) {
            return Ok(None);
        }
        let fresh = lock_file(project, &self.path)?;
        self.file = fresh;
        Ok(Some(format!(
            "{} was deleted or replaced; made it again",
            self.path.display()
        )))
    }
}

/// Whether `path` is still the file `file` has open.
pub(crate) fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

pub fn acquire(project: &Path) -> Result<ProjectLock, LockError> {
    let path = ensure_state_dir(project)?.join("lock");
    let dir_io = |source| LockError::Io {
        path: project.to_path_buf(),
        source,
    };
    // std opens close-on-exec: agents never inherit (and never hold) either lock.
    let dir = File::open(project).map_err(dir_io)?;
    let dir = match Flock::lock(dir, FlockArg::LockExclusiveNonblock) {
        Ok(locked) => locked,
        Err((_, nix::Error::EWOULDBLOCK)) => {
            return Err(LockError::Held {
                project: project.to_path_buf(),
                holder: holder_named_in(&path),
            });
        }
        Err((_, e)) => return Err(dir_io(e.into())),
    };
    // Read before this corral writes its own name over it.
    let ended_uncleanly = std::fs::read_to_string(&path).is_ok_and(|previous| {
        previous.split_whitespace().next().is_some() && !previous.lines().any(|l| l == CLEAN_END)
    });
    let file = lock_file(project, &path)?;
    Ok(ProjectLock {
        file,
        _dir: dir,
        path,
        ended_uncleanly,
    })
}

/// The owner's pid as its lock file names it.
fn holder_named_in(path: &Path) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|owner| owner.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

/// Opens, locks and fills in `.corral/lock`.
fn lock_file(project: &Path, path: &Path) -> Result<Flock<File>, LockError> {
    ensure_state_dir(project)?;
    let path = path.to_path_buf();
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
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
    // The first line as it always was ("pid start"); then what a client needs to know
    // without connecting (see `daemon::LockInfo`).
    let socket = super::control::socket_path(project);
    file.set_len(0)
        .and_then(|_| file.rewind())
        .and_then(|_| {
            writeln!(
                file,
                "{pid} {start}\nversion={}\nprotocol={}\nsocket={}",
                env!("CARGO_PKG_VERSION"),
                crate::api::PROTOCOL_VERSION,
                socket.display()
            )
        })
        .map_err(io)?;
    Ok(file)
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

    #[test]
    fn the_next_owner_knows_whether_the_last_one_ended_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path()).unwrap();
        assert!(!first.ended_uncleanly, "nobody owned it before");
        first.mark_clean_end();
        drop(first);
        let second = acquire(dir.path()).unwrap();
        assert!(!second.ended_uncleanly, "the first one stopped cleanly");
        // Dropped without saying so: as a killed corral leaves it.
        drop(second);
        let third = acquire(dir.path()).unwrap();
        assert!(third.ended_uncleanly);
        let named = std::fs::read_to_string(dir.path().join(".corral/lock")).unwrap();
        assert!(
            !named.contains(CLEAN_END),
            "a new owner starts unmarked: {named}"
        );
    }

    #[test]
    fn a_deleted_state_directory_keeps_the_owner_and_the_lock_file_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut lock = acquire(dir.path()).unwrap();
        assert!(lock.relink(dir.path()).unwrap().is_none(), "nothing to do");
        std::fs::remove_dir_all(dir.path().join(".corral")).unwrap();
        // The project directory is still locked: no second owner, even with no lock file.
        assert!(matches!(acquire(dir.path()), Err(LockError::Held { .. })));
        let said = lock.relink(dir.path()).unwrap().unwrap();
        assert!(said.contains("lock"), "{said}");
        let named = std::fs::read_to_string(dir.path().join(".corral/lock")).unwrap();
        assert!(
            named.starts_with(&std::process::id().to_string()),
            "{named}"
        );
        assert!(matches!(acquire(dir.path()), Err(LockError::Held { .. })));
    }
}
