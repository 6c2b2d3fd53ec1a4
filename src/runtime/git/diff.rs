//! A feature's change against its base: what `d` in the Features pane and `corral feature diff`
//! show. The range is `base...branch`: everything the branch did since it left the base.

use super::{Git, GitError};
use crate::runtime::store::WorktreeRecord;
use std::path::Path;

/// One changed file: added and removed lines (`None` for binary files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStat {
    pub path: String,
    pub added: Option<u64>,
    pub removed: Option<u64>,
}

fn range(rec: &WorktreeRecord) -> String {
    format!("{}...{}", rec.base, rec.branch)
}

/// `git diff --numstat` of the feature's range.
pub fn numstat(project: &Path, rec: &WorktreeRecord) -> Result<Vec<FileStat>, GitError> {
    let out = Git::at(project).run(&["diff", "--numstat", "-z", &range(rec)])?;
    let mut files = Vec::new();
    let mut parts = out.split('\0').filter(|p| !p.is_empty());
    while let Some(line) = parts.next() {
        let mut cols = line.splitn(3, '\t');
        let (a, r, path) = (cols.next(), cols.next(), cols.next().unwrap_or(""));
        // A rename puts the old and new paths in the next two fields.
        let path = if path.is_empty() {
            let _old = parts.next();
            parts.next().unwrap_or("").to_string()
        } else {
            path.to_string()
        };
        files.push(FileStat {
            path,
            added: a.and_then(|n| n.parse().ok()),
            removed: r.and_then(|n| n.parse().ok()),
        });
    }
    Ok(files)
}

/// `git diff --stat` of the range, as git prints it.
pub fn stat(project: &Path, rec: &WorktreeRecord) -> Result<String, GitError> {
    Git::at(project).run(&["diff", "--stat", &range(rec)])
}

/// The full patch of the range, coloured by git when `color`.
pub fn patch(project: &Path, rec: &WorktreeRecord, color: bool) -> Result<String, GitError> {
    let color = if color {
        "--color=always"
    } else {
        "--color=never"
    };
    Git::at(project).run(&["diff", color, &range(rec)])
}

/// The feature's diff for the dashboard's diff view; `None` when it has no worktree or git
/// failed.
pub fn feature_diff(project: &Path, id: crate::api::FeatureId) -> Option<crate::api::FeatureDiff> {
    let store = crate::runtime::store::Store::open(project).ok()?;
    let rec = store.worktree(id.0).ok()??;
    let files = numstat(project, &rec).ok()?;
    let patch = patch(project, &rec, false).ok()?;
    Some(crate::api::FeatureDiff {
        feature: id,
        base: rec.base.clone(),
        branch: rec.branch.clone(),
        merge_state: rec.merge_state.clone(),
        merge_note: rec.merge_note.clone(),
        files: files
            .into_iter()
            .map(|f| crate::api::DiffFile {
                path: f.path,
                added: f.added,
                removed: f.removed,
            })
            .collect(),
        patch: patch.lines().map(String::from).collect(),
    })
}

impl crate::runtime::RuntimeHandle {
    /// [`feature_diff`] of the handle's project (a few git commands: call it off the UI thread).
    pub fn feature_diff(&self, id: crate::api::FeatureId) -> Option<crate::api::FeatureDiff> {
        let project = self.db.parent()?.parent()?;
        feature_diff(project, id)
    }
}
