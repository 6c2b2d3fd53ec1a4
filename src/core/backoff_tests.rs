use super::*;

const NOW: i64 = 1_700_000_000_000;

/// A deterministic spread of draws over `0..1`, edges included.
fn draws() -> impl Iterator<Item = f64> {
    (0..=1000).map(|i| f64::from(i) / 1000.0)
}

#[test]
fn stays_within_exponential_ceiling_and_cap() {
    for attempt in 0..20 {
        let ceiling = (100u64 << attempt).min(30_000);
        for r in draws() {
            let d = transient_delay_ms(attempt, 100, 30_000, r, None, NOW);
            assert!(d <= ceiling, "attempt {attempt} r {r}: {d} > {ceiling}");
        }
    }
}

#[test]
fn jitter_spans_zero_to_ceiling() {
    // attempt 3, base 100: ceiling 800.
    assert_eq!(transient_delay_ms(3, 100, 10_000, 0.0, None, NOW), 0);
    assert_eq!(transient_delay_ms(3, 100, 10_000, 0.5, None, NOW), 400);
    assert_eq!(transient_delay_ms(3, 100, 10_000, 1.0, None, NOW), 800);
    let all: Vec<u64> = draws()
        .map(|r| transient_delay_ms(3, 100, 10_000, r, None, NOW))
        .collect();
    assert!(all.windows(2).all(|w| w[0] <= w[1]), "monotone in the draw");
    assert!(
        all.iter().filter(|&&d| d < 400).count() > 400,
        "lower half is used"
    );
    assert!(
        all.iter().filter(|&&d| d >= 400).count() > 400,
        "upper half is used"
    );
}

#[test]
fn bad_draws_are_clamped() {
    assert_eq!(transient_delay_ms(3, 100, 10_000, -1.0, None, NOW), 0);
    assert_eq!(transient_delay_ms(3, 100, 10_000, f64::NAN, None, NOW), 0);
    assert_eq!(transient_delay_ms(3, 100, 10_000, 7.0, None, NOW), 800);
    assert_eq!(
        transient_delay_ms(3, 100, 10_000, f64::INFINITY, None, NOW),
        800
    );
}

#[test]
fn base_above_cap_is_capped() {
    assert_eq!(
        transient_delay_ms(0, 50_000, 10_000, 1.0, None, NOW),
        10_000
    );
}

#[test]
fn floor_wins_even_above_cap() {
    let floor = Some(NOW + 90_000);
    for r in draws() {
        assert_eq!(transient_delay_ms(2, 100, 10_000, r, floor, NOW), 90_000);
    }
}

#[test]
fn jitter_wins_over_a_nearer_floor() {
    assert_eq!(
        transient_delay_ms(3, 100, 10_000, 1.0, Some(NOW + 10), NOW),
        800
    );
    assert_eq!(
        transient_delay_ms(3, 100, 10_000, 0.0, Some(NOW + 10), NOW),
        10
    );
}

#[test]
fn past_floor_is_ignored() {
    assert_eq!(
        transient_delay_ms(3, 100, 10_000, 0.5, Some(NOW - 5_000), NOW),
        400
    );
    assert_eq!(
        transient_delay_ms(3, 100, 10_000, 0.5, Some(i64::MIN), NOW),
        400
    );
}

#[test]
fn huge_values_do_not_overflow() {
    for attempt in [31, 32, 63, 64, 65, 1000, u32::MAX] {
        assert_eq!(
            transient_delay_ms(attempt, 1_000, 60_000, 1.0, None, NOW),
            60_000
        );
        assert_eq!(
            transient_delay_ms(attempt, u64::MAX, u64::MAX, 1.0, None, NOW),
            u64::MAX
        );
        let d = transient_delay_ms(attempt, u64::MAX, u64::MAX, 0.999, None, NOW);
        assert!(
            d > u64::MAX / 2,
            "a near-1 draw stays near the saturated ceiling"
        );
    }
    assert_eq!(
        transient_delay_ms(5, 1, 100, 0.0, Some(i64::MAX), i64::MIN),
        i64::MAX as u64
    );
}
