//! `[retry]`, `[breaker]` and `[budget]`: how failed jobs wait, when an account rests, and
//! how much a project may spend.

use std::time::Duration;

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
