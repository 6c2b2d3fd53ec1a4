//! The circuit breakers of the accounts agents run on, as the model drives them.

use super::breaker::{self, Breaker, State};
use super::effect::{Effect, WakeKey};
use super::failure::Class;
use super::model::Model;
use crate::api::BreakerView;

impl Model {
    fn breaker_mut(&mut self, account: &str) -> &mut Breaker {
        let config = self.breaker_config;
        self.breakers
            .entry(account.to_string())
            .or_insert_with(|| Breaker::new(config))
    }

    /// Whether a job of `account` may start now; a half-open breaker hands out its single
    /// probe to the caller, so ask only when about to start.
    pub(crate) fn breaker_allows(&mut self, account: &str) -> bool {
        let now = self.now_ms;
        self.breaker_mut(account).may_start(now)
    }

    /// True unless the account's breaker is open or half-open.
    pub(crate) fn breaker_closed(&self, account: &str) -> bool {
        self.breakers
            .get(account)
            .is_none_or(|b| matches!(b.state(), State::Closed { .. }))
    }

    /// Feeds one outcome to the account's breaker; says so when that opens it.
    pub(crate) fn breaker_step(&mut self, account: &str, input: breaker::Input) -> Vec<Effect> {
        let now = self.now_ms;
        let b = self.breaker_mut(account);
        let was_open = matches!(b.state(), State::Open { .. });
        let before = b.saved();
        let step = b.step(input, now);
        let state = b.state();
        let saved = b.saved();
        let mut effects: Vec<Effect> = step
            .map(
                |breaker::Effect::StartTimer { epoch, after_ms }| Effect::Wake {
                    key: WakeKey::Breaker {
                        account: account.to_string(),
                        epoch,
                    },
                    after_ms,
                },
            )
            .into_iter()
            .collect();
        if saved != before {
            effects.push(Effect::SaveBreaker {
                account: account.to_string(),
                saved,
            });
        }
        if let State::Open { until_ms, .. } = state
            && (!was_open || !effects.is_empty())
        {
            let text = if until_ms == i64::MAX {
                effects.push(Effect::Notify(super::effect::Notification {
                    event: "login_needed".into(),
                    title: format!("account {account} needs a login"),
                    body: format!(
                        "credentials refused; log in again, then `corral breaker close {account}`"
                    ),
                    run: None,
                    feature: None,
                }));
                format!(
                    "account {account}: credentials refused; log in again, then close its breaker (b, or `corral breaker close {account}`)"
                )
            } else {
                let secs = ((until_ms - now).max(0) + 999) / 1000;
                format!(
                    "account {account}: breaker open for {secs}s after repeated transient failures"
                )
            };
            effects.extend(self.notice(text));
        }
        effects
    }

    /// What a failed run's class tells its account's breaker.
    pub(crate) fn breaker_input(class: Class) -> breaker::Input {
        match class {
            Class::Transient { wait } => breaker::Input::TransientFailure {
                reset_at_ms: wait.map(|w| w.until_ms),
            },
            Class::Auth => breaker::Input::AuthFailure,
            // The service answered; the work was wrong. The account is fine.
            Class::Permanent => breaker::Input::Success,
        }
    }

    pub(crate) fn breaker_timer(&mut self, account: &str, epoch: u64) -> Vec<Effect> {
        self.breaker_step(account, breaker::Input::Timer { epoch })
    }

    /// Takes over the breakers as stored by an earlier corral; open ones get their timers.
    pub fn restore_breakers(&mut self, saved: Vec<(String, breaker::Saved)>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for (account, saved) in saved {
            let b = Breaker::restore(self.breaker_config, saved);
            if let Some(breaker::Effect::StartTimer { epoch, after_ms }) = b.open_timer(self.now_ms)
            {
                effects.push(Effect::Wake {
                    key: WakeKey::Breaker {
                        account: account.clone(),
                        epoch,
                    },
                    after_ms,
                });
            }
            self.breakers.insert(account, b);
        }
        effects
    }

    /// `CloseBreaker`.
    pub(crate) fn close_breaker(&mut self, account: &str) -> Result<Vec<Effect>, String> {
        if !self.breakers.contains_key(account) && !self.known_account(account) {
            return Err(format!("no account {account}"));
        }
        let mut effects = self.breaker_step(account, breaker::Input::ManualClose);
        effects.extend(self.notice(format!("breaker of {account} closed by hand")));
        Ok(effects)
    }

    fn known_account(&self, account: &str) -> bool {
        self.profile_info.values().any(|p| p.account == account)
    }

    /// One view per account of an enabled profile or with a breaker, by name.
    pub fn breaker_views(&self) -> Vec<BreakerView> {
        let mut accounts: Vec<&str> = self
            .profile_info
            .values()
            .map(|p| p.account.as_str())
            .chain(self.breakers.keys().map(String::as_str))
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts
            .into_iter()
            .map(|account| {
                self.breakers
                    .get(account)
                    .map_or(State::Closed { failures: 0 }, |b| b.state())
                    .view(account)
            })
            .collect()
    }
}
