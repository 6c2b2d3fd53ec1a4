//! `[git] merge = "pr"`: push the feature's branch and open a pull request with `gh` when it is
//! installed. The feature stays `passing` with the PR's URL until the PR is merged.

use super::{Git, GitError};
use crate::runtime::store::WorktreeRecord;
use std::path::Path;
use std::process::{Command, Stdio};

/// The remote branches are pushed to.
const REMOTE: &str = "origin";

/// Pushes `rec`'s branch to `origin` and opens a pull request against the base. Returns the
/// PR's URL, or a sentence saying what a person must do when `gh` is not installed.
pub fn push_and_open(project: &Path, rec: &WorktreeRecord, name: &str) -> Result<String, GitError> {
    let main = Git::at(project);
    main.run(&["remote", "get-url", REMOTE]).map_err(|_| {
        GitError::Other(format!(
            "[git] merge = \"pr\" needs a remote named {REMOTE} in {}",
            project.display()
        ))
    })?;
    // The branch may have been rebased since an earlier push: replace it, but only if the
    // remote still has what corral pushed.
    main.run(&[
        "push",
        "--quiet",
        "--force-with-lease",
        "-u",
        REMOTE,
        &rec.branch,
    ])?;
    let title = format!("feature {}: {name}", rec.feature_id);
    let body = format!(
        "Feature {} ({name}), implemented by a corral agent on branch `{}`.",
        rec.feature_id, rec.branch
    );
    let out = Command::new("gh")
        .args([
            "pr",
            "create",
            "--head",
            &rec.branch,
            "--base",
            &rec.base,
            "--title",
            &title,
            "--body",
            &body,
        ])
        .current_dir(project)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GH_PROMPT_DISABLED", "1")
        .stdin(Stdio::null())
        .output();
    match out {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(format!(
            "pushed {} to {REMOTE}; gh is not installed: open the pull request by hand",
            rec.branch
        )),
        Err(e) => Err(GitError::Other(format!("gh pr create: {e}"))),
        Ok(o) if !o.status.success() => Err(GitError::Other(format!(
            "gh pr create failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))),
        Ok(o) => Ok(String::from_utf8_lossy(&o.stdout)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim()
            .to_string()),
    }
}

/// Whether the pull request at `url` is merged, as `gh pr view` says. `None` when that cannot
/// be told (no `gh`, no URL, no answer).
pub fn is_merged(project: &Path, url: &str) -> Option<bool> {
    if !url.starts_with("http") {
        return None;
    }
    let out = Command::new("gh")
        .args(["pr", "view", url, "--json", "state", "--jq", ".state"])
        .current_dir(project)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GH_PROMPT_DISABLED", "1")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim() == "MERGED")
}

/// Brings the local base up to date with `origin` after a pull request was merged there: a
/// fast-forward only, and only while the main checkout is clean (or the base is not checked
/// out). Anything else is left for a person; the feature counts as merged either way. The
/// caller holds the repository's lock ([`super::with_repo`]).
pub fn follow_remote_base(project: &Path, base: &str) -> Result<(), GitError> {
    {
        let main = Git::at(project);
        main.run(&["fetch", "--quiet", REMOTE, base])?;
        let head = main
            .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
            .ok();
        if head.as_deref() == Some(base) {
            if main
                .run(&["status", "--porcelain", "--untracked-files=no"])?
                .is_empty()
            {
                main.run(&["merge", "--ff-only", "--quiet", "FETCH_HEAD"])?;
            }
        } else {
            let old = main.run(&["rev-parse", base])?;
            let new = main.run(&["rev-parse", "FETCH_HEAD"])?;
            if main.succeeds(&["merge-base", "--is-ancestor", &old, &new])? {
                main.run(&["update-ref", &format!("refs/heads/{base}"), &new, &old])?;
            }
        }
        Ok(())
    }
}
