//! The supervisor's hook after a feature passes: merge its worktree branch into the base, and
//! turn the outcome into what the scheduler needs next (dependents become ready, a resolve
//! job for a conflict, a retry while the main checkout is dirty).

use super::merge::{MergeOutcome, merge_feature};
use super::{Git, is_repo};
use crate::api::{Command, FeatureId};
use crate::config::{Config, MergeStrategy};
use crate::core::Input;
use crate::runtime::store::{Store, WorktreeRecord};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How often a merge that waits for a clean checkout is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The `[git] copy` files present in the worktree and not tracked there: they stay out of
/// every commit.
fn copied_untracked(rec: &WorktreeRecord, copy: &[String]) -> Vec<String> {
    let wt = Git::at(Path::new(&rec.path));
    copy.iter()
        .filter(|c| Path::new(&rec.path).join(c).exists())
        .filter(|c| {
            !wt.succeeds(&["ls-files", "--error-unmatch", "--", c.as_str()])
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}

/// A merge a person asked for (`corral feature merge`, `m` in the diff view): `review`, `pr`
/// and `none` give way to a squash.
pub fn merge_now(
    project: &Path,
    config: &Config,
    store: &Store,
    feature: FeatureId,
    name: &str,
) -> Option<Input> {
    let strategy = match config.git.merge {
        MergeStrategy::Review | MergeStrategy::None | MergeStrategy::Pr => MergeStrategy::Squash,
        s => s,
    };
    attempt_with(project, config, store, feature, name, strategy).0
}

/// One merge attempt for `feature`, recorded in the store; the input that follows from it.
pub fn attempt(
    project: &Path,
    config: &Config,
    store: &Store,
    feature: FeatureId,
    name: &str,
) -> (Option<Input>, Option<MergeOutcome>) {
    attempt_with(project, config, store, feature, name, config.git.merge)
}

fn attempt_with(
    project: &Path,
    config: &Config,
    store: &Store,
    feature: FeatureId,
    name: &str,
    strategy: MergeStrategy,
) -> (Option<Input>, Option<MergeOutcome>) {
    let Ok(Some(rec)) = store.worktree(feature.0) else {
        return (None, None);
    };
    if rec.merge_state == "merged" || !config.git.worktrees_on(is_repo(project)) {
        return (None, None);
    }
    let copied = copied_untracked(&rec, &config.git.copy);
    let now = crate::runtime::now_ms();
    let outcome = match merge_feature(project, &rec, name, strategy, &copied) {
        Ok(o) => o,
        Err(e) => {
            log::error!("feature {feature}: merging its branch failed: {e}");
            let _ = store.set_merge_state(feature.0, "waiting", &format!("merge failed: {e}"), now);
            return (None, None);
        }
    };
    let (state, note) = outcome.state();
    if let Err(e) = store.set_merge_state(feature.0, state, &note, now) {
        log::error!("{e}");
    }
    let input = match &outcome {
        MergeOutcome::Merged { commit } => {
            log::info!(
                "feature {feature}: {} merged into {} as {}",
                rec.branch,
                rec.base,
                commit.get(..10).unwrap_or(commit)
            );
            store.load_features().ok().map(Input::Backlog)
        }
        MergeOutcome::NothingToMerge => store.load_features().ok().map(Input::Backlog),
        MergeOutcome::Waiting(why) => {
            log::info!("feature {feature}: merge {why}");
            // The feature shows why it waits.
            store.load_features().ok().map(Input::Backlog)
        }
        MergeOutcome::Conflict(files) => {
            let met = store.merge_conflicts(feature.0).unwrap_or(1);
            if met >= config.scheduler.max_attempts {
                log::warn!(
                    "feature {feature}: merging {} into {} still conflicts in {} after {met} attempts: failing it",
                    rec.branch,
                    rec.base,
                    files.join(", ")
                );
                // Failed, not failing: another automatic try would meet the same conflict.
                let attempts = store
                    .load_features()
                    .ok()
                    .and_then(|fs| fs.into_iter().find(|f| f.id == feature))
                    .map_or(0, |f| f.attempts);
                let error = format!(
                    "merging {} into {} conflicts in {} ({met} attempts to resolve it)",
                    rec.branch,
                    rec.base,
                    files.join(", ")
                );
                if let Err(e) = store.save_feature(
                    feature,
                    crate::api::FeatureStatus::Failed,
                    attempts,
                    Some(&error),
                    now,
                ) {
                    log::error!("{e}");
                }
                store.load_features().ok().map(Input::Backlog)
            } else {
                log::info!(
                    "feature {feature}: {} conflicts with {} in {}: queueing a coding job to resolve it",
                    rec.branch,
                    rec.base,
                    files.join(", ")
                );
                Some(Input::Command(Command::RequeueFeature { feature }))
            }
        }
        MergeOutcome::Left(_) | MergeOutcome::PullRequest(_) => {
            store.load_features().ok().map(Input::Backlog)
        }
    };
    (input, Some(outcome))
}

/// After feature `feature` passed: merge now, or keep trying in the background while the
/// checkout is not clean. Returns the input to handle next, if any.
pub fn after_pass(
    project: &Path,
    config: &Config,
    store: &Store,
    feature: FeatureId,
    name: &str,
    tx: &UnboundedSender<Input>,
) -> Option<Input> {
    let (input, outcome) = attempt(project, config, store, feature, name);
    if matches!(&outcome, Some(MergeOutcome::PullRequest(url)) if url.starts_with("http")) {
        watch_pull_request(project.to_path_buf(), feature, tx.clone());
    }
    if matches!(outcome, Some(MergeOutcome::Waiting(_))) {
        retry_while_waiting(
            project.to_path_buf(),
            config.clone(),
            feature,
            name.to_string(),
            tx.clone(),
        );
    }
    input
}

fn retry_while_waiting(
    project: PathBuf,
    config: Config,
    feature: FeatureId,
    name: String,
    tx: UnboundedSender<Input>,
) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RETRY_EVERY).await;
            if tx.is_closed() {
                return;
            }
            let (project, config, name) = (project.clone(), config.clone(), name.clone());
            let step = tokio::task::spawn_blocking(move || {
                let store = Store::open(&project).ok()?;
                Some(attempt(&project, &config, &store, feature, &name))
            })
            .await;
            let Ok(Some((input, outcome))) = step else {
                return;
            };
            if let Some(input) = input {
                let _ = tx.send(input);
            }
            if !matches!(outcome, Some(MergeOutcome::Waiting(_))) {
                return;
            }
        }
    });
}

