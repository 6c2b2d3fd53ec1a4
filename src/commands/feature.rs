//! `corral feature add|edit|rm|pass|fail|requeue`: each one checked and written in one
//! transaction, then a running dashboard is told to reload.

use super::backlog::{
    BacklogCommandError, Result, emit, label, max_dependencies, no_feature, notify, open_store,
};
use super::feature_view;
use crate::cli::{FeatureAddArgs, FeatureCmd, FeatureEditArgs};
use crate::core::backlog::{FeatureSpec, Subject, check_edit, validate_new};
use crate::core::backlog_profiles::{profile_errors, with_problems};
use crate::runtime::now_ms;
use crate::runtime::store::backlog::{
    delete_feature, dependency_graph, dependents, feature_record, feature_records, insert_features,
    insert_report, run_feature, set_dependencies, set_status, update_feature,
};
use std::path::Path;

/// Runs one `corral feature` subcommand on `project`.
pub fn run_feature_command(project: &Path, cmd: &FeatureCmd) -> Result<()> {
    match cmd {
        FeatureCmd::Add(args) => add(project, args),
        FeatureCmd::List { status, json } => feature_view::list(project, status.as_deref(), *json),
        FeatureCmd::Show { id, json } => feature_view::show(project, *id, *json),
        FeatureCmd::Edit(args) => edit(project, args),
        FeatureCmd::Rm { id, force } => remove(project, *id, *force),
        FeatureCmd::Pass { id, run } => mark(project, *id, *run, None),
        FeatureCmd::Fail { id, run, reason } => mark(project, *id, *run, Some(reason.as_str())),
        FeatureCmd::Requeue { id } => requeue(project, *id),
        FeatureCmd::Diff { id, stat } => super::worktree::feature_diff(project, *id, *stat),
        FeatureCmd::Merge { id } => super::worktree::feature_merge(project, *id),
        FeatureCmd::Reject { id, reason } => super::worktree::feature_reject(project, *id, reason),
    }
}

fn add(project: &Path, args: &FeatureAddArgs) -> Result<()> {
    let max = max_dependencies(project)?;
    let roles = super::backlog::profile_roles(project)?;
    let mut store = open_store(project)?;
    let spec = FeatureSpec {
        id: args.id,
        name: args.name(),
        category: args.category.clone(),
        description: args.description.clone(),
        steps: args.steps.clone(),
        priority: args.priority,
        dependencies: args.deps.clone(),
        model: args.overrides.model.clone(),
        effort: args.overrides.effort.clone(),
        profile: args.overrides.profile.clone(),
    };
    let spec = store.write(|conn| {
        let new = |_: usize, s: &FeatureSpec| Subject::New {
            name: s.name.clone(),
        };
        let problems = profile_errors(std::slice::from_ref(&spec), &roles, new);
        let spec = with_problems(validate_new(spec, &dependency_graph(conn)?, max), problems)?;
        insert_features(conn, std::slice::from_ref(&spec), now_ms())?;
        Ok::<_, BacklogCommandError>(spec)
    })?;
    notify(project);
    emit(&format!(
        "added {}",
        label(spec.id.unwrap_or_default(), &spec.name)
    ))?;
    Ok(())
}

fn edit(project: &Path, args: &FeatureEditArgs) -> Result<()> {
    if args.is_empty() {
        return Err(BacklogCommandError::Refused(
            "nothing to change: give --name, --category, --description, --step, --no-steps, \
             --priority, --model, --effort, --profile, --dep, --no-deps, --add-dep or --rm-dep"
                .into(),
        ));
    }
    let max = max_dependencies(project)?;
    let roles = super::backlog::profile_roles(project)?;
    let mut store = open_store(project)?;
    let id = args.id;
    let name = store.write(|conn| {
        let old = feature_record(conn, id)?.ok_or_else(|| no_feature(id))?;
        let mut spec = old.spec();
        if let Some(name) = &args.name {
            spec.name = name.clone();
        }
        if let Some(category) = &args.category {
            spec.category = category.clone();
        }
        if let Some(description) = &args.description {
            spec.description = description.clone();
        }
        if args.no_steps || !args.steps.is_empty() {
            spec.steps = args.steps.clone();
        }
        if let Some(priority) = args.priority {
            spec.priority = priority;
        }
        // An empty value clears the override.
        let set = |new: &Option<String>, old: &mut Option<String>| {
            if let Some(v) = new {
                *old = (!v.is_empty()).then(|| v.clone());
            }
        };
        set(&args.overrides.model, &mut spec.model);
        set(&args.overrides.effort, &mut spec.effort);
        set(&args.overrides.profile, &mut spec.profile);
        let mut deps = if args.no_deps || !args.deps.is_empty() {
            args.deps.clone()
        } else {
            old.dependencies.clone()
        };
        for gone in &args.rm_deps {
            if !deps.contains(gone) {
                return Err(BacklogCommandError::Refused(format!(
                    "{} does not depend on {gone}",
                    label(id, &old.name)
                )));
            }
            deps.retain(|d| d != gone);
        }
        deps.extend(&args.add_deps);
        // A newly named profile must be one that can run the feature.
        let problems = match args.overrides.profile {
            Some(_) => profile_errors(std::slice::from_ref(&spec), &roles, |_, s| {
                Subject::Feature {
                    id,
                    name: s.name.clone(),
                }
            }),
            None => Vec::new(),
        };
        let checked = check_edit(&dependency_graph(conn)?, id, &spec.name, deps, max);
        let deps = with_problems(checked, problems)?;
        update_feature(conn, &spec, now_ms())?;
        if deps != old.dependencies {
            set_dependencies(conn, id, &deps)?;
        }
        Ok(spec.name)
    })?;
    notify(project);
    emit(&format!("updated {}", label(id, &name)))?;
    Ok(())
}

