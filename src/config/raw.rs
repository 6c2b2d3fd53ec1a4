//! The on-disk shape of one `corral.toml`, with validation done during deserialization.
//!
//! Validating inside `Deserialize` (rather than after) means every error travels through
//! toml, which attaches the value's position, and through serde_path_to_error, which records
//! the key path: so every message can say `file:line: key.path: problem`.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::duration::parse_duration;
use super::placeholders::{KNOWN_PLACEHOLDERS, unknown_placeholders};
use crate::api::Role;

/// Highest accepted `scheduler.max_agents`.
pub(crate) const MAX_AGENTS_LIMIT: u32 = 64;

/// One file, before defaults and merging.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a corral.toml document")]
pub(crate) struct RawFile {
    #[serde(default)]
    pub scheduler: RawScheduler,
    #[serde(default)]
    pub profiles: BTreeMap<String, RawProfile>,
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default)]
    pub logs: super::sections::RawLogs,
    #[serde(default)]
    pub redact: super::sections::RawRedact,
    #[serde(default)]
    pub retry: super::queue::RawRetry,
    #[serde(default)]
    pub breaker: super::queue::RawBreaker,
    #[serde(default)]
    pub budget: super::queue::RawBudget,
    #[serde(default)]
    pub keys: super::keys::RawKeys,
    #[serde(default)]
    pub git: super::git::RawGit,
    #[serde(default)]
    pub notify: super::notify::RawNotify,
}

/// `[scheduler]`; fields are optional so a project file can override a user file field by field.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [scheduler] table")]
pub(crate) struct RawScheduler {
    pub max_agents: Option<MaxAgents>,
    pub testing_agents: Option<u32>,
    /// At least 1: with 0 a feature would still run once, shown as `1/1`.
    pub max_attempts: Option<super::queue::Threshold>,
    pub max_dependencies: Option<u32>,
    pub testing_claim_timeout: Option<super::queue::PositiveDuration>,
    /// The profile each role uses; checked against the profiles once every file is merged,
    /// so the position is kept for the error.
    pub coding_profile: Option<toml::Spanned<String>>,
    pub testing_profile: Option<toml::Spanned<String>>,
    pub initializer_profile: Option<toml::Spanned<String>>,
    pub resume_after_crash: Option<bool>,
}

/// `[defaults]`: model and effort for every profile that names none.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [defaults] table")]
pub(crate) struct RawDefaults {
    pub model: Option<String>,
    pub effort: Option<String>,
}

/// `[profiles.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a profile table")]
pub(crate) struct RawProfile {
    pub role: Role,
    pub command: Command,
    #[serde(default)]
    pub env: BTreeMap<EnvKey, EnvValue>,
    /// Longer than zero: `"0s"` would stop every run as it starts (leave it out for no limit).
    pub timeout: Option<super::queue::PositiveDuration>,
    pub silence: Option<super::queue::PositiveDuration>,
    pub deny_after: Option<super::queue::PositiveDuration>,
    pub grace: Option<DurationValue>,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    #[serde(default)]
    pub success: super::Success,
    pub verify: Option<Command>,
    pub prompt: Option<String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    pub efforts: Option<Vec<String>>,
    pub env_file: Option<String>,
    pub max_parallel: Option<u32>,
    #[serde(default)]
    pub stdin: super::StdinMode,
    pub account: Option<Account>,
    pub transient_patterns: Option<super::patterns::TransientPatterns>,
}

fn default_enabled() -> bool {
    true
}

/// `max_agents`, checked against [`MAX_AGENTS_LIMIT`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct MaxAgents(pub u32);

