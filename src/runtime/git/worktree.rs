//! A feature's worktree: created from the base on its own branch (or found again), given the
//! copied files and the setup command, locked while a run uses it.

use super::{Git, GitError, with_repo};
use crate::config::GitConfig;
use crate::core::worktree::{branch_name, folder_name, parse_worktree_list};
use crate::runtime::store::{Store, WorktreeRecord};
use std::path::{Path, PathBuf};

/// The key under which the base branch chosen at set-up is stored.
const BASE_SETTING: &str = "git.base";

/// The branch features start from and merge into: `[git] base`, else the branch recorded the
/// first time, else the branch checked out now (which is then recorded).
pub fn resolve_base(project: &Path, cfg: &GitConfig, store: &Store) -> Result<String, GitError> {
    if let Some(base) = &cfg.base {
        return Ok(base.clone());
    }
    if let Ok(Some(base)) = store.setting(BASE_SETTING) {
        return Ok(base);
    }
    let head = Git::at(project)
        .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map_err(|_| {
            GitError::Other(format!(
                "{}: HEAD is detached, so there is no base branch: check out a branch or set \
                 [git] base",
                project.display()
            ))
        })?;
    store
        .set_setting(BASE_SETTING, &head)
        .map_err(|e| GitError::Other(e.to_string()))?;
    Ok(head)
}

/// What [`ensure`] found or made.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub record: WorktreeRecord,
    /// Made now (so the setup command is due), rather than found again.
    pub created: bool,
    /// Files copied in from the project (to be left out of commits).
    pub copied: Vec<String>,
}

/// Finds feature `id`'s worktree or creates it on branch `<prefix><id>-<slug>` from `base`,
/// under `folder` (the project's folder in corral's data directory), copying `[git] copy`.
/// The caller runs the setup command when `created`.
pub fn ensure(
    project: &Path,
    folder: &Path,
    cfg: &GitConfig,
    base: &str,
    id: i64,
    name: &str,
    known: Option<&WorktreeRecord>,
) -> Result<Prepared, GitError> {
    with_repo(project, || {
        let git = Git::at(project);
        let branch = known.map_or_else(
            || branch_name(&cfg.branch_prefix, id, name),
            |k| k.branch.clone(),
        );
        let path = known.map_or_else(
            || folder.join(folder_name(id, name)),
            |k| PathBuf::from(&k.path),
        );
        let listed = parse_worktree_list(&git.run(&["worktree", "list", "--porcelain"])?);
        let path_s = path.to_string_lossy().into_owned();
        let full_ref = format!("refs/heads/{branch}");
        if let Some(w) = listed.iter().find(|w| w.path == path_s)
            && !w.prunable
            && path.join(".git").exists()
        {
            if w.branch.as_deref() != Some(full_ref.as_str()) {
                return Err(GitError::Other(format!(
                    "{}: the worktree is not on branch {branch} any more: check it out there \
                     or remove the worktree",
                    path.display()
                )));
            }
            let base_commit = match known {
                Some(k) => k.base_commit.clone(),
                None => git.run(&["merge-base", base, &branch])?,
            };
            return Ok(Prepared {
                record: record(id, &path_s, &branch, base, &base_commit, known),
                created: false,
                copied: copied_present(&path, &cfg.copy),
            });
        }
        // A folder deleted by hand leaves git's record behind; clear it before adding again.
        git.run(&["worktree", "prune"])?;
        std::fs::create_dir_all(folder)
            .map_err(|e| GitError::Other(format!("{}: cannot create: {e}", folder.display())))?;
        let base_commit = git
            .run(&["rev-parse", "--verify", "--quiet", &format!("{base}^{{commit}}")])
            .map_err(|_| {
                GitError::Other(format!(
                    "base branch {base:?} does not exist in {}: set [git] base to an existing branch",
                    project.display()
                ))
            })?;
        let exists = git.succeeds(&["show-ref", "--verify", "--quiet", &full_ref])?;
        if exists {
            git.run(&["worktree", "add", &path_s, &branch])?;
        } else {
            git.run(&["worktree", "add", "-b", &branch, &path_s, &base_commit])?;
        }
        let copied = copy_files(project, &path, &cfg.copy)?;
        let base_commit = if exists {
            git.run(&["merge-base", base, &branch])?
        } else {
            base_commit
        };
        Ok(Prepared {
            record: record(id, &path_s, &branch, base, &base_commit, None),
            created: true,
            copied,
        })
    })
}

fn record(
    id: i64,
    path: &str,
    branch: &str,
    base: &str,
    base_commit: &str,
    known: Option<&WorktreeRecord>,
) -> WorktreeRecord {
    WorktreeRecord {
        feature_id: id,
        path: path.into(),
        branch: branch.into(),
        base: base.into(),
        base_commit: base_commit.into(),
        merge_state: known.map_or_else(String::new, |k| k.merge_state.clone()),
        merge_note: known.map_or_else(String::new, |k| k.merge_note.clone()),
    }
}

fn copied_present(worktree: &Path, copy: &[String]) -> Vec<String> {
    copy.iter()
        .filter(|c| worktree.join(c).exists())
        .cloned()
        .collect()
}

/// Copies each `[git] copy` path that exists in the project (files, or folders with what is
/// in them) into the new worktree. Missing ones are skipped: a `.env` is often optional.
fn copy_files(project: &Path, worktree: &Path, copy: &[String]) -> Result<Vec<String>, GitError> {
    let mut done = Vec::new();
    for rel in copy {
        let from = project.join(rel);
        if !from.exists() {
            continue;
        }
        copy_tree(&from, &worktree.join(rel))
            .map_err(|e| GitError::Other(format!("[git] copy: {}: {e}", from.display())))?;
        done.push(rel.clone());
    }
    Ok(done)
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from)?;
        let _ = std::fs::remove_file(to);
        std::os::unix::fs::symlink(target, to)
    } else {
        std::fs::copy(from, to).map(drop)
    }
}

/// Locks the worktree for run `run` (`git worktree lock`), so no prune removes it meanwhile.
/// Already locked (a run before a crash) counts as locked.
pub fn lock(project: &Path, worktree: &Path, run: i64) -> Result<(), GitError> {
    with_repo(project, || {
        let path = worktree.to_string_lossy();
        let reason = format!("corral run {run}");
        let out = Git::at(project).output(&["worktree", "lock", "--reason", &reason, &path])?;
        if out.status.success() || String::from_utf8_lossy(&out.stderr).contains("already locked") {
            Ok(())
        } else {
            Err(GitError::Failed {
                args: "worktree lock".into(),
                dir: project.display().to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().into(),
            })
        }
    })
}

/// Unlocks it once the run has ended; not locked is fine.
pub fn unlock(project: &Path, worktree: &Path) {
    with_repo(project, || {
        let path = worktree.to_string_lossy();
        let _ = Git::at(project).output(&["worktree", "unlock", &path]);
    });
}

/// Removes a worktree that has nothing of value (used when its setup failed, so the next run
/// starts from a fresh one), and its branch when that has no commits beyond `base_commit`.
pub fn discard_fresh(project: &Path, rec: &WorktreeRecord) {
    with_repo(project, || {
        let git = Git::at(project);
        let _ = git.output(&["worktree", "remove", "--force", &rec.path]);
        let tip = git.run(&["rev-parse", "--verify", "--quiet", &rec.branch]);
        if tip.is_ok_and(|t| t == rec.base_commit) {
            let _ = git.output(&["branch", "-D", &rec.branch]);
        }
    });
}
