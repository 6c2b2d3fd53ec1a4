//! Making a new worktree off the supervisor's loop: `git worktree add`, the copies and the
//! setup command (which may take minutes: `npm ci`) run on a blocking thread while the loop
//! goes on; the spawn waits (the core keeps it pending) and is performed when the worktree is
//! ready, through `Input::Prepared`. What setup printed, or why it failed, is kept here for
//! the run's log.

use super::worktree::{self, resolve_base};
use super::{project_folder, worktrees_root};
use crate::api::{FeatureId, Role};
use crate::config::Config;
use crate::core::{Effect, Input};
use crate::runtime::store::Store;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use tokio::sync::mpsc::UnboundedSender;

/// Lines for the run's log, or why the worktree could not be made.
type Outcome = Result<Vec<String>, String>;

fn ready() -> &'static Mutex<HashMap<(PathBuf, i64), Outcome>> {
    static READY: OnceLock<Mutex<HashMap<(PathBuf, i64), Outcome>>> = OnceLock::new();
    READY.get_or_init(Default::default)
}

/// Checkouts made for re-checks, by project and feature: the path, or why it failed.
type Checkouts = Mutex<HashMap<(PathBuf, i64), Result<PathBuf, String>>>;

fn checkouts() -> &'static Checkouts {
    static CHECKOUTS: OnceLock<Checkouts> = OnceLock::new();
    CHECKOUTS.get_or_init(Default::default)
}

/// The detached checkout of the base made in the background for re-checking feature `id`,
/// taken.
pub fn take_checkout(project: &Path, id: FeatureId) -> Option<Result<PathBuf, String>> {
    checkouts()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(project.to_path_buf(), id.0))
}

/// What background preparation left for feature `id`'s next run, taken (so a later run
/// prepares afresh).
pub fn take(project: &Path, id: FeatureId) -> Option<Outcome> {
    ready()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(project.to_path_buf(), id.0))
}

/// Whether preparation for feature `id` has finished and waits for its run.
pub fn is_ready(project: &Path, id: FeatureId) -> bool {
    ready()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains_key(&(project.to_path_buf(), id.0))
}

/// If a coding run on `feature` needs a worktree that does not exist yet, starts making it
/// in the background, to answer with `Input::Prepared(effect)`, and returns true: the caller
/// puts the spawn off. False when the spawn can go ahead now.
#[allow(clippy::too_many_arguments)]
pub fn defer(
    project: &Path,
    config: &Config,
    store: &Store,
    feature: Option<FeatureId>,
    name: &str,
    role: Role,
    effect: &Effect,
    tx: &UnboundedSender<Input>,
) -> bool {
    let Some(id) = feature else { return false };
    if !super::run::wanted(project, config, role, feature) || is_ready(project, id) {
        return false;
    }
    let known = store.worktree(id.0).ok().flatten();
    if role == Role::Testing {
        return defer_checkout(project, config, store, id, known.as_ref(), effect, tx);
    }
    let usable = known
        .as_ref()
        .is_some_and(|k| k.merge_state != "merged" && Path::new(&k.path).join(".git").exists());
    if usable {
        return false;
    }
    // Quick and needing the store: decided here. The rest goes to a blocking thread.
    let Some(root) = worktrees_root() else {
        return false;
    };
    let Ok(base) = resolve_base(project, &config.git, store) else {
        return false; // the spawn reports it
    };
    let folder = project_folder(&root, project);
    let (project, config, name, effect, tx) = (
        project.to_path_buf(),
        config.clone(),
        name.to_string(),
        effect.clone(),
        tx.clone(),
    );
    let known = known.filter(|k| k.merge_state != "merged");
    tokio::spawn(async move {
        let outcome = {
            let project = project.clone();
            tokio::task::spawn_blocking(move || {
                make(&project, &folder, &config, &base, id, &name, known.as_ref())
            })
            .await
            .unwrap_or_else(|e| Err(format!("preparing the worktree: {e}")))
        };
        ready()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((project, id.0), outcome);
        let _ = tx.send(Input::Prepared(Box::new(effect)));
    });
    true
}

/// A re-check of a merged feature (or one without a worktree) runs in a fresh detached
/// checkout of the base: made here in the background when it is not there yet.
fn defer_checkout(
    project: &Path,
    config: &Config,
    store: &Store,
    id: FeatureId,
    known: Option<&crate::runtime::store::WorktreeRecord>,
    effect: &Effect,
    tx: &UnboundedSender<Input>,
) -> bool {
    let key = (project.to_path_buf(), id.0);
    if known.is_some_and(|k| k.merge_state != "merged")
        || checkouts()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&key)
    {
        return false;
    }
    let (Some(root), Ok(base)) = (worktrees_root(), resolve_base(project, &config.git, store))
    else {
        return false;
    };
    let path =
        project_folder(&root, project).join(format!("check-{}-{}", id.0, crate::runtime::now_ms()));
    let (project, effect, tx) = (project.to_path_buf(), effect.clone(), tx.clone());
    tokio::spawn(async move {
        let made = {
            let (project, path) = (project.clone(), path.clone());
            tokio::task::spawn_blocking(move || {
                super::with_repo(&project, || {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)
                            .map_err(|e| format!("{}: {e}", parent.display()))?;
                    }
                    let path_s = path.to_string_lossy();
                    super::Git::at(&project)
                        .run(&["worktree", "add", "--detach", &path_s, &base])
                        .map(|_| path.clone())
                        .map_err(|e| format!("checking out {base} to re-check feature {id}: {e}"))
                })
            })
            .await
            .unwrap_or_else(|e| Err(format!("checking out the base: {e}")))
        };
        checkouts()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((project, id.0), made);
        let _ = tx.send(Input::Prepared(Box::new(effect)));
    });
    true
}

fn make(
    project: &Path,
    folder: &Path,
    config: &Config,
    base: &str,
    id: FeatureId,
    name: &str,
    known: Option<&crate::runtime::store::WorktreeRecord>,
) -> Outcome {
    let prepared = worktree::ensure(project, folder, &config.git, base, id.0, name, known)
        .map_err(|e| format!("creating the worktree of feature {id}: {e}"))?;
    let rec = &prepared.record;
    let mut lines = Vec::new();
    if prepared.created {
        lines.push(format!(
            "corral: new worktree {} on branch {} from {} ({})",
            rec.path,
            rec.branch,
            rec.base,
            rec.base_commit.get(..10).unwrap_or(&rec.base_commit)
        ));
        lines.extend(
            prepared
                .copied
                .iter()
                .map(|c| format!("corral: copied {c} into the worktree")),
        );
        if let Some(setup) = &config.git.setup {
            match super::run::run_setup_lines(Path::new(&rec.path), setup) {
                Ok(out) => lines.extend(out),
                Err((out, error)) => {
                    worktree::discard_fresh(project, rec);
                    lines.extend(out);
                    return Err(format!("{}\n{error}", lines.join("\n")));
                }
            }
        }
    }
    let store = Store::open(project).map_err(|e| e.to_string())?;
    store
        .save_worktree(rec, crate::runtime::now_ms())
        .map_err(|e| e.to_string())?;
    Ok(lines)
}