fn remove(project: &Path, id: i64, force: bool) -> Result<()> {
    let mut store = open_store(project)?;
    let (name, cut) = store.write(|conn| {
        let all = feature_records(conn)?;
        let name = |id: i64| {
            all.iter()
                .find(|f| f.id == id)
                .map(|f| f.name.clone())
                .unwrap_or_default()
        };
        if !all.iter().any(|f| f.id == id) {
            return Err(no_feature(id));
        }
        let users = dependents(conn, id)?;
        let users_text = users
            .iter()
            .map(|&u| format!("{u} ({:?})", name(u)))
            .collect::<Vec<_>>()
            .join(", ");
        if !users.is_empty() && !force {
            return Err(BacklogCommandError::Refused(format!(
                "{} is a dependency of {users_text}; remove those dependencies first \
                 (`corral feature edit ID --rm-dep {id}`) or pass --force to remove them with it",
                label(id, &name(id))
            )));
        }
        delete_feature(conn, id)?;
        Ok((name(id), users_text))
    })?;
    notify(project);
    if cut.is_empty() {
        emit(&format!("removed {}", label(id, &name)))?;
    } else {
        emit(&format!(
            "removed {} and the dependencies of {cut} on it",
            label(id, &name)
        ))?;
    }
    Ok(())
}

/// How long an agent's report is tried before the command gives up.
const REPORT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

fn mark_once(project: &Path, id: i64, run: Option<i64>, reason: Option<&str>) -> Result<String> {
    let mut store = open_store(project)?;
    let passed = reason.is_none();
    store.write(|conn| {
        let feature = feature_record(conn, id)?.ok_or_else(|| no_feature(id))?;
        let now = now_ms();
        if let Some(run) = run {
            match run_feature(conn, run)? {
                None => return Err(BacklogCommandError::Refused(format!("no run {run}"))),
                Some(Some(other)) if other != id => {
                    return Err(BacklogCommandError::Refused(format!(
                        "run {run} works on feature {other}, not on {id}"
                    )));
                }
                Some(_) => insert_report(conn, run, id, passed, reason, now)?,
            }
        }
        let status = if passed { "passing" } else { "failing" };
        set_status(conn, id, status, None, reason, now)?;
        Ok(feature.name)
    })
}

/// `pass` (no reason) or `fail` (with one). With a run, the run's report is recorded too.
/// A report that cannot be written at once (the database busy or out of space, corral short
/// of file descriptors) is tried again for a while: an agent's report is never lost quietly.
/// The reason is redacted before it is stored or printed, like the agent's output.
fn mark(project: &Path, id: i64, run: Option<i64>, reason: Option<&str>) -> Result<()> {
    let redacted = reason.map(|r| super::backlog::redactor(project).redact(r).into_owned());
    let reason = redacted.as_deref();
    let deadline = std::time::Instant::now() + REPORT_PATIENCE;
    let mut said = false;
    let name = loop {
        match mark_once(project, id, run, reason) {
            Err(e @ (BacklogCommandError::Store(_) | BacklogCommandError::Sql(_)))
                if run.is_some() && std::time::Instant::now() < deadline =>
            {
                if !said {
                    eprintln!("corral: recording the report failed ({e}); trying again");
                    said = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            other => break other?,
        }
    };
    notify(project);
    let by = run
        .map(|r| format!(" (reported by run {r})"))
        .unwrap_or_default();
    match reason {
        None => emit(&format!("{} passing{by}", label(id, &name)))?,
        Some(reason) => emit(&format!("{} failing{by}: {reason:?}", label(id, &name)))?,
    }
    Ok(())
}

/// `requeue`: the core's `RequeueFeature` (pending, attempts 0, a waiting job that carries
/// the old attempts cancelled), by the running corral when one runs, else on the store.
pub(super) fn requeue(project: &Path, id: i64) -> Result<()> {
    use crate::runtime::lock;
    let mut store = open_store(project)?;
    let name = feature_record(store.connection(), id)?
        .ok_or_else(|| no_feature(id))?
        .name;
    let command = crate::api::Command::RequeueFeature {
        feature: crate::api::FeatureId(id),
    };
    match lock::acquire(project) {
        Ok(_lock) => {
            crate::runtime::stored::apply(&mut store, command, now_ms())?;
        }
        Err(lock::LockError::Held { holder, .. }) => {
            match super::daemon::ask_command(project, command) {
                Ok(super::daemon::Asked::Done { .. }) => {}
                Ok(super::daemon::Asked::NoDaemon) => {
                    return Err(BacklogCommandError::Refused(format!(
                        "a corral (pid {holder}) runs this project but does not answer on its \
                         socket (starting or stopping?); nothing changed, try again in a moment"
                    )));
                }
                Err(reason) => return Err(BacklogCommandError::Refused(reason)),
            }
        }
        Err(e) => return Err(BacklogCommandError::Refused(e.to_string())),
    }
    let now = super::feature_view::describe_status(&store.feature_records()?, id);
    emit(&format!("{} requeued: {now}, attempts 0", label(id, &name)))?;
    Ok(())
}
