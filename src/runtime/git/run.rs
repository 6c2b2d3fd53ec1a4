//! The spawner's one hook into worktrees: before a feature's run starts, find or make its
//! worktree, set it up, lock it and hand out a port block; after the run, unlock it.

use super::ports::PortLease;
use super::worktree::{self, resolve_base};
use super::{project_folder, worktrees_root};
use crate::api::{FeatureId, Role, RunId};
use crate::config::Config;
use crate::runtime::capture::LogHub;
use crate::runtime::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The worktree a run works in, held until the run ends.
#[derive(Debug)]
pub struct RunWorktree {
    pub path: PathBuf,
    pub branch: String,
    pub project: PathBuf,
    pub ports: Option<PortLease>,
    /// A throwaway worktree of the base (a re-check): removed when the run ends.
    pub throwaway: bool,
}

impl RunWorktree {
    /// The run's environment additions.
    pub fn env(&self, env: &mut BTreeMap<String, String>) {
        env.insert(
            "CORRAL_WORKTREE".into(),
            self.path.to_string_lossy().into_owned(),
        );
        env.insert("CORRAL_BRANCH".into(), self.branch.clone());
        if let Some(p) = &self.ports {
            env.insert("CORRAL_PORT_BASE".into(), p.base.to_string());
        }
    }

    /// Unlocks the worktree; the port block goes back when `self` is dropped.
    pub fn release(self) {
        worktree::unlock(&self.project, &self.path);
        if self.throwaway {
            super::with_repo(&self.project, || {
                let path = self.path.to_string_lossy();
                let _ =
                    super::Git::at(&self.project).output(&["worktree", "remove", "--force", &path]);
            });
        }
    }
}

/// Whether a run of `role` on `feature` gets a worktree: worktrees on in a git repository,
/// and a coding or testing run on a feature.
pub fn wanted(project: &Path, config: &Config, role: Role, feature: Option<FeatureId>) -> bool {
    // The configuration first: git is not asked when worktrees are off anyway.
    feature.is_some()
        && matches!(role, Role::Coding | Role::Testing)
        && config.git.worktrees_on(true)
        && config.git.worktrees_on(super::repo_with_commit(project))
}

/// Prepares the worktree for `run` (see the module docs). `Ok(None)` when the run works in the
/// project itself. Errors name what failed: a run in the wrong directory would do the wrong work.
#[allow(clippy::too_many_arguments)]
pub fn prepare(
    project: &Path,
    config: &Config,
    store: &Store,
    feature: Option<FeatureId>,
    name: &str,
    role: Role,
    run: RunId,
    logs: &LogHub,
) -> Result<Option<RunWorktree>, String> {
    if !wanted(project, config, role, feature) {
        return Ok(None);
    }
    let Some(id) = feature else { return Ok(None) };
    // Made off the loop already (see `prepare`): its notes go to this run's log.
    match super::prepare::take(project, id) {
        Some(Err(e)) => {
            let mut lines: Vec<&str> = e.lines().collect();
            let last = lines.pop().unwrap_or_default().to_string();
            for line in lines {
                logs.note(run, line);
            }
            return Err(last);
        }
        Some(Ok(lines)) => {
            for line in lines {
                logs.note(run, &line);
            }
        }
        None => {}
    }
    let known = store.worktree(id.0).map_err(|e| e.to_string())?;
    // A merged feature (or one that never had a worktree) is re-checked on the base, in a
    // fresh detached worktree of it: never in the main checkout, where a person works.
    if role == Role::Testing && known.as_ref().is_none_or(|k| k.merge_state == "merged") {
        return check_out_base(project, config, store, id, run, logs).map(Some);
    }
    // New work on a merged feature starts from a fresh branch off the base, which has the
    // old work; the old branch goes once git agrees everything on it is on the base.
    let known = match known {
        Some(k) if role == Role::Coding && k.merge_state == "merged" => {
            retire(project, &k, &config.git.copy);
            store.forget_worktree(id.0).map_err(|e| e.to_string())?;
            None
        }
        k => k,
    };
    let root = worktrees_root()
        .ok_or("no home directory, so corral has no data directory for worktrees")?;
    let folder = project_folder(&root, project);
    let base = resolve_base(project, &config.git, store).map_err(|e| e.to_string())?;
    let prepared = worktree::ensure(
        project,
        &folder,
        &config.git,
        &base,
        id.0,
        name,
        known.as_ref(),
    )
    .map_err(|e| format!("creating the worktree of feature {id}: {e}"))?;
    let rec = &prepared.record;
    if prepared.created {
        logs.note(
            run,
            &format!(
                "corral: new worktree {} on branch {} from {} ({})",
                rec.path,
                rec.branch,
                rec.base,
                short(&rec.base_commit)
            ),
        );
        for c in &prepared.copied {
            logs.note(run, &format!("corral: copied {c} into the worktree"));
        }
        if let Some(setup) = &config.git.setup
            && let Err(e) = run_setup(Path::new(&rec.path), setup, run, logs)
        {
            worktree::discard_fresh(project, rec);
            return Err(e);
        }
    } else {
        logs.note(
            run,
            &format!(
                "corral: working in worktree {} on branch {}",
                rec.path, rec.branch
            ),
        );
    }
    store
        .save_worktree(rec, crate::runtime::now_ms())
        .map_err(|e| e.to_string())?;
    worktree::lock(project, Path::new(&rec.path), run.0).map_err(|e| e.to_string())?;
    let (first, last) = config.git.ports;
    let ports = PortLease::take(first, last, config.git.ports_per_run);
    if ports.is_none() {
        logs.note(
            run,
            "corral: every port block of [git] ports is held by a live run: no CORRAL_PORT_BASE",
        );
    }
    Ok(Some(RunWorktree {
        path: PathBuf::from(&rec.path),
        branch: rec.branch.clone(),
        project: project.to_path_buf(),
        ports,
        throwaway: false,
    }))
}

