//! Everything a run needs before its process starts: the rendered prompt file, the model and
//! effort it will use, its environment, and its argv expanded from the profile's template.

use super::store::Store;
use super::{env_file, prompt};
use crate::api::{FeatureId, Role, RunId};
use crate::config::{Config, Profile};
use crate::core::Feature;
use crate::core::model_choice::{Levels, resolve_effort, resolve_model};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A run ready to be spawned.
pub struct Prepared {
    pub argv: Vec<String>,
    pub verify: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub model: Option<String>,
    pub effort: Option<String>,
    /// The rendered prompt (sent on stdin as a user message under `stdin = "stream-json"`).
    pub prompt: String,
    /// Things a person should know (a model value skipped, say), to log and to note in the run's log.
    pub warnings: Vec<String>,
}

/// What the runtime knows that a run's setup reads.
pub struct Context<'a> {
    pub project: &'a Path,
    pub config: &'a Config,
    pub store: &'a Store,
    pub features: &'a std::collections::BTreeMap<FeatureId, Feature>,
    /// The git worktree the run works in and its branch, if it has one: the prompt and
    /// `{project}` name it instead of the main checkout.
    pub worktree: Option<(&'a Path, &'a str)>,
    /// `CORRAL_MODEL` / `CORRAL_EFFORT` as corral itself was started with.
    pub env_model: Option<String>,
    pub env_effort: Option<String>,
}

/// Why a run could not be set up: the text names the file; `own` when it is corral's own lack
/// of something (storage, descriptors, memory) rather than anything wrong with the setup.
#[derive(Debug)]
pub struct SetupError {
    pub text: String,
    pub own: bool,
}

impl From<String> for SetupError {
    fn from(text: String) -> Self {
        SetupError { text, own: false }
    }
}

/// A store error: always corral's own trouble.
fn store_err(e: super::store::StoreError) -> SetupError {
    SetupError {
        text: e.to_string(),
        own: true,
    }
}

/// An error whose cause is an I/O error of corral's own (see `spawner::own_trouble`).
fn io_err(text: String, e: &(dyn std::error::Error + 'static)) -> SetupError {
    let mut cause = Some(e);
    let mut own = false;
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            own |= super::spawner::own_trouble(io);
        }
        cause = c.source();
    }
    SetupError { text, own }
}

