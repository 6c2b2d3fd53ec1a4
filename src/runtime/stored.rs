//! A person's command applied to the stored state while no corral runs the project: the
//! core's own rules ([`Model::try_command`]) on a model read from the store, and the writes
//! they call for made in the same transaction as the read. There is no second copy of the
//! rules here: what the store gets is what a running core would have saved.
//!
//! Callers hold the project lock (`runtime::lock`) around [`apply`]: a running corral owns
//! the queue and saves whole jobs from memory, so it is sent the command instead.

use super::store::{Store, StoreError};
use crate::api::{Command, FeatureId, FeatureStatus, JobId};
use crate::core::{Effect, Model};

/// Why a command was not applied. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum StoredChangeError {
    /// The core's rules refuse it; the text says why.
    #[error("{0}")]
    Refused(String),
    /// Only a running corral can do this (it would signal a process or start one).
    #[error("{0} needs a running corral (`corral` or `corral run --headless`)")]
    NeedsRuntime(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a command changed in the store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    /// Jobs written, in the order the core saved them.
    pub jobs: Vec<JobId>,
    /// Features whose status was written, with the new status.
    pub features: Vec<(FeatureId, FeatureStatus)>,
    /// What the core said about it (the notices a dashboard would show).
    pub notices: Vec<String>,
}

/// Applies `command` to the stored backlog, queue and breakers by the core's rules, in one
/// transaction: read, decide, write, or (refused) nothing at all.
pub fn apply(
    store: &mut Store,
    command: Command,
    now_ms: i64,
) -> Result<Applied, StoredChangeError> {
    store.transaction(|store| {
        let mut model = Model::stored(store.load_features()?, store.jobs_with_ended(None)?, now_ms);
        // (The wake-ups it asks for are the next corral's to set, from what is stored.)
        let _ = model.restore_breakers(store.load_breakers()?);
        let what = format!("{command:?}");
        let effects = model
            .try_command(command)
            .map_err(StoredChangeError::Refused)?;
        let mut applied = Applied::default();
        for effect in effects {
            match effect {
                Effect::SaveJob(job) => {
                    store.save_job(&job, now_ms)?;
                    applied.jobs.push(job.id);
                }
                Effect::SaveFeature {
                    id,
                    status,
                    attempts,
                    last_error,
                } => {
                    store.save_feature(id, status, attempts, last_error.as_deref(), now_ms)?;
                    applied.features.push((id, status));
                }
                Effect::SavePriority { id, priority } => {
                    store.save_priority(id, priority, now_ms)?
                }
                Effect::SaveBreaker { account, saved } => {
                    store.save_breaker(&account, &saved, now_ms)?;
                }
                Effect::Notice(text) => applied.notices.push(text),
                Effect::Wake { .. } | Effect::StartTimer { .. } => {}
                _ => return Err(StoredChangeError::NeedsRuntime(what)),
            }
        }
        Ok(applied)
    })
}
