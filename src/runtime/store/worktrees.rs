//! Feature worktrees in the store: where each lives, its branch and base, and its merge state.

use super::{Store, StoreError};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

/// One feature's worktree as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorktreeRecord {
    pub feature_id: i64,
    pub path: String,
    pub branch: String,
    pub base: String,
    /// The base's commit when the branch was created.
    pub base_commit: String,
    /// `""` (not merged yet), `merged`, `waiting`, `conflict`, `review`, `pr` or `left`.
    pub merge_state: String,
    /// Why it waits, which files conflict, the PR's URL.
    pub merge_note: String,
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<WorktreeRecord> {
    Ok(WorktreeRecord {
        feature_id: r.get(0)?,
        path: r.get(1)?,
        branch: r.get(2)?,
        base: r.get(3)?,
        base_commit: r.get(4)?,
        merge_state: r.get(5)?,
        merge_note: r.get(6)?,
    })
}

const COLUMNS: &str = "feature_id, path, branch, base, base_commit, merge_state, merge_note";

impl Store {
    /// Records (or re-records, after a re-creation) a feature's worktree, merge state cleared.
    pub fn save_worktree(&self, w: &WorktreeRecord, now_ms: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO worktrees (feature_id, path, branch, base, base_commit, merge_state,
                     merge_note, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
                 ON CONFLICT(feature_id) DO UPDATE SET path = ?2, branch = ?3, base = ?4,
                     base_commit = ?5, merge_state = ?6, merge_note = ?7, updated_at = ?8",
                params![
                    w.feature_id,
                    w.path,
                    w.branch,
                    w.base,
                    w.base_commit,
                    w.merge_state,
                    w.merge_note,
                    now_ms
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn worktree(&self, feature: i64) -> Result<Option<WorktreeRecord>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM worktrees WHERE feature_id = ?1"),
                [feature],
                row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn worktrees(&self) -> Result<Vec<WorktreeRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM worktrees ORDER BY feature_id"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn set_merge_state(
        &self,
        feature: i64,
        state: &str,
        note: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE worktrees SET merge_state = ?2, merge_note = ?3, updated_at = ?4,
                     conflicts = conflicts + (?2 = 'conflict')
                 WHERE feature_id = ?1",
                params![feature, state, note, now_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// How many merge conflicts the feature's branch has met.
    pub fn merge_conflicts(&self, feature: i64) -> Result<u32, StoreError> {
        self.conn
            .query_row(
                "SELECT conflicts FROM worktrees WHERE feature_id = ?1",
                [feature],
                |r| r.get(0),
            )
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(e))
    }

    pub fn forget_worktree(&self, feature: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM worktrees WHERE feature_id = ?1", [feature])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = ?2",
                params![key, value],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }
}