/// Builds the run. Errors (an unreadable prompt template or env file) name the file and stop
/// the start: a run with half its setup would do the wrong work.
pub fn prepare(
    cx: &Context,
    profile: &Profile,
    role: Role,
    feature: Option<FeatureId>,
    run: RunId,
) -> Result<Prepared, SetupError> {
    let f = feature.and_then(|id| cx.features.get(&id));
    let (description, steps) = match feature {
        Some(id) => cx
            .store
            .feature_text(id)
            .map_err(store_err)?
            .unwrap_or_default(),
        None => (String::new(), Vec::new()),
    };
    let deps: Vec<(i64, String)> = f.map_or(Vec::new(), |f| {
        f.dependencies
            .iter()
            .map(|d| {
                (
                    d.0,
                    cx.features.get(d).map_or(String::new(), |x| x.name.clone()),
                )
            })
            .collect()
    });
    let project_s = cx.project.to_string_lossy().into_owned();
    // Where the agent works: its worktree when it has one, never the main checkout then.
    let work_s = cx.worktree.map_or_else(
        || project_s.clone(),
        |(p, _)| p.to_string_lossy().into_owned(),
    );
    let name = f.map_or("", |f| f.name.as_str());
    let template = prompt::template_for(role.as_str(), cx.project, profile.prompt.as_deref())
        .map_err(|e| io_err(e.to_string(), &e))?;
    let text = prompt::render(
        &template,
        &prompt::PromptFields {
            project: &work_s,
            run_id: run.0,
            feature_id: feature.map(|f| f.0),
            name,
            category: f.map_or("", |f| f.category.as_str()),
            description: &description,
            steps: &steps,
            dependencies: &deps,
        },
    );
    let text = match cx.worktree {
        Some((path, branch)) => {
            text + &crate::core::worktree::worktree_prompt(
                &path.to_string_lossy(),
                branch,
                &project_s,
            )
        }
        None => text,
    };
    // A branch that no longer merges: the prompt says where it conflicts.
    let text = match feature.map(|id| cx.store.worktree(id.0)) {
        Some(Ok(Some(w))) if role == Role::Coding && w.merge_state == "conflict" => {
            let files: Vec<String> = w.merge_note.split(", ").map(String::from).collect();
            text + &crate::core::worktree::conflict_prompt(&w.base, &files)
        }
        Some(Ok(Some(w))) if role == Role::Coding && w.merge_state == "rejected" => {
            text + &crate::core::worktree::rejection_prompt(&w.merge_note)
        }
        _ => text,
    };
    let prompt_dir = super::store::state_dir(cx.project).join("prompts");
    let prompt_file: PathBuf = prompt::write_prompt_file(&prompt_dir, run.0, &text)
        .map_err(|e| io_err(format!("{}: {e}", prompt_dir.display()), &e))?;

    let (feature_model, feature_effort) = match feature {
        Some(id) => cx.store.feature_overrides(id).map_err(store_err)?,
        None => (None, None),
    };
    let label = feature.map_or("-".to_string(), |f| f.to_string());
    let (model, mut warnings) = resolve_model(
        &Levels {
            feature: feature_model.as_deref(),
            profile: profile.model.as_deref(),
            defaults: cx.config.defaults.model.as_deref(),
            env: cx.env_model.as_deref(),
        },
        &label,
        &profile.name,
    );
    let (effort, more) = resolve_effort(
        &Levels {
            feature: feature_effort.as_deref(),
            profile: profile.effort.as_deref(),
            defaults: cx.config.defaults.effort.as_deref(),
            env: cx.env_effort.as_deref(),
        },
        profile.efforts.as_deref(),
        &label,
        &profile.name,
    );
    warnings.extend(more);

    // The env file lies under `env`: what corral.toml says wins.
    let mut env = match &profile.env_file {
        Some(rel) => {
            env_file::read_env_file(cx.project, rel).map_err(|e| io_err(e.to_string(), &e))?
        }
        None => BTreeMap::new(),
    };
    env.extend(profile.env.clone());
    let feature_s = feature.map(|f| f.to_string());
    let run_s = run.to_string();
    let db = super::store::state_dir(cx.project).join("corral.db");
    env.insert("CORRAL_PROJECT".into(), project_s.clone());
    env.insert("CORRAL_DB".into(), db.to_string_lossy().into_owned());
    env.insert("CORRAL_RUN_ID".into(), run_s.clone());
    env.insert(
        "CORRAL_FEATURE_ID".into(),
        feature_s.clone().unwrap_or_default(),
    );
    env.insert("CORRAL_ROLE".into(), role.to_string());
    env.insert(
        "CORRAL_PROMPT_FILE".into(),
        prompt_file.to_string_lossy().into_owned(),
    );

    // The session the last run of this feature with this profile had, to resume it.
    let session = match feature {
        Some(id) => cx
            .store
            .latest_session(id, &profile.name)
            .map_err(store_err)?,
        None => None,
    };
    let values: HashMap<&str, Option<String>> = HashMap::from([
        ("session_id", session),
        ("prompt", Some(text.clone())),
        (
            "prompt_file",
            Some(prompt_file.to_string_lossy().into_owned()),
        ),
        ("model", model.clone()),
        ("effort", effort.clone()),
        ("feature_id", feature_s),
        ("feature_name", f.map(|f| f.name.clone())),
        ("project", Some(work_s)),
        ("run_id", Some(run_s)),
    ]);
    let lookup = |name: &str| values.get(name).cloned().flatten();
    let argv = crate::core::argv::expand(&profile.command, &lookup);
    let verify = profile
        .verify
        .as_ref()
        .map(|v| crate::core::argv::expand(v, &lookup));
    Ok(Prepared {
        argv,
        verify,
        env,
        model,
        effort,
        prompt: text,
        warnings,
    })
}
