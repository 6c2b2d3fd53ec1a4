//! Circuit breakers in the store, so a restart neither forgets an open account nor retries
//! refused credentials by itself.

use super::{Store, StoreError};
use crate::core::breaker::{Saved, State};
use rusqlite::params;

impl Store {
    /// Stores an account's breaker as it is now.
    pub fn save_breaker(
        &self,
        account: &str,
        saved: &Saved,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let view = saved.state.view(account);
        let (state, failures, until) = (view.state.as_str(), view.failures, view.until_ms);
        self.conn
            .execute(
                "INSERT INTO breakers (account, state, failures, until_ms, cooldown_ms, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(account) DO UPDATE SET state = ?2, failures = ?3, until_ms = ?4,
                     cooldown_ms = ?5, updated_at = ?6",
                params![account, state, failures, until, saved.cooldown_ms, now_ms],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Closes an account's breaker in the store (only while no corral runs the project: a
    /// running one owns its breakers). False when the account has none stored.
    pub fn close_breaker(&self, account: &str, now_ms: i64) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE breakers SET state = 'closed', failures = 0, until_ms = NULL, updated_at = ?2
                 WHERE account = ?1",
                params![account, now_ms],
            )
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    /// When the account's breaker was last stored, if it ever was.
    pub fn breaker_updated_at(&self, account: &str) -> Result<Option<i64>, StoreError> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT updated_at FROM breakers WHERE account = ?1",
                [account],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every stored breaker, by account. An open one without an end waits for a person
    /// (credentials refused).
    pub fn load_breakers(&self) -> Result<Vec<(String, Saved)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT account, state, failures, until_ms, cooldown_ms FROM breakers ORDER BY account",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                let state: String = r.get(1)?;
                let until: Option<i64> = r.get(3)?;
                let state = match state.as_str() {
                    "open" => State::Open {
                        until_ms: until.unwrap_or(i64::MAX),
                        epoch: 0,
                    },
                    "half_open" => State::HalfOpen {
                        probe_running: false,
                    },
                    _ => State::Closed {
                        failures: r.get(2)?,
                    },
                };
                Ok((
                    r.get::<_, String>(0)?,
                    Saved {
                        state,
                        cooldown_ms: r.get(4)?,
                    },
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
