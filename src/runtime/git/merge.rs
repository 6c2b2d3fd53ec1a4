//! Taking a passing feature's branch back to the base: commit what the agent left, rebase
//! when the base moved, then land it by the configured strategy. The main checkout is never
//! touched while it has uncommitted changes, and a conflict leaves the repository exactly as
//! it was.

use super::{Git, GitError, with_repo};
use crate::config::MergeStrategy;
use crate::runtime::store::WorktreeRecord;
use std::path::Path;

/// How a merge attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// On the base now, as this commit.
    Merged { commit: String },
    /// Nothing on the branch that the base lacks.
    NothingToMerge,
    /// Not tried: the main checkout has uncommitted changes, or is on another branch.
    Waiting(String),
    /// Rebasing onto the base conflicts in these files; everything is as it was.
    Conflict(Vec<String>),
    /// The strategy leaves the landing to a person (`review`, `none`).
    Left(&'static str),
    /// Pushed, with a pull request open (its URL), or what a person must do.
    PullRequest(String),
}

impl MergeOutcome {
    /// `(merge_state, merge_note)` as stored.
    pub fn state(&self) -> (&'static str, String) {
        match self {
            MergeOutcome::Merged { commit } => ("merged", commit.clone()),
            MergeOutcome::NothingToMerge => ("merged", "nothing to merge".into()),
            MergeOutcome::Waiting(why) => ("waiting", why.clone()),
            MergeOutcome::Conflict(files) => ("conflict", files.join(", ")),
            MergeOutcome::PullRequest(url) => ("pr", url.clone()),
            MergeOutcome::Left(why) => (
                if *why == "review" { "review" } else { "left" },
                why.to_string(),
            ),
        }
    }
}

/// The trailer that ties a squash commit to the branch tip it squashed, so cleanup can tell
/// the branch's work is on the base.
pub const HEAD_TRAILER: &str = "Corral-Squashed-Head:";