/// A detached worktree of the base at its tip, for re-checking feature `id` in run `run`.
fn check_out_base(
    project: &Path,
    config: &Config,
    store: &Store,
    id: FeatureId,
    run: RunId,
    logs: &LogHub,
) -> Result<RunWorktree, String> {
    let root = worktrees_root()
        .ok_or("no home directory, so corral has no data directory for worktrees")?;
    let folder = project_folder(&root, project);
    let base = resolve_base(project, &config.git, store).map_err(|e| e.to_string())?;
    // Usually made off the loop already (see `prepare`); made here only if not.
    let made = super::prepare::take_checkout(project, id).transpose()?;
    let path = made.unwrap_or_else(|| folder.join(format!("check-{}-run-{}", id.0, run.0)));
    let path_s = path.to_string_lossy().into_owned();
    super::with_repo(project, || {
        let git = super::Git::at(project);
        if !path.exists() {
            std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
            git.run(&["worktree", "add", "--detach", &path_s, &base])
                .map_err(|e| format!("checking out {base} to re-check feature {id}: {e}"))?;
        }
        let reason = format!("corral run {}", run.0);
        git.run(&["worktree", "lock", "--reason", &reason, &path_s])
            .map_err(|e| e.to_string())
    })?;
    logs.note(
        run,
        &format!("corral: re-checking on {base} in a fresh worktree {path_s}"),
    );
    let (first, last) = config.git.ports;
    Ok(RunWorktree {
        path,
        branch: base,
        project: project.to_path_buf(),
        ports: PortLease::take(first, last, config.git.ports_per_run),
        throwaway: true,
    })
}

/// Worktrees under corral's folder for `project` that no feature owns (left by a crash, or
/// by a feature removed from the backlog), for the start-up report.
pub fn unowned(project: &Path, store: &Store, config: &Config) -> Vec<String> {
    if !config.git.worktrees_on(super::is_repo(project)) {
        return Vec::new();
    }
    super::cleanup::report(project, store, &config.git.copy)
        .map(|r| {
            r.into_iter()
                .filter(|w| w.feature_id.is_none())
                .map(|w| format!("{} ({})", w.path, w.branch))
                .collect()
        })
        .unwrap_or_default()
}

fn short(sha: &str) -> &str {
    sha.get(..10).unwrap_or(sha)
}

/// Runs `[git] setup` in the new worktree, its output going to the run's log.
fn run_setup(dir: &Path, argv: &[String], run: RunId, logs: &LogHub) -> Result<(), String> {
    let result = run_setup_lines(dir, argv);
    let lines = match &result {
        Ok(lines) | Err((lines, _)) => lines,
    };
    for line in lines {
        logs.note(run, line);
    }
    result.map(drop).map_err(|(_, e)| e)
}

/// Runs `[git] setup` in `dir`: the lines for the run's log, and on failure why.
pub(super) fn run_setup_lines(
    dir: &Path,
    argv: &[String],
) -> Result<Vec<String>, (Vec<String>, String)> {
    let mut lines = vec![format!("corral: setup: {}", argv.join(" "))];
    let out = match std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            let error = format!("[git] setup: cannot start {:?}: {e}", argv[0]);
            return Err((lines, error));
        }
    };
    lines.extend(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .map(String::from),
    );
    if out.status.success() {
        Ok(lines)
    } else {
        let error = format!(
            "[git] setup {:?} failed ({}) in the new worktree {}",
            argv.join(" "),
            out.status,
            dir.display()
        );
        Err((lines, error))
    }
}

/// Removes a merged feature's worktree and branch when git confirms the work is on the base;
/// otherwise leaves them for `corral worktree prune` to report.
fn retire(project: &Path, rec: &crate::runtime::store::WorktreeRecord, copy: &[String]) {
    use crate::core::worktree::{Verdict, removal_verdict};
    super::with_repo(project, || {
        let git = super::Git::at(project);
        let Ok(Some(facts)) = super::cleanup::facts(project, rec, None, copy) else {
            return;
        };
        if let Verdict::Remove(_) = removal_verdict(&facts) {
            let _ = git.output(&["worktree", "remove", "--force", &rec.path]);
            let _ = git.output(&["branch", "-D", &rec.branch]);
        }
    });
}
