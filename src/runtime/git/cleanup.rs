//! Finding and removing feature worktrees safely: a worktree and its branch go only once the
//! branch's work is on the base (an ancestor of it, its squash commit on it, or every commit
//! patch-equivalent to one on it); anything else is kept, with the reason.

use super::merge::HEAD_TRAILER;
use super::{Git, GitError, project_folder, with_repo, worktrees_root};
use crate::core::worktree::{
    BranchFacts, ListedWorktree, Verdict, parse_worktree_list, removal_verdict,
};
use crate::runtime::store::{Store, WorktreeRecord};
use serde::Serialize;
use std::path::Path;

/// One worktree as `corral worktree list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WorktreeReport {
    /// `None` for a worktree corral made that no feature owns any more.
    pub feature_id: Option<i64>,
    pub path: String,
    pub branch: String,
    pub base: String,
    /// Where its merge stands (`merged`, `waiting`, ...; empty before the feature passed).
    pub merge_state: String,
    pub merge_note: String,
    pub exists: bool,
    pub locked: bool,
    pub disk_bytes: u64,
    /// Whether prune would remove it, and why (or why not).
    pub removable: bool,
    pub reason: String,
}

/// Bytes under `path` (not following symlinks).
fn disk_use(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|d| d.flatten().map(|e| disk_use(&e.path())).sum())
        .unwrap_or(0)
}

fn count(git: &Git, args: &[&str]) -> Result<u32, GitError> {
    Ok(git.run(args)?.trim().parse().unwrap_or(0))
}

/// What git says about `rec`'s branch (see [`BranchFacts`]); `copy` files don't make it dirty.
pub fn facts(
    project: &Path,
    rec: &WorktreeRecord,
    listed: Option<&ListedWorktree>,
    copy: &[String],
) -> Result<Option<BranchFacts>, GitError> {
    let main = Git::at(project);
    let reference = format!("refs/heads/{}", rec.branch);
    if !main.succeeds(&["show-ref", "--verify", "--quiet", &reference])? {
        return Ok(None);
    }
    let base = rec.base.as_str();
    let tip = main.run(&["rev-parse", &rec.branch])?;
    let range = format!("{base}..{}", rec.branch);
    let ahead = count(&main, &["rev-list", "--count", &range])?;
    let cherry = main.run(&["cherry", base, &rec.branch])?;
    let unmatched = cherry.lines().filter(|l| l.starts_with('+')).count() as u32;
    let grep = format!("{HEAD_TRAILER} {tip}");
    let squashed = !main
        .run(&["log", base, "--format=%H", "-F", "--grep", &grep, "-n", "1"])?
        .is_empty();
    let path = Path::new(&rec.path);
    let dirty = path.exists()
        && Git::at(path)
            .run(&["status", "--porcelain"])?
            .lines()
            .filter_map(|l| l.get(3..))
            .any(|f| {
                !copy
                    .iter()
                    .any(|c| f == c || f.starts_with(&format!("{c}/")))
            });
    Ok(Some(BranchFacts {
        ancestor: main.succeeds(&["merge-base", "--is-ancestor", &rec.branch, base])?,
        ahead,
        unmatched,
        squashed,
        dirty,
        live: listed.is_some_and(|w| w.locked.is_some()),
    }))
}

/// Every worktree of the project: the stored ones, then the ones under corral's folder for the
/// project that no feature owns.
pub fn report(
    project: &Path,
    store: &Store,
    copy: &[String],
) -> Result<Vec<WorktreeReport>, GitError> {
    let main = Git::at(project);
    let listed = parse_worktree_list(&main.run(&["worktree", "list", "--porcelain"])?);
    let stored = store
        .worktrees()
        .map_err(|e| GitError::Other(e.to_string()))?;
    let mut out = Vec::new();
    for rec in &stored {
        let l = listed.iter().find(|w| w.path == rec.path);
        // A pull request merged upstream: its work is on the base there.
        let pr_merged =
            rec.merge_state == "pr" && super::pr::is_merged(project, &rec.merge_note) == Some(true);
        if pr_merged {
            if let Err(e) = super::pr::follow_remote_base(project, &rec.base) {
                log::warn!("updating {} from origin: {e}", rec.base);
            }
            let now = crate::runtime::now_ms();
            let _ = store.set_merge_state(rec.feature_id, "merged", &rec.merge_note, now);
        }
        let (removable, reason) = match facts(project, rec, l, copy)? {
            None => (true, "its branch is gone".to_string()),
            Some(f) if pr_merged && !f.dirty && !f.live => {
                (true, "merged: its pull request is merged".to_string())
            }
            Some(f) => match removal_verdict(&f) {
                Verdict::Remove(why) => (true, why.to_string()),
                Verdict::Keep(why) => (false, why),
            },
        };
        out.push(WorktreeReport {
            feature_id: Some(rec.feature_id),
            path: rec.path.clone(),
            branch: rec.branch.clone(),
            base: rec.base.clone(),
            merge_state: rec.merge_state.clone(),
            merge_note: rec.merge_note.clone(),
            exists: Path::new(&rec.path).exists(),
            locked: l.is_some_and(|w| w.locked.is_some()),
            disk_bytes: disk_use(Path::new(&rec.path)),
            removable,
            reason,
        });
    }
    if let Some(root) = worktrees_root() {
        let folder = project_folder(&root, project);
        for w in &listed {
            if Path::new(&w.path).starts_with(&folder) && !stored.iter().any(|r| r.path == w.path) {
                out.push(WorktreeReport {
                    feature_id: None,
                    path: w.path.clone(),
                    branch: w
                        .branch
                        .as_deref()
                        .map_or("(detached)", |b| b.trim_start_matches("refs/heads/"))
                        .to_string(),
                    base: String::new(),
                    merge_state: String::new(),
                    merge_note: String::new(),
                    exists: Path::new(&w.path).exists(),
                    locked: w.locked.is_some(),
                    disk_bytes: disk_use(Path::new(&w.path)),
                    removable: false,
                    reason: "no feature owns it: remove it with `git worktree remove` once its work is safe".into(),
                });
            }
        }
    }
    Ok(out)
}

/// Removes what [`report`] says is safe to remove (unless `dry_run`): the worktree, its branch
/// and the store's record. Returns the report, as it was before removing.
pub fn prune(
    project: &Path,
    store: &Store,
    copy: &[String],
    dry_run: bool,
) -> Result<Vec<WorktreeReport>, GitError> {
    with_repo(project, || {
        let reports = report(project, store, copy)?;
        if dry_run {
            return Ok(reports);
        }
        let main = Git::at(project);
        for r in reports.iter().filter(|r| r.removable) {
            if r.exists {
                // --force: what is left is ignored or copied in (node_modules, .env), all
                // rebuildable; the verdict already made sure no work is lost.
                main.run(&["worktree", "remove", "--force", &r.path])?;
            }
            let reference = format!("refs/heads/{}", r.branch);
            if main.succeeds(&["show-ref", "--verify", "--quiet", &reference])? {
                main.run(&["branch", "-D", &r.branch])?;
            }
            if let Some(id) = r.feature_id {
                store
                    .forget_worktree(id)
                    .map_err(|e| GitError::Other(e.to_string()))?;
            }
        }
        main.run(&["worktree", "prune"])?;
        Ok(reports)
    })
}
