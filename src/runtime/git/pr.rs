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
