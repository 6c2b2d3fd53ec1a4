//! A feature's change against its base, as the diff view shows it.

use super::FeatureId;
use serde::{Deserialize, Serialize};

/// One changed file with its added and removed lines (`None` for a binary file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffFile {
    pub path: String,
    pub added: Option<u64>,
    pub removed: Option<u64>,
}

/// The feature's branch since it left the base: files first, then the patch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureDiff {
    pub feature: FeatureId,
    pub base: String,
    pub branch: String,
    /// Where its merge stands (`merged`, `waiting`, `review`...; empty before it passed).
    pub merge_state: String,
    pub merge_note: String,
    pub files: Vec<DiffFile>,
    /// The patch, uncoloured, one entry per line.
    pub patch: Vec<String>,
}

impl FeatureDiff {
    /// The patch lines where each file's section starts (`diff --git ...`).
    pub fn file_starts(&self) -> Vec<usize> {
        self.patch
            .iter()
            .enumerate()
            .filter(|(_, l)| l.starts_with("diff --git "))
            .map(|(i, _)| i)
            .collect()
    }
}
