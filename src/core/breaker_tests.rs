use super::*;

const NOW: i64 = 1_000_000;
const CFG: Config = Config {
    threshold: 3,
    cooldown_ms: 60_000,
    max_cooldown_ms: 3_600_000,
};

fn breaker(state: State, cooldown_ms: i64, epoch: u64) -> Breaker {
    Breaker {
        config: CFG,
        state,
        cooldown_ms,
        epoch,
    }
}

fn closed(failures: u32) -> State {
    State::Closed { failures }
}

fn open(until_ms: i64, epoch: u64) -> State {
    State::Open { until_ms, epoch }
}

fn half(probe_running: bool) -> State {
    State::HalfOpen { probe_running }
}

fn timer(epoch: u64, after_ms: u64) -> Option<Effect> {
    Some(Effect::StartTimer { epoch, after_ms })
}

const FAIL: Input = Input::TransientFailure { reset_at_ms: None };

fn fail_until(reset: i64) -> Input {
    Input::TransientFailure {
        reset_at_ms: Some(reset),
    }
}

/// (from, cooldown, epoch, input, to, cooldown after, effect).
type Row = (State, i64, u64, Input, State, i64, Option<Effect>);

#[test]
fn transitions() {
    let base = CFG.cooldown_ms;
    let table: Vec<Row> = vec![
        // Closed counts, then opens at the threshold.
        (closed(0), base, 0, FAIL, closed(1), base, None),
        (
            closed(2),
            base,
            4,
            FAIL,
            open(NOW + base, 5),
            base,
            timer(5, 60_000),
        ),
        (
            closed(2),
            base,
            4,
            fail_until(NOW + 600_000),
            open(NOW + 600_000, 5),
            base,
            timer(5, 600_000),
        ),
        (
            closed(2),
            base,
            4,
            // The service's own reset wins, even when shorter than the cooldown.
            fail_until(NOW + 10),
            open(NOW + 10, 5),
            base,
            timer(5, 10),
        ),
        (closed(2), base, 0, Input::Success, closed(0), base, None),
        (
            closed(1),
            base,
            0,
            Input::AuthFailure,
            open(i64::MAX, 1),
            base,
            None,
        ),
        (
            closed(1),
            base,
            3,
            Input::Timer { epoch: 3 },
            closed(1),
            base,
            None,
        ),
        (
            closed(1),
            base,
            0,
            Input::ManualClose,
            closed(0),
            base,
            None,
        ),
        (
            closed(1),
            base,
            0,
            Input::ProbeAbandoned,
            closed(1),
            base,
            None,
        ),
        // Open: only the matching timer ends it.
        (
            open(NOW, 7),
            base,
            7,
            Input::Timer { epoch: 7 },
            half(false),
            base,
            None,
        ),
        (
            open(NOW, 7),
            base,
            7,
            Input::Timer { epoch: 6 },
            open(NOW, 7),
            base,
            None,
        ),
        (
            open(i64::MAX, 7),
            base,
            7,
            Input::Timer { epoch: 6 },
            open(i64::MAX, 7),
            base,
            None,
        ),
        (
            open(NOW + 5, 7),
            base,
            7,
            FAIL,
            open(NOW + 5, 7),
            base,
            None,
        ),
        (
            open(NOW + 5, 7),
            base,
            7,
            fail_until(NOW + 900_000),
            open(NOW + 900_000, 8),
            base,
            timer(8, 900_000),
        ),
        (
            open(i64::MAX, 7),
            base,
            7,
            fail_until(NOW + 900_000),
            open(i64::MAX, 7),
            base,
            None,
        ),
        (
            open(NOW + 5, 7),
            240_000,
            7,
            Input::Success,
            closed(0),
            base,
            None,
        ),
        (
            open(i64::MAX, 7),
            base,
            7,
            Input::Success,
            open(i64::MAX, 7),
            base,
            None,
        ),
        (
            open(NOW + 5, 7),
            base,
            7,
            Input::AuthFailure,
            open(i64::MAX, 8),
            base,
            None,
        ),
        (
            open(i64::MAX, 7),
            base,
            7,
            Input::ManualClose,
            closed(0),
            base,
            None,
        ),
        (
            open(NOW + 5, 7),
            base,
            7,
            Input::ProbeAbandoned,
            open(NOW + 5, 7),
            base,
            None,
        ),
        // Half-open: the probe decides.
        (half(true), base, 2, Input::Success, closed(0), base, None),
        (
            half(true),
            120_000,
            2,
            Input::Success,
            closed(0),
            base,
            None,
        ),
        (
            half(true),
            base,
            2,
            FAIL,
            open(NOW + 120_000, 3),
            120_000,
            timer(3, 120_000),
        ),
        (
            half(true),
            2_400_000,
            2,
            FAIL,
            open(NOW + 3_600_000, 3),
            3_600_000,
            timer(3, 3_600_000),
        ),
        (
            half(true),
            3_600_000,
            2,
            FAIL,
            open(NOW + 3_600_000, 3),
            3_600_000,
            timer(3, 3_600_000),
        ),
        (
            half(true),
            base,
            2,
            fail_until(NOW + 7_200_000),
            open(NOW + 7_200_000, 3),
            120_000,
            timer(3, 7_200_000),
        ),
        (
            half(true),
            base,
            2,
            Input::AuthFailure,
            open(i64::MAX, 3),
            base,
            None,
        ),
        (
            half(true),
            base,
            2,
            Input::ProbeAbandoned,
            half(false),
            base,
            None,
        ),
        (
            half(true),
            base,
            2,
            Input::Timer { epoch: 2 },
            half(true),
            base,
            None,
        ),
        (
            half(false),
            base,
            2,
            Input::ManualClose,
            closed(0),
            base,
            None,
        ),
    ];
    for (i, (from, cd, epoch, input, to, cd_after, effect)) in table.into_iter().enumerate() {
        let mut b = breaker(from, cd, epoch);
        let got = b.step(input, NOW);
        assert_eq!(
            (b.state(), b.cooldown_ms, got),
            (to, cd_after, effect),
            "row {i}: {from:?} + {input:?}"
        );
    }
}

