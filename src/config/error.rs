//! Configuration errors, each pointing at a file, a line and a dotted key path.

use std::fmt;
use std::path::PathBuf;

/// Where in which file an error was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// What the error calls the file: the label given to `Config::parse`, or the file's path.
    pub label: String,
    /// 1-based line, when toml reported a position.
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.label),
            None => f.write_str(&self.label),
        }
    }
}

/// Why the configuration could not be loaded. Display is a complete, user-facing sentence
/// such as `corral.toml:7: profiles.coding.timeout: expected a duration like "30m"`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The project has no `corral.toml`.
    #[error("no corral.toml in {}: run `corral init` to create one", project.display())]
    Missing {
        /// The project directory that was searched.
        project: PathBuf,
    },
    /// A file exists (or could not be checked) but reading it failed.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{at}: {message}")]
    Syntax {
        /// Where the syntax error is.
        at: Location,
        /// toml's description of the problem.
        message: String,
    },
    /// The file is valid TOML but a key is unknown, missing, of the wrong type or invalid.
    #[error("{at}: {key}: {message}")]
    Invalid {
        /// Where the offending key or value is.
        at: Location,
        /// Dotted key path, e.g. `profiles.coding.timeout` or `profiles.coding.command[2]`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// 1-based line of byte offset `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn location(text: &str, label: &str, err: &toml::de::Error) -> Location {
    Location {
        label: label.to_string(),
        line: err.span().map(|span| line_of(text, span.start)),
    }
}

/// A TOML syntax error from parsing `text`.
pub(crate) fn syntax(text: &str, label: &str, err: &toml::de::Error) -> ConfigError {
    ConfigError::Syntax {
        at: location(text, label, err),
        message: err.message().trim_end().to_string(),
    }
}

/// A deserialization error (type, unknown key, missing key, validation) from parsing `text`.
pub(crate) fn invalid(
    text: &str,
    label: &str,
    err: serde_path_to_error::Error<toml::de::Error>,
) -> ConfigError {
    // A value read with its position (toml::Spanned) shows up as a field of its own.
    let mut key = err
        .path()
        .to_string()
        .replace(".$__serde_spanned_private_value", "");
    if key == "." {
        // serde_path_to_error's name for the document root.
        key.clear();
    }
    let inner = err.into_inner();
    let mut message = inner.message().trim_end().to_string();
    // serde says "unknown field `x`, expected ...": users write keys, not fields, and the
    // path must end in the unknown key itself so they see exactly which line to fix.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, tail)) = rest.split_once('`')
    {
        // serde_path_to_error usually records the key already; add it only if it did not.
        if !(key == name || key.ends_with(&format!(".{name}"))) {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(name);
        }
        message = format!("unknown key{tail}");
    }
    if key.is_empty() {
        key.push_str("(top level)");
    }
    ConfigError::Invalid {
        at: location(text, label, &inner),
        key,
        message,
    }
}
