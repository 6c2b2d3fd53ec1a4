//! `[logs]` and `[redact]`: how much output corral keeps, and what it hides.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::fmt;

/// Default `logs.ring_lines`: lines of output kept in memory per run.
pub const DEFAULT_RING_LINES: usize = 10_000;
/// Default `logs.keep_days`.
pub const DEFAULT_KEEP_DAYS: u32 = 14;
/// Default `logs.keep_files`.
pub const DEFAULT_KEEP_FILES: u32 = 500;
/// Default `logs.keep_bytes`: 2 GB.
pub const DEFAULT_KEEP_BYTES: u64 = 2_000_000_000;

/// `[logs]`: the in-memory ring and the retention of `.corral/runs/*.log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsConfig {
    /// Lines kept in memory per run (1..=10,000,000); older lines are only in the file.
    pub ring_lines: usize,
    /// Run logs older than this many days are deleted (never a live run's).
    pub keep_days: u32,
    /// At most this many run logs are kept, oldest deleted first.
    pub keep_files: u32,
    /// At most this many bytes of run logs are kept, oldest deleted first.
    pub keep_bytes: u64,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            ring_lines: DEFAULT_RING_LINES,
            keep_days: DEFAULT_KEEP_DAYS,
            keep_files: DEFAULT_KEEP_FILES,
            keep_bytes: DEFAULT_KEEP_BYTES,
        }
    }
}

/// `[redact]`: extra secret patterns, on top of the built-in ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedactConfig {
    /// Regular expressions (Rust `regex` syntax), each checked when the file is read.
    pub patterns: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [logs] table")]
pub(crate) struct RawLogs {
    pub ring_lines: Option<RingLines>,
    pub keep_days: Option<u32>,
    pub keep_files: Option<u32>,
    pub keep_bytes: Option<ByteSize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [redact] table")]
pub(crate) struct RawRedact {
    #[serde(default)]
    pub patterns: Vec<Pattern>,
}

/// `ring_lines`, from 1 to 10 million.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingLines(pub usize);

impl<'de> Deserialize<'de> for RingLines {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(deserializer)?;
        match usize::try_from(n) {
            Ok(n) if (1..=10_000_000).contains(&n) => Ok(RingLines(n)),
            _ => Err(de::Error::custom(format!(
                "must be between 1 and 10000000, got {n}"
            ))),
        }
    }
}

const EXPECTED_SIZE: &str = "a size like \"2GB\", \"500MB\" or \"64KiB\"";

/// A byte count written as a number with a unit (`B`, `KB`, `MB`, `GB`, `TB` are powers of
/// 1000; `KiB`, `MiB`, `GiB`, `TiB` powers of 1024), or a plain integer of bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByteSize(pub u64);

/// Parses a size such as `2GB` or `512MiB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("expected {EXPECTED_SIZE}"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return Err(format!("expected {EXPECTED_SIZE}")),
    };
    n.checked_mul(factor).ok_or_else(|| "too large".to_string())
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED_SIZE)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ByteSize, E> {
                parse_size(s).map(ByteSize).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ByteSize, E> {
                u64::try_from(n)
                    .map(ByteSize)
                    .map_err(|_| E::custom("must not be negative"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A redaction pattern that compiles.
#[derive(Debug, Clone)]
pub(crate) struct Pattern(pub String);

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Pattern;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a regular expression")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Pattern, E> {
                if s.is_empty() {
                    return Err(E::custom("an empty pattern would match everywhere"));
                }
                regex::Regex::new(s)
                    .map(|_| Pattern(s.to_string()))
                    .map_err(|e| E::custom(super::patterns::invalid_regex(s, &e)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("64KiB"), Ok(65_536));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("2 parsecs").is_err());
        assert!(parse_size("GB").is_err());
        assert!(parse_size("99999999999TB").is_err());
    }
}