#[test]
fn may_start_in_each_state() {
    assert!(breaker(closed(2), CFG.cooldown_ms, 0).may_start(NOW));

    let mut b = breaker(half(false), CFG.cooldown_ms, 1);
    assert!(b.may_start(NOW), "the first caller gets the probe");
    assert_eq!(b.state(), half(true));
    assert!(!b.may_start(NOW), "only one probe at a time");

    let mut b = breaker(open(NOW + 1, 1), CFG.cooldown_ms, 1);
    assert!(!b.may_start(NOW));
    assert_eq!(b.state(), open(NOW + 1, 1));
    // A lost timer can't keep the account idle past the end of the opening.
    assert!(b.may_start(NOW + 1));
    assert_eq!(b.state(), half(true));

    let mut b = breaker(open(i64::MAX, 1), CFG.cooldown_ms, 1);
    assert!(!b.may_start(i64::MAX));
}

#[test]
fn stale_timer_after_reopening_is_ignored() {
    let mut b = Breaker::new(CFG);
    for _ in 0..2 {
        assert_eq!(b.step(FAIL, NOW), None);
    }
    let Some(Effect::StartTimer { epoch: first, .. }) = b.step(FAIL, NOW) else {
        panic!("threshold opens with a timer");
    };
    assert_eq!(b.step(Input::Timer { epoch: first }, NOW + 60_000), None);
    assert!(b.may_start(NOW + 60_000));
    let Some(Effect::StartTimer {
        epoch: second,
        after_ms,
    }) = b.step(FAIL, NOW + 60_000)
    else {
        panic!("failed probe re-opens with a timer");
    };
    assert_eq!(after_ms, 120_000);
    assert!(second > first);
    b.step(Input::Timer { epoch: first }, NOW + 180_000);
    assert!(
        matches!(b.state(), State::Open { .. }),
        "the first timer is stale"
    );
    b.step(Input::Timer { epoch: second }, NOW + 180_000);
    assert_eq!(b.state(), half(false));
    b.step(Input::Success, NOW + 181_000);
    assert_eq!(b.state(), closed(0));
    assert_eq!(
        b.cooldown_ms, CFG.cooldown_ms,
        "a working account resets the cooldown"
    );
}

#[test]
fn threshold_zero_acts_as_one() {
    let mut b = Breaker::new(Config {
        threshold: 0,
        ..CFG
    });
    assert_eq!(b.step(FAIL, NOW), timer(1, 60_000));
}
