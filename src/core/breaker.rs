//! A per-account circuit breaker: stop starting jobs on an account that keeps failing.
//!
//! Closed lets jobs start and counts consecutive transient failures; at the threshold it opens
//! for a cooldown (or exactly until the reset the service announced) and asks for a timer. The timer moves
//! it to half-open, where exactly one probe job may start: success closes, failure re-opens with
//! a doubled cooldown. An auth failure opens with no end: only a human (manual close) can fix
//! credentials. Every opening takes a fresh epoch so timers of an earlier opening are ignored.

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Jobs may start; `failures` consecutive transient failures so far.
    Closed { failures: u32 },
    /// No job may start before `until_ms` (`i64::MAX`: until closed by hand); only the timer
    /// carrying `epoch` may end it.
    Open { until_ms: i64, epoch: u64 },
    /// One probe job may start to test the account.
    HalfOpen { probe_running: bool },
}

impl State {
    /// How the state is shown and stored for `account`: an opening by refused credentials has
    /// no end (`until_ms: None`, `auth`); failures count only while closed. No login hint: the
    /// runtime, which knows the agents' commands, adds it.
    pub fn view(&self, account: &str) -> crate::api::BreakerView {
        use crate::api::BreakerState;
        let (state, failures, until_ms, auth) = match *self {
            State::Closed { failures } => (BreakerState::Closed, failures, None, false),
            State::Open { until_ms, .. } if until_ms == i64::MAX => {
                (BreakerState::Open, 0, None, true)
            }
            State::Open { until_ms, .. } => (BreakerState::Open, 0, Some(until_ms), false),
            State::HalfOpen { .. } => (BreakerState::HalfOpen, 0, None, false),
        };
        crate::api::BreakerView {
            account: account.to_string(),
            state,
            failures,
            until_ms,
            auth,
            login_hint: None,
        }
    }
}

/// Tuning of a breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Consecutive transient failures that open the breaker (0 behaves as 1).
    pub threshold: u32,
    /// The first cooldown after opening.
    pub cooldown_ms: i64,
    /// The longest cooldown that repeated failed probes can grow to.
    pub max_cooldown_ms: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threshold: 3,
            cooldown_ms: 60_000,
            max_cooldown_ms: 3_600_000,
        }
    }
}

/// What happened on the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A job failed transiently; `reset_at_ms` is a known quota reset or `Retry-After` end.
    TransientFailure { reset_at_ms: Option<i64> },
    /// A job succeeded.
    Success,
    /// A job failed on credentials.
    AuthFailure,
    /// A timer asked for by [`Effect::StartTimer`] fired.
    Timer { epoch: u64 },
    /// The probe ended without a verdict (cancelled, killed by the user): allow another.
    ProbeAbandoned,
    /// A human closed the breaker, e.g. after logging in again.
    ManualClose,
}

/// What the runtime must do after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Feed back [`Input::Timer`] with this `epoch` after `after_ms`.
    StartTimer { epoch: u64, after_ms: u64 },
}

/// A circuit breaker for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breaker {
    config: Config,
    state: State,
    /// The cooldown the next failed probe doubles; back to the base once the account works.
    cooldown_ms: i64,
    /// The last epoch handed out; epochs only grow so no stale timer can match again.
    epoch: u64,
}

/// What outlives a restart: where the breaker stands and the cooldown the next failed probe
/// doubles. Timer epochs are not kept: a restored breaker starts a fresh epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    pub state: State,
    pub cooldown_ms: i64,
}

