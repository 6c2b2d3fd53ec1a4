//! Git, driven through the `git` command: every call runs `git -C DIR` with `LC_ALL=C` (so
//! messages and porcelain output are the same everywhere) and `GIT_TERMINAL_PROMPT=0` (so a
//! push never waits for a password nobody will type). Compound operations on one repository
//! hold its lock ([`repo_lock`]), so two never interleave.

pub mod cleanup;
pub mod diff;
pub mod land;
pub mod merge;
pub mod ports;
pub mod pr;
pub mod prepare;
pub mod run;
pub mod worktree;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// A git command that could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git {args}: cannot run git: {source}")]
    Spawn {
        args: String,
        #[source]
        source: std::io::Error,
    },
    #[error("git {args} (in {dir}) failed: {stderr}")]
    Failed {
        args: String,
        dir: String,
        stderr: String,
    },
    #[error("{0}")]
    Other(String),
}

/// Runs git in one directory (a main checkout or a worktree).
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    pub fn at(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command, ready to run: `git -C DIR ARGS` in the C locale, never prompting.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            // An editor would wait for a person: merges and commits always pass a message.
            .env("GIT_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs and returns whatever happened, success or not.
    pub fn output(&self, args: &[&str]) -> Result<Output, GitError> {
        self.command(args)
            .output()
            .map_err(|source| GitError::Spawn {
                args: args.join(" "),
                source,
            })
    }

    /// Runs and returns stdout (trailing newline trimmed); a non-zero exit is an error
    /// carrying git's own message.
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.output(args)?;
        if !out.status.success() {
            return Err(GitError::Failed {
                args: args.join(" "),
                dir: self.dir.display().to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_string())
    }

    /// Whether the command exits 0 (for `--verify`, `--is-ancestor`, `diff --quiet`).
    pub fn succeeds(&self, args: &[&str]) -> Result<bool, GitError> {
        Ok(self.output(args)?.status.success())
    }
}

/// Whether `dir` is inside a git work tree (false when git is not installed).
pub fn is_repo(dir: &Path) -> bool {
    Git::at(dir)
        .run(&["rev-parse", "--is-inside-work-tree"])
        .is_ok_and(|s| s == "true")
}

/// Whether the repository at `dir` has a commit to start branches from (a fresh `git init`
/// has none: features then work in the main checkout until the first commit).
pub fn has_commit(dir: &Path) -> bool {
    Git::at(dir)
        .succeeds(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])
        .unwrap_or(false)
}

/// [`is_repo`] and [`has_commit`] together, asked of git at most once a second per directory:
/// one scheduling decision that starts ten runs asks twice per run, and each answer costs one
/// or two git processes (tens of milliseconds on a loaded machine), which made the tenth agent
/// start half a second after the first. A repository made (or first committed to) meanwhile is
/// seen within the second.
pub fn repo_with_commit(dir: &Path) -> bool {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(1);
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, (std::time::Instant, bool)>>> = OnceLock::new();
    let seen = SEEN.get_or_init(Default::default);
    let lock = || seen.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&(at, answer)) = lock().get(dir)
        && at.elapsed() < FRESH
    {
        return answer;
    }
    let answer = is_repo(dir) && has_commit(dir);
    lock().insert(dir.to_path_buf(), (std::time::Instant::now(), answer));
    answer
}

/// The lock serialising git operations on one repository (keyed by its top-level directory).
pub fn repo_lock(project: &Path) -> Arc<Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    let key = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    locks.entry(key).or_default().clone()
}

/// Holds [`repo_lock`] for the scope of a compound operation.
pub(crate) fn with_repo<T>(project: &Path, f: impl FnOnce() -> T) -> T {
    let lock = repo_lock(project);
    let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
    f()
}

/// Where corral keeps worktrees: `<data dir>/worktrees` (on Linux
/// `$XDG_DATA_HOME/corral/worktrees`, usually `~/.local/share/corral/worktrees`), outside every
/// repository so git commands in a worktree never reach the main checkout by walking up.
pub fn worktrees_root() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "corral").map(|d| d.data_dir().join("worktrees"))
}

/// The folder of one project's worktrees under `root`: its directory name and a hash of its
/// full path, so two projects of the same name never share one.
pub fn project_folder(root: &Path, project: &Path) -> PathBuf {
    let full = project
        .canonicalize()
        .unwrap_or_else(|_| project.to_path_buf());
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    let hash = crate::core::worktree::fnv64(full.to_string_lossy().as_bytes());
    root.join(format!(
        "{}-{hash:016x}",
        crate::core::worktree::slug(&name, 40)
    ))
}