impl<'de> Deserialize<'de> for MaxAgents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = MaxAgents;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an integer from 0 to {MAX_AGENTS_LIMIT}")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<MaxAgents, E> {
                match u32::try_from(n) {
                    Ok(n) if n <= MAX_AGENTS_LIMIT => Ok(MaxAgents(n)),
                    _ => Err(E::custom(format!(
                        "must be between 0 and {MAX_AGENTS_LIMIT}, got {n}"
                    ))),
                }
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<MaxAgents, E> {
                match u32::try_from(n) {
                    Ok(n) if n <= MAX_AGENTS_LIMIT => Ok(MaxAgents(n)),
                    _ => Err(E::custom(format!(
                        "must be between 0 and {MAX_AGENTS_LIMIT}, got {n}"
                    ))),
                }
            }
        }
        deserializer.deserialize_u32(Visitor)
    }
}

/// A duration string such as `"30m"`; see [`parse_duration`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct DurationValue(pub Duration);

const EXPECTED_DURATION: &str = "a duration like \"30m\"";

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED_DURATION)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<DurationValue, E> {
                parse_duration(s)
                    .map(DurationValue)
                    .map_err(|_| E::custom(format!("expected {EXPECTED_DURATION}")))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A non-empty argv template whose program (first element) is non-empty.
#[derive(Debug, Clone)]
pub(crate) struct Command(pub Vec<String>);

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Vec<Arg>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings: the program and its arguments")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Arg>, A::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element::<Arg>()? {
                    args.push(arg);
                }
                Ok(args)
            }
            // The commonest slip: a shell-style string. corral never runs a shell, so say how
            // to write it instead.
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Vec<Arg>, E> {
                let split: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
                Err(E::custom(format!(
                    "expected a list of arguments, not a string (corral never runs a shell): \
                     write [{}]",
                    split.join(", ")
                )))
            }
        }
        let args = deserializer.deserialize_seq(Visitor)?;
        match args.first() {
            None => Err(de::Error::custom(
                "must not be empty: give the program and its arguments, e.g. [\"my-agent\", \"{feature_id}\"]",
            )),
            Some(program) if program.0.is_empty() => Err(de::Error::custom(
                "the program (first element) must not be empty",
            )),
            Some(_) => Ok(Command(args.into_iter().map(|a| a.0).collect())),
        }
    }
}

/// One argv element; rejects unknown `{word}` placeholders (likely typos) and NUL bytes
/// (which no process argument can contain).
#[derive(Debug, Clone)]
struct Arg(String);

impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Validate inside the visitor: toml attaches the element's own position only to
        // errors raised while it is deserializing that element.
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Arg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Arg, E> {
                if let Some(unknown) = unknown_placeholders(s).first() {
                    let known: Vec<String> = KNOWN_PLACEHOLDERS
                        .iter()
                        .map(|k| format!("{{{k}}}"))
                        .collect();
                    return Err(E::custom(format!(
                        "unknown placeholder {unknown}; known placeholders are {}",
                        known.join(", ")
                    )));
                }
                if s.contains('\0') {
                    return Err(E::custom("must not contain a NUL character"));
                }
                Ok(Arg(s.to_string()))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// An environment variable name: non-empty, without `=` or NUL (the OS cannot represent them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EnvKey(pub String);

impl<'de> Deserialize<'de> for EnvKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s.is_empty() || s.contains('=') || s.contains('\0') {
            return Err(de::Error::custom(format!(
                "invalid environment variable name {s:?}: must be non-empty, without '=' or NUL"
            )));
        }
        Ok(EnvKey(s))
    }
}

/// An environment variable value: any string without NUL.
#[derive(Debug, Clone)]
pub(crate) struct EnvValue(pub String);

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s.contains('\0') {
            return Err(de::Error::custom("must not contain a NUL character"));
        }
        Ok(EnvValue(s))
    }
}

/// An account name: not empty (nor only spaces), since profiles sharing an account share its
/// limits and circuit breaker by this name.
#[derive(Debug, Clone)]
pub(crate) struct Account(pub String);

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        if s.trim().is_empty() {
            return Err(de::Error::custom(
                "must not be empty (leave it out to use the profile's name)",
            ));
        }
        Ok(Account(s))
    }
}
