//! How long to wait before retrying a transiently failed job.
//!
//! Exponential backoff with "full jitter": the delay is drawn uniformly from
//! `0..=min(cap, base × 2^attempt)`. Full jitter spreads the retries of many jobs that failed
//! together (one rate limit hits every job on an account) instead of having them retry in lock
//! step. Randomness comes from the caller so the function stays pure and testable.

/// The delay in milliseconds before retry number `attempt` (0 for the first retry).
///
/// - `random` is a uniform draw in `0..1` from the caller; values outside (and NaN) are clamped,
///   so a bad draw can't produce a negative or an over-cap delay.
/// - `floor_until_ms` is a moment the server told us about (a parsed `Retry-After` or a quota
///   reset): the delay never ends before it, even if that exceeds `cap_ms`, because retrying
///   earlier is known to fail.
/// - Without a floor the delay never exceeds `cap_ms`; huge `attempt`s saturate at the cap
///   instead of overflowing.
pub fn transient_delay_ms(
    attempt: u32,
    base_ms: u64,
    cap_ms: u64,
    random: f64,
    floor_until_ms: Option<i64>,
    now_ms: i64,
) -> u64 {
    let ceiling = exponential_ceiling_ms(attempt, base_ms, cap_ms);
    // NaN is checked first because `clamp` and `min` would pass it through.
    let r = if random.is_nan() || random <= 0.0 {
        0.0
    } else {
        random.min(1.0)
    };
    // Float-to-int casts saturate in Rust; the `min` guards against rounding up past the ceiling.
    let jittered = ((ceiling as f64) * r) as u64;
    let jittered = jittered.min(ceiling);
    let floor = floor_until_ms
        .map(|until| until.saturating_sub(now_ms).max(0) as u64)
        .unwrap_or(0);
    jittered.max(floor)
}

/// `min(cap, base × 2^attempt)` without overflow: any shift or product that doesn't fit in a
/// `u64` is certainly above the cap.
fn exponential_ceiling_ms(attempt: u32, base_ms: u64, cap_ms: u64) -> u64 {
    1u64.checked_shl(attempt)
        .and_then(|factor| base_ms.checked_mul(factor))
        .map_or(cap_ms, |delay| delay.min(cap_ms))
}

#[cfg(test)]
#[path = "backoff_tests.rs"]
mod tests;