/// How often an open pull request is asked whether it was merged.
const PR_POLL: Duration = Duration::from_secs(30);

/// Asks `gh` now and then whether the feature's pull request was merged; once it is, the local
/// base follows `origin` (fast-forward only) and the feature counts as merged, so the features
/// that depend on it may start.
fn watch_pull_request(project: PathBuf, feature: FeatureId, tx: UnboundedSender<Input>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(PR_POLL).await;
            if tx.is_closed() {
                return;
            }
            let project = project.clone();
            let step = tokio::task::spawn_blocking(move || {
                let store = Store::open(&project).ok()?;
                let rec = store.worktree(feature.0).ok()??;
                if rec.merge_state != "pr" {
                    return Some(None); // merged or rejected by other means: stop watching
                }
                if super::pr::is_merged(&project, &rec.merge_note) != Some(true) {
                    return None;
                }
                let followed = super::with_repo(&project, || {
                    super::pr::follow_remote_base(&project, &rec.base)
                });
                if let Err(e) = followed {
                    log::warn!("feature {feature}: its pull request is merged, but updating {} failed: {e}", rec.base);
                }
                let _ = store.set_merge_state(feature.0, "merged", &rec.merge_note, crate::runtime::now_ms());
                log::info!("feature {feature}: pull request {} merged", rec.merge_note);
                Some(store.load_features().ok().map(Input::Backlog))
            })
            .await;
            match step {
                Ok(Some(input)) => {
                    if let Some(input) = input {
                        let _ = tx.send(input);
                    }
                    return;
                }
                Ok(None) => {}
                Err(_) => return,
            }
        }
    });
}
