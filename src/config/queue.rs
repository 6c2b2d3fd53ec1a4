//! `[retry]`, `[breaker]` and `[budget]`: how failed jobs wait, when an account rests, and
//! how much a project may spend.
//!
//! Each value is checked while its file is read, so those errors name the file and line like
//! every other. Whether `retry.base <= retry.cap` and `breaker.cooldown <=
//! breaker.max_cooldown` can only be told once the files are merged (the user file may set one
//! of a pair and the project file the other): that error points at the key the later file set.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::duration::format_duration;
use super::error::{ConfigError, Location, line_of};
use super::raw::DurationValue;

/// `[retry]`: backoff of transiently failed jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// The first retry waits up to this long (full jitter below it).
    pub base: Duration,
    /// No computed wait is longer (a service's own Retry-After or reset time may be).
    pub cap: Duration,
    /// Transient retries a job may use before it fails.
    pub transient_budget: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(30 * 60),
            transient_budget: 20,
        }
    }
}

/// `[breaker]`: the per-account circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive transient failures on one account that open its breaker.
    pub threshold: u32,
    /// How long an opened breaker rests before one probe job may start.
    pub cooldown: Duration,
    /// The longest rest that repeated failed probes grow to.
    pub max_cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            threshold: 3,
            cooldown: Duration::from_secs(120),
            max_cooldown: Duration::from_secs(3600),
        }
    }
}

/// `[budget]`: what the project may spend on agents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BudgetConfig {
    /// `usd` in millionths of a dollar; the scheduler pauses once recorded costs reach it.
    pub usd_micros: Option<u64>,
}

/// `[retry]` as one file writes it; every field optional so files merge key by key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [retry] table")]
pub(crate) struct RawRetry {
    pub base: Option<PositiveDuration>,
    pub cap: Option<DurationValue>,
    pub transient_budget: Option<u32>,
}

/// `[breaker]` as one file writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [breaker] table")]
pub(crate) struct RawBreaker {
    pub threshold: Option<Threshold>,
    pub cooldown: Option<PositiveDuration>,
    pub max_cooldown: Option<DurationValue>,
}

/// `[budget]` as one file writes it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [budget] table")]
pub(crate) struct RawBudget {
    pub usd: Option<Usd>,
}

/// A duration longer than zero.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PositiveDuration(pub Duration);

impl<'de> Deserialize<'de> for PositiveDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let DurationValue(d) = DurationValue::deserialize(deserializer)?;
        if d.is_zero() {
            return Err(de::Error::custom("must be longer than zero"));
        }
        Ok(PositiveDuration(d))
    }
}

/// `breaker.threshold`: at least 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Threshold(pub u32);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(deserializer)?;
        match u32::try_from(n) {
            Ok(t) if t >= 1 => Ok(Threshold(t)),
            _ if n < 1 => Err(de::Error::custom(format!("must be at least 1, got {n}"))),
            _ => Err(de::Error::custom(format!(
                "must be at most {}, got {n}",
                u32::MAX
            ))),
        }
    }
}

/// `budget.usd`, in millionths of a dollar.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usd(pub u64);