impl Breaker {
    /// A closed breaker.
    pub fn new(config: Config) -> Breaker {
        Breaker {
            config,
            state: State::Closed { failures: 0 },
            cooldown_ms: config.cooldown_ms,
            epoch: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// What to store so a restart finds the breaker as it is.
    pub fn saved(&self) -> Saved {
        Saved {
            state: self.state,
            cooldown_ms: self.cooldown_ms,
        }
    }

    /// A breaker as stored by an earlier corral. An open one gets epoch 1 (the caller sets
    /// its timer with [`Breaker::open_timer`]); a half-open one lets a new probe start, since
    /// the probe it was waiting for ended with that corral.
    pub fn restore(config: Config, saved: Saved) -> Breaker {
        let state = match saved.state {
            State::Open { until_ms, .. } => State::Open { until_ms, epoch: 1 },
            State::HalfOpen { .. } => State::HalfOpen {
                probe_running: false,
            },
            closed => closed,
        };
        Breaker {
            config,
            state,
            cooldown_ms: saved.cooldown_ms.max(config.cooldown_ms),
            epoch: 1,
        }
    }

    /// The timer that ends the current opening, if it has an end.
    pub fn open_timer(&self, now_ms: i64) -> Option<Effect> {
        match self.state {
            State::Open { until_ms, epoch } if until_ms != i64::MAX => Some(Effect::StartTimer {
                epoch,
                after_ms: until_ms.saturating_sub(now_ms).max(0) as u64,
            }),
            _ => None,
        }
    }

    /// Whether a job may start now; in half-open this takes the single probe slot, so call it
    /// only when about to start a job.
    ///
    /// An open breaker whose end has passed acts as if its timer fired, so a lost or late timer
    /// can't keep the account idle; an auth opening (`i64::MAX`) never passes.
    pub fn may_start(&mut self, now_ms: i64) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::HalfOpen { probe_running } => {
                if probe_running {
                    return false;
                }
                self.state = State::HalfOpen {
                    probe_running: true,
                };
                true
            }
            State::Open { until_ms, .. } if until_ms != i64::MAX && now_ms >= until_ms => {
                self.state = State::HalfOpen {
                    probe_running: true,
                };
                true
            }
            State::Open { .. } => false,
        }
    }

    /// Applies one input at `now_ms`.
    pub fn step(&mut self, input: Input, now_ms: i64) -> Option<Effect> {
        match (self.state, input) {
            (State::Closed { failures }, Input::TransientFailure { reset_at_ms }) => {
                let failures = failures.saturating_add(1);
                if failures >= self.config.threshold.max(1) {
                    self.cooldown_ms = self.config.cooldown_ms;
                    return self.open(now_ms, reset_at_ms);
                }
                self.state = State::Closed { failures };
                None
            }
            (State::HalfOpen { .. }, Input::TransientFailure { reset_at_ms }) => {
                // The account still fails after a rest: rest longer before the next probe.
                self.cooldown_ms = self
                    .cooldown_ms
                    .saturating_mul(2)
                    .min(self.config.max_cooldown_ms)
                    .max(self.config.cooldown_ms);
                self.open(now_ms, reset_at_ms)
            }
            (State::Open { until_ms, .. }, Input::TransientFailure { reset_at_ms }) => {
                // A job started before the opening failed late; only a later reset matters.
                match reset_at_ms {
                    Some(reset) if reset > until_ms && until_ms != i64::MAX => {
                        self.open(now_ms, Some(reset))
                    }
                    _ => None,
                }
            }
            (State::Open { until_ms, .. }, Input::Success) if until_ms == i64::MAX => {
                // A success of a job started before the auth failure proves nothing about the
                // credentials now.
                None
            }
            (_, Input::Success) | (_, Input::ManualClose) => {
                self.state = State::Closed { failures: 0 };
                self.cooldown_ms = self.config.cooldown_ms;
                None
            }
            (_, Input::AuthFailure) => {
                self.epoch += 1;
                self.state = State::Open {
                    until_ms: i64::MAX,
                    epoch: self.epoch,
                };
                None
            }
            (State::Open { epoch, .. }, Input::Timer { epoch: fired }) if epoch == fired => {
                self.state = State::HalfOpen {
                    probe_running: false,
                };
                None
            }
            (State::HalfOpen { .. }, Input::ProbeAbandoned) => {
                self.state = State::HalfOpen {
                    probe_running: false,
                };
                None
            }
            (_, Input::Timer { .. }) | (_, Input::ProbeAbandoned) => None,
        }
    }

    /// Opens until `reset_at_ms` when the service said when it takes requests again (a
    /// Retry-After, a quota reset): it knows best, so that is exactly the rest, shorter or longer
    /// than the cooldown. Without one, for the current cooldown.
    fn open(&mut self, now_ms: i64, reset_at_ms: Option<i64>) -> Option<Effect> {
        let until_ms = match reset_at_ms {
            Some(reset) => reset.max(now_ms),
            None => now_ms.saturating_add(self.cooldown_ms),
        };
        self.epoch += 1;
        self.state = State::Open {
            until_ms,
            epoch: self.epoch,
        };
        Some(Effect::StartTimer {
            epoch: self.epoch,
            after_ms: until_ms.saturating_sub(now_ms).max(0) as u64,
        })
    }
}

#[cfg(test)]
#[path = "breaker_tests.rs"]
mod tests;
