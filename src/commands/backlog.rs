//! What the backlog commands share: their error, opening the store, telling a dashboard.

use crate::api::Command;
use crate::config::{Config, ConfigError};
use crate::core::backlog::BacklogErrors;
use crate::runtime::control;
use crate::runtime::store::{Store, StoreError, state_dir};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BacklogCommandError {
    #[error("no corral state in {0}: run `corral init` first")]
    NoState(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The checks of `core::backlog` refused the change; nothing was written.
    #[error("{0}")]
    Invalid(BacklogErrors),
    /// Refused for another reason (no such feature, dependents); nothing was written.
    #[error("{0}")]
    Refused(String),
    #[error("writing to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<BacklogErrors> for BacklogCommandError {
    fn from(e: BacklogErrors) -> Self {
        BacklogCommandError::Invalid(e)
    }
}

pub type Result<T> = std::result::Result<T, BacklogCommandError>;

/// Opens the project's existing database (never creates one: that is `corral init`'s job).
pub fn open_store(project: &Path) -> Result<Store> {
    let db = state_dir(project).join("corral.db");
    if !db.exists() {
        return Err(BacklogCommandError::NoState(project.display().to_string()));
    }
    Ok(Store::open_path(&db)?)
}

/// `[scheduler] max_dependencies` from the project's corral.toml (and the user file).
pub fn max_dependencies(project: &Path) -> Result<u32> {
    Ok(Config::load(project)?.scheduler.max_dependencies)
}

/// The project's redaction (built-in rules and `[redact] patterns`), for texts an agent hands
/// corral (a failure reason) before they are stored. Built-in rules alone when corral.toml
/// does not load: an agent's report must not be refused for the config's sake.
pub fn redactor(project: &Path) -> crate::core::redact::Redactor {
    use crate::core::redact::Redactor;
    let patterns = Config::load(project)
        .map(|c| c.redact.patterns)
        .unwrap_or_default();
    Redactor::new(&patterns)
        .or_else(|_| Redactor::new(&[]))
        .expect("the built-in redaction rules compile")
}

/// Every profile of the project's corral.toml with its role, to check the profile a feature
/// names.
pub fn profile_roles(project: &Path) -> Result<crate::core::backlog_profiles::ProfileRoles> {
    Ok(Config::load(project)?
        .profiles
        .into_values()
        .map(|p| (p.name, p.role))
        .collect())
}

/// Tells the running corral, if one runs, that the stored backlog changed, and waits for its
/// reply (it has read the change); nobody running is fine, and so is a corral too old to
/// answer requests (it is sent the reload the old way).
pub fn notify(project: &Path) {
    if crate::runtime::daemon::running(project).is_none() {
        let _ = control::send(project, &Command::Reload);
        return;
    }
    match super::daemon::ask_command(project, Command::Reload) {
        Ok(super::daemon::Asked::Done { .. }) => {}
        Ok(super::daemon::Asked::NoDaemon) | Err(_) => {
            let _ = control::send(project, &Command::Reload);
        }
    }
}

/// Prints `text` and a newline, hostile characters escaped (see [`super::output`]).
pub fn emit(text: &str) -> Result<()> {
    super::output::print_text(text).map_err(BacklogCommandError::Stdout)
}

/// Prints `value` as pretty JSON (see [`super::output`]).
pub fn emit_json(value: &impl serde::Serialize) -> Result<()> {
    super::output::print_json(value).map_err(BacklogCommandError::Stdout)
}

/// `feature 4 ("Cart totals")`, quotes and control characters escaped.
pub fn label(id: i64, name: &str) -> String {
    // Debug quotes and escapes controls; what it lets through (bidi controls) is escaped after.
    printable(&format!("feature {id} ({name:?})"), false)
}

/// `no feature 42`.
pub fn no_feature(id: i64) -> BacklogCommandError {
    BacklogCommandError::Refused(format!("no feature {id}"))
}

/// Text for a terminal: control characters (escape sequences, `\r`), C1 controls and bidi
/// overrides escaped, and newlines too unless `keep_newlines`.
pub fn printable(text: &str, keep_newlines: bool) -> String {
    crate::core::printable::printable(text, keep_newlines).into_owned()
}

/// Rows as aligned columns, two spaces apart; the last column is not padded.
pub fn table(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let n = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(n),
                None => widths.push(n),
            }
        }
    }
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        lines.push(line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(printable("a $(b); `c`", false), "a $(b); `c`");
        assert_eq!(printable("x\u{1b}[2Jy\nz", false), "x\\u{1b}[2Jy\\nz");
        assert_eq!(printable("y\nz\r", true), "y\nz\\r");
        assert_eq!(label(4, "say \"hi\""), "feature 4 (\"say \\\"hi\\\"\")");
    }

    #[test]
    fn table_aligns_every_column_but_the_last() {
        let rows = [
            vec!["ID".to_string(), "NAME".into(), "NOTE".into()],
            vec!["12".to_string(), "é".into(), "x".into()],
        ];
        assert_eq!(table(&rows), "ID  NAME  NOTE\n12  é     x");
    }
}