/// Dollars (an integer or a float) to micro-dollars, rounded to the nearest.
fn usd_to_micros(usd: f64) -> Result<u64, String> {
    if !usd.is_finite() {
        return Err(format!("must be a finite number of dollars, got {usd}"));
    }
    if usd <= 0.0 {
        return Err(format!("must be greater than 0, got {usd}"));
    }
    let micros = (usd * 1e6).round();
    if micros < 1.0 {
        return Err(format!(
            "must be at least 0.000001 (a millionth of a dollar), got {usd}"
        ));
    }
    // 2^64 is exactly representable; anything from there up does not fit.
    if micros >= u64::MAX as f64 {
        return Err(format!(
            "is too large: at most {} dollars",
            u64::MAX / 1_000_000
        ));
    }
    Ok(micros as u64)
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Usd;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of US dollars like 25.0")
            }
            fn visit_f64<E: de::Error>(self, usd: f64) -> Result<Usd, E> {
                usd_to_micros(usd).map(Usd).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, usd: i64) -> Result<Usd, E> {
                self.visit_f64(usd as f64)
            }
            fn visit_u64<E: de::Error>(self, usd: u64) -> Result<Usd, E> {
                self.visit_f64(usd as f64)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

const BASE: &str = "retry.base";
const CAP: &str = "retry.cap";
const COOLDOWN: &str = "breaker.cooldown";
const MAX_COOLDOWN: &str = "breaker.max_cooldown";

/// The queue settings one file states, and where the keys that only the merge can check are.
#[derive(Debug)]
pub(crate) struct QueueLayer {
    retry: RawRetry,
    breaker: RawBreaker,
    budget: RawBudget,
    label: String,
    /// Line of each of [`BASE`], [`CAP`], [`COOLDOWN`] and [`MAX_COOLDOWN`] this file sets.
    lines: Vec<(&'static str, usize)>,
}

impl QueueLayer {
    /// Keeps one file's (already value-checked) tables; `text` and `label` are the file's, for
    /// errors the merge finds.
    pub(crate) fn new(
        retry: RawRetry,
        breaker: RawBreaker,
        budget: RawBudget,
        text: &str,
        label: &str,
    ) -> QueueLayer {
        let set = [
            (BASE, retry.base.is_some()),
            (CAP, retry.cap.is_some()),
            (COOLDOWN, breaker.cooldown.is_some()),
            (MAX_COOLDOWN, breaker.max_cooldown.is_some()),
        ];
        let keys: Vec<&'static str> = set.iter().filter(|s| s.1).map(|s| s.0).collect();
        QueueLayer {
            retry,
            breaker,
            budget,
            label: label.to_string(),
            lines: locate(text, &keys),
        }
    }

    fn at(&self, key: &str) -> Location {
        Location {
            label: self.label.clone(),
            line: self.lines.iter().find(|(k, _)| *k == key).map(|(_, l)| *l),
        }
    }
}

/// The lines of the values of dotted `keys` in `text`. serde gives no positions of values that
/// deserialized fine, so this reads the file's table again (only when one of them is set).
fn locate(text: &str, keys: &[&'static str]) -> Vec<(&'static str, usize)> {
    if keys.is_empty() {
        return Vec::new();
    }
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return Vec::new();
    };
    keys.iter()
        .filter_map(|&key| {
            let mut parts = key.split('.');
            let mut value = root.get_ref().get(parts.next()?)?;
            for part in parts {
                value = value.get_ref().get(part)?;
            }
            Some((key, line_of(text, value.span().start)))
        })
        .collect()
}

/// One side of an ordering check: a merged value, and which layer set it (`None`: default).
struct Bound {
    key: &'static str,
    value: Duration,
    from: Option<usize>,
}

/// Merges the files' settings in order (later keys win, key by key) over the defaults, then
/// checks what needs the merged values: `retry.base <= retry.cap` and
/// `breaker.cooldown <= breaker.max_cooldown`.
pub(crate) fn resolve(
    layers: &[QueueLayer],
) -> Result<(RetryConfig, BreakerConfig, BudgetConfig), ConfigError> {
    let mut retry = RetryConfig::default();
    let mut breaker = BreakerConfig::default();
    let mut budget = BudgetConfig::default();
    let (mut base, mut cap, mut cooldown, mut max_cooldown) = (None, None, None, None);
    for (i, layer) in layers.iter().enumerate() {
        if let Some(d) = layer.retry.base {
            (retry.base, base) = (d.0, Some(i));
        }
        if let Some(d) = layer.retry.cap {
            (retry.cap, cap) = (d.0, Some(i));
        }
        if let Some(n) = layer.retry.transient_budget {
            retry.transient_budget = n;
        }
        if let Some(n) = layer.breaker.threshold {
            breaker.threshold = n.0;
        }
        if let Some(d) = layer.breaker.cooldown {
            (breaker.cooldown, cooldown) = (d.0, Some(i));
        }
        if let Some(d) = layer.breaker.max_cooldown {
            (breaker.max_cooldown, max_cooldown) = (d.0, Some(i));
        }
        if let Some(usd) = layer.budget.usd {
            budget.usd_micros = Some(usd.0);
        }
    }
    let bound = |key, value, from| Bound { key, value, from };
    check_order(
        layers,
        bound(BASE, retry.base, base),
        bound(CAP, retry.cap, cap),
        true,
    )?;
    check_order(
        layers,
        bound(COOLDOWN, breaker.cooldown, cooldown),
        bound(MAX_COOLDOWN, breaker.max_cooldown, max_cooldown),
        false,
    )?;
    Ok((retry, breaker, budget))
}

/// Fails if `low` is longer than `high`. The error points at the key the later file set, since
/// that file made the pair disagree; when one file set both, at `low` if `blame_low`.
fn check_order(
    layers: &[QueueLayer],
    low: Bound,
    high: Bound,
    blame_low: bool,
) -> Result<(), ConfigError> {
    if low.value <= high.value {
        return Ok(());
    }
    let blame_low = match (low.from, high.from) {
        (Some(l), Some(h)) => l > h || (l == h && blame_low),
        (from, _) => from.is_some(),
    };
    let (blamed, other, relation) = if blame_low {
        (&low, &high, "longer")
    } else {
        (&high, &low, "shorter")
    };
    // The defaults are in order, so a file set the blamed key; if not, there is nobody to blame.
    let Some(layer) = blamed.from.and_then(|i| layers.get(i)) else {
        return Ok(());
    };
    let value = format_duration(other.value);
    let other_value = match other.from {
        None => format!("default {value}"),
        Some(i) if Some(i) == blamed.from => value,
        Some(i) => match layers.get(i) {
            Some(l) => format!("{value} in {}", l.at(other.key)),
            None => value,
        },
    };
    Err(ConfigError::Invalid {
        at: layer.at(blamed.key),
        key: blamed.key.to_string(),
        message: format!("must not be {relation} than {} ({other_value})", other.key),
    })
}
