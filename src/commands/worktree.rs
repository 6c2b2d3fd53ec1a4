//! `corral worktree list|prune` and `corral feature diff|merge`: the features' git worktrees
//! from the command line.

use super::backlog::{
    BacklogCommandError, Result, emit, emit_json, no_feature, notify, open_store,
};
use crate::cli::WorktreeCmd;
use crate::config::{Config, MergeStrategy};
use crate::runtime::git::{self, cleanup, diff, merge};
use crate::runtime::now_ms;
use crate::runtime::store::{Store, WorktreeRecord};
use std::path::Path;

fn git_err(e: git::GitError) -> BacklogCommandError {
    BacklogCommandError::Refused(e.to_string())
}

/// Runs one `corral worktree` subcommand on `project`.
pub fn run_worktree_command(project: &Path, cmd: &WorktreeCmd) -> Result<()> {
    let config = Config::load(project)?;
    let store = open_store(project)?;
    match cmd {
        WorktreeCmd::List { json } => {
            let reports = cleanup::report(project, &store, &config.git.copy).map_err(git_err)?;
            if *json {
                return emit_json(&reports);
            }
            if reports.is_empty() {
                return emit("no worktrees");
            }
            for r in reports {
                let owner = r.feature_id.map_or("-".to_string(), |f| format!("#{f}"));
                let state = match (r.merge_state.as_str(), r.merge_note.as_str()) {
                    ("", _) => "not merged yet".to_string(),
                    (s, "") => s.to_string(),
                    (s, n) => format!("{s}: {n}"),
                };
                let lock = if r.locked { " locked" } else { "" };
                emit(&format!(
                    "{owner:>5}  {}  {}  {state}{lock}  {}  {}",
                    r.branch,
                    r.path,
                    human_bytes(r.disk_bytes),
                    if r.removable { "removable" } else { "kept" }
                ))?;
            }
            Ok(())
        }
        WorktreeCmd::Prune { dry_run } => {
            let reports =
                cleanup::prune(project, &store, &config.git.copy, *dry_run).map_err(git_err)?;
            let verb = if *dry_run { "would remove" } else { "removed" };
            for r in &reports {
                let what = format!("{} ({})", r.branch, r.path);
                if r.removable {
                    emit(&format!("{verb} {what}: {}", r.reason))?;
                } else {
                    emit(&format!("kept {what}: {}", r.reason))?;
                }
            }
            if reports.is_empty() {
                emit("no worktrees")?;
            }
            Ok(())
        }
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn record(store: &Store, id: i64) -> Result<WorktreeRecord> {
    store.worktree(id)?.ok_or_else(|| {
        BacklogCommandError::Refused(format!(
            "feature {id} has no worktree (worktrees are made when a coding run starts with \
             [git] worktrees = true)"
        ))
    })
}

/// `corral feature diff ID [--stat]`.
pub fn feature_diff(project: &Path, id: i64, stat: bool) -> Result<()> {
    let store = open_store(project)?;
    let rec = record(&store, id)?;
    let text = if stat {
        diff::stat(project, &rec)
    } else {
        use std::io::IsTerminal;
        diff::patch(project, &rec, std::io::stdout().is_terminal())
    }
    .map_err(git_err)?;
    if text.is_empty() {
        return emit(&format!("feature {id}: no change against {}", rec.base));
    }
    emit(&text)
}

/// `corral feature merge ID`: lands a passing feature's branch now (a `review` approval, or a
/// merge that waited for a clean checkout).
pub fn feature_merge(project: &Path, id: i64) -> Result<()> {
    let config = Config::load(project)?;
    let store = open_store(project)?;
    let rec = record(&store, id)?;
    let feature = store
        .load_features()?
        .into_iter()
        .find(|f| f.id.0 == id)
        .ok_or_else(|| no_feature(id))?;
    if feature.status != crate::api::FeatureStatus::Passing {
        return Err(BacklogCommandError::Refused(format!(
            "feature {id} is {}, not passing: only passing work is merged",
            feature.status.as_str()
        )));
    }
    if rec.merge_state == "merged" {
        return emit(&format!("feature {id} is merged already"));
    }
    // A person asking is the approval `review` and `none` wait for.
    let strategy = match config.git.merge {
        MergeStrategy::Review | MergeStrategy::None | MergeStrategy::Pr => MergeStrategy::Squash,
        s => s,
    };
    let copied: Vec<String> = config
        .git
        .copy
        .iter()
        .filter(|c| Path::new(&rec.path).join(c).exists())
        .cloned()
        .collect();
    let outcome =
        merge::merge_feature(project, &rec, &feature.name, strategy, &copied).map_err(git_err)?;
    let (state, note) = outcome.state();
    store.set_merge_state(id, state, &note, now_ms())?;
    notify(project);
    match outcome {
        merge::MergeOutcome::Merged { commit } => emit(&format!(
            "merged feature {id} into {} as {}",
            rec.base,
            commit.get(..10).unwrap_or(&commit)
        )),
        merge::MergeOutcome::NothingToMerge => emit(&format!("feature {id}: nothing to merge")),
        merge::MergeOutcome::Waiting(why) => Err(BacklogCommandError::Refused(format!(
            "feature {id}: not merged, {why}"
        ))),
        merge::MergeOutcome::Conflict(files) => Err(BacklogCommandError::Refused(format!(
            "feature {id}: {} conflicts with {} in {}; nothing was changed. `corral feature \
             requeue {id}` gives it to an agent to resolve",
            rec.branch,
            rec.base,
            files.join(", ")
        ))),
        merge::MergeOutcome::Left(why) => emit(&format!("feature {id}: {why}")),
        merge::MergeOutcome::PullRequest(url) => emit(&format!("feature {id}: {url}")),
    }
}

/// `corral feature reject ID --reason TEXT`.
pub fn feature_reject(project: &Path, id: i64, reason: &str) -> Result<()> {
    let store = open_store(project)?;
    let rec = record(&store, id)?;
    if rec.merge_state == "merged" {
        return Err(BacklogCommandError::Refused(format!(
            "feature {id} is merged already: there is nothing left to reject"
        )));
    }
    if reason.trim().is_empty() {
        return Err(BacklogCommandError::Refused(
            "--reason must say what to change: the agent gets it in its prompt".into(),
        ));
    }
    store.set_merge_state(id, "rejected", reason, now_ms())?;
    super::feature::requeue(project, id)
}