/// Commits whatever the agent left uncommitted in the worktree, never the `copied` files
/// (`[git] copy`) nor ignored ones. True when it made a commit.
pub fn commit_leftovers(
    rec: &WorktreeRecord,
    name: &str,
    copied: &[String],
) -> Result<bool, GitError> {
    let wt = Git::at(Path::new(&rec.path));
    if wt.run(&["status", "--porcelain"])?.is_empty() {
        return Ok(false);
    }
    let mut args: Vec<String> = ["add", "-A", "--", "."].map(String::from).to_vec();
    args.extend(copied.iter().map(|c| format!(":(exclude,literal){c}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wt.run(&args)?;
    if wt.succeeds(&["diff", "--cached", "--quiet"])? {
        return Ok(false);
    }
    let msg = format!(
        "feature {}: {name} (changes the agent left uncommitted)",
        rec.feature_id
    );
    wt.run(&["commit", "--quiet", "--no-verify", "-m", &msg])?;
    Ok(true)
}

/// Lands feature `rec`'s branch on its base in `project` by `strategy` (see the module docs).
/// `copied` are the `[git] copy` files to keep out of commits.
pub fn merge_feature(
    project: &Path,
    rec: &WorktreeRecord,
    name: &str,
    strategy: MergeStrategy,
    copied: &[String],
) -> Result<MergeOutcome, GitError> {
    with_repo(project, || {
        commit_leftovers(rec, name, copied)?;
        let main = Git::at(project);
        let wt = Git::at(Path::new(&rec.path));
        let base = rec.base.as_str();
        let ahead: u32 = main
            .run(&["rev-list", "--count", &format!("{base}..{}", rec.branch)])?
            .parse()
            .unwrap_or(0);
        if ahead == 0 {
            return Ok(MergeOutcome::NothingToMerge);
        }
        match strategy {
            MergeStrategy::Review => return Ok(MergeOutcome::Left("review")),
            MergeStrategy::None => {
                return Ok(MergeOutcome::Left(
                    "left for a person ([git] merge = \"none\")",
                ));
            }
            _ => {}
        }
        // The base moved since the branch started: replay the branch on it first, in the
        // feature's own worktree, so any conflict shows up there and not in the main checkout.
        if !wt.succeeds(&["merge-base", "--is-ancestor", base, "HEAD"])? {
            let out = wt.output(&["rebase", "--quiet", base])?;
            if !out.status.success() {
                let files = wt.run(&["diff", "--name-only", "--diff-filter=U"])?;
                let _ = wt.output(&["rebase", "--abort"]);
                let mut files: Vec<String> = files.lines().map(String::from).collect();
                if files.is_empty() {
                    files.push(String::from_utf8_lossy(&out.stderr).trim().to_string());
                }
                return Ok(MergeOutcome::Conflict(files));
            }
        }
        if strategy == MergeStrategy::Pr {
            if rec.merge_state == "pr" {
                return Ok(MergeOutcome::PullRequest(rec.merge_note.clone()));
            }
            return super::pr::push_and_open(project, rec, name).map(MergeOutcome::PullRequest);
        }
        let checked_out = main
            .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
            .ok();
        let on_base = checked_out.as_deref() == Some(base);
        if on_base {
            let dirty = main.run(&["status", "--porcelain", "--untracked-files=no"])?;
            if !dirty.is_empty() {
                return Ok(MergeOutcome::Waiting(format!(
                    "waiting for a clean checkout: {} has uncommitted changes ({})",
                    project.display(),
                    dirty
                        .lines()
                        .map(|l| l.get(3..).unwrap_or(l))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        } else if base_checked_out_elsewhere(&main, base)? {
            return Ok(MergeOutcome::Waiting(format!(
                "waiting: {base} is checked out in another worktree"
            )));
        }
        let tip = main.run(&["rev-parse", &rec.branch])?;
        let old = main.run(&["rev-parse", base])?;
        let new = match strategy {
            MergeStrategy::Squash => {
                let subject = format!("feature {}: {name}", rec.feature_id);
                let body = format!(
                    "{subject}\n\nSquash-merged by corral from {}.\n\n{HEAD_TRAILER} {tip}\n",
                    rec.branch
                );
                main.run(&[
                    "commit-tree",
                    &format!("{tip}^{{tree}}"),
                    "-p",
                    &old,
                    "-m",
                    &body,
                ])?
            }
            MergeStrategy::Rebase => tip.clone(),
            MergeStrategy::Merge => {
                let msg = format!(
                    "feature {}: {name}\n\nMerged by corral from {}.",
                    rec.feature_id, rec.branch
                );
                main.run(&[
                    "commit-tree",
                    &format!("{tip}^{{tree}}"),
                    "-p",
                    &old,
                    "-p",
                    &tip,
                    "-m",
                    &msg,
                ])?
            }
            _ => unreachable!("handled above"),
        };
        if on_base {
            // A fast-forward to a commit whose tree is the rebased branch's: git refuses it
            // rather than overwrite anything in the checkout.
            let out = main.output(&["merge", "--ff-only", "--quiet", &new])?;
            if !out.status.success() {
                return Ok(MergeOutcome::Waiting(format!(
                    "waiting: git would not update the checkout: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        } else {
            let reference = format!("refs/heads/{base}");
            main.run(&[
                "update-ref",
                "-m",
                "corral: merge feature",
                &reference,
                &new,
                &old,
            ])?;
        }
        Ok(MergeOutcome::Merged { commit: new })
    })
}

fn base_checked_out_elsewhere(main: &Git, base: &str) -> Result<bool, GitError> {
    let full = format!("refs/heads/{base}");
    let list = main.run(&["worktree", "list", "--porcelain"])?;
    Ok(crate::core::worktree::parse_worktree_list(&list)
        .iter()
        .any(|w| w.branch.as_deref() == Some(full.as_str())))
}
