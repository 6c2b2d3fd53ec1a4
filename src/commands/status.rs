//! `corral status`: the project's state: the database read-only, with what the running
//! corral (if one runs) says of its live state on top (statuses, the queue in its order, its
//! scheduler).

use crate::runtime::store::{Store, StoreError, StoredRun, state_dir};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("no corral state in {0}: run `corral init` (or `corral demo`) first")]
    NoState(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Query(#[from] rusqlite::Error),
    #[error("writing to stdout: {0}")]
    Stdout(#[from] std::io::Error),
    /// corral.toml does not load: the status was printed from the database alone.
    #[error(
        "{0}\n(the status above is the database's alone: no budget and no profile warnings \
         until corral.toml loads)"
    )]
    Config(crate::config::ConfigError),
    #[error("{0}")]
    Jobs(String),
}

#[derive(Serialize)]
struct FeatureRow {
    id: i64,
    category: String,
    name: String,
    description: String,
    steps: Value,
    priority: i64,
    dependencies: Vec<i64>,
    /// As shown: `ready` or `blocked` for a pending feature.
    status: String,
    /// The dependencies not passing yet.
    blocked_by: Vec<i64>,
    attempts: i64,
    last_error: Option<String>,
}

/// Features, jobs (as [`JobView`](crate::api::JobView)s, like `job list --json`, in the
/// same order), runs and the scheduler as one JSON value.
pub fn status_json(project: &Path) -> Result<Value, StatusError> {
    let db = state_dir(project).join("corral.db");
    if !db.exists() {
        return Err(StatusError::NoState(project.display().to_string()));
    }
    let store = Store::open_read_only(&db)?;
    let live = super::live::ask(project);
    let conn = store.connection();
    // Every edge in one read, not one query per feature.
    let mut deps = crate::runtime::store::backlog::dependency_graph(conn)?;
    let mut stmt = conn.prepare(
        "SELECT id, category, name, description, steps, priority, status, attempts, last_error FROM features ORDER BY id",
    )?;
    let mut features = Vec::new();
    let rows = stmt.query_map([], |r| {
        Ok(FeatureRow {
            id: r.get(0)?,
            category: r.get(1)?,
            name: r.get(2)?,
            description: r.get(3)?,
            steps: serde_json::from_str(&r.get::<_, String>(4)?).unwrap_or(Value::Null),
            priority: r.get(5)?,
            dependencies: Vec::new(),
            status: r.get(6)?,
            blocked_by: Vec::new(),
            attempts: r.get(7)?,
            last_error: r.get(8)?,
        })
    })?;
    for row in rows {
        let mut f = row?;
        f.dependencies = deps.remove(&f.id).unwrap_or_default();
        features.push(f);
    }
    // Shown as `feature list` and `feature show` show it: `ready` or `blocked`, never `pending`.
    let stored: std::collections::HashMap<i64, String> =
        features.iter().map(|f| (f.id, f.status.clone())).collect();
    // The running corral's word on each feature where it has one (in progress is known
    // only to it).
    let said: std::collections::HashMap<i64, &crate::api::FeatureView> = live
        .iter()
        .flat_map(|l| &l.snapshot.features)
        .map(|f| (f.id.0, f))
        .collect();
    for f in &mut features {
        if let Some(view) = said.get(&f.id) {
            f.status = view.status.as_str().into();
            f.blocked_by = view.blocked_by.iter().map(|d| d.0).collect();
            continue;
        }
        let passing = |d| stored.get(&d).is_some_and(|s| s == "passing");
        let (shown, blocked_by) =
            super::feature_view::shown_status(&f.status, &f.dependencies, passing);
        f.status = shown.as_str().into();
        f.blocked_by = blocked_by;
    }
    // Every job in the shape and the order `job list --json` prints.
    let jobs = super::job_view::ordered(&store, live.as_ref(), None)
        .map_err(|e| StatusError::Jobs(e.to_string()))?;
    let mut runs: Vec<StoredRun> = store.runs(false)?;
    runs.reverse();
    let usage = store
        .usage_by(None)?
        .pop()
        .map(|(_, u)| u)
        .unwrap_or_default();
    let breakers: Vec<Value> = store
        .load_breakers()?
        .iter()
        .map(|(account, saved)| super::breaker::breaker_json(&saved.state.view(account)))
        .collect();
    // The budget is config, not state: a project whose corral.toml does not load has none
    // here, and says why (a project with no corral.toml at all is no error).
    let loaded = crate::config::Config::load(project);
    let config_error = match &loaded {
        Ok(_) | Err(crate::config::ConfigError::Missing { .. }) => None,
        Err(e) => Some(e.to_string()),
    };
    let config = loaded.ok();
    let budget = config.as_ref().and_then(|c| c.budget.usd_micros);
    // What a run would start with: the profile each role uses, programs not installed.
    let warnings = config.as_ref().map_or_else(Vec::new, |c| {
        crate::config::start_report(c, project, std::env::var_os("PATH").as_deref())
    });
    Ok(json!({
        "scheduler_paused": paused_by_daemon(project),
        "usage": usage,
        "budget_micros": budget,
        "warnings": warnings,
        "config_error": config_error,
        "breakers": breakers,
        "protocol_version": crate::api::PROTOCOL_VERSION,
        "scheduler": super::live::scheduler_json(live.as_ref()),
        "project": project.display().to_string(),
        "features": features,
        "jobs": jobs,
        "runs": runs,
    }))
}

/// Why the running daemon's scheduler waits paused after a crash, if it does (`None` also
/// when no daemon answers).
fn paused_by_daemon(project: &Path) -> Option<String> {
    use crate::api::{Outcome, Request, View};
    crate::runtime::daemon::running(project)?;
    let mut client = crate::runtime::daemon::Client::connect(project).ok()?;
    match client.request(Request::Status).ok()? {
        Outcome::Done {
            view: Some(View::Daemon { daemon }),
        } => daemon.paused,
        _ => None,
    }
}

/// Prints the status as JSON or as a short text summary; every name and error is escaped
/// (see [`super::output`]).
///
/// A corral.toml that does not load does not hide the state: it is printed, then the error
/// (file, line, what is wrong) is the command's error, so the exit code is not 0.
pub fn print_status(project: &Path, as_json: bool) -> Result<(), StatusError> {
    let v = status_json(project)?;
    if as_json {
        super::output::print_json(&v)?;
    } else {
        let mut out: Vec<String> = Vec::new();
        summarise(project, &v, &mut out);
        super::output::print_text(&out.join("\n"))?;
    }
    match crate::config::Config::load(project) {
        Ok(_) | Err(crate::config::ConfigError::Missing { .. }) => Ok(()),
        Err(e) => Err(StatusError::Config(e)),
    }
}

/// The text form of [`status_json`], one line per entry of `out`.
fn summarise(project: &Path, v: &Value, out: &mut Vec<String>) {
    let shown = |text: &str| crate::core::printable::printable(text, false).into_owned();
    let empty = Vec::new();
    let features = v["features"].as_array().unwrap_or(&empty);
    let passing = features.iter().filter(|f| f["status"] == "passing").count();
    out.push(format!(
        "{}: {passing}/{} features passing",
        shown(&project.display().to_string()),
        features.len()
    ));
    if let Some(why) = v["scheduler_paused"].as_str() {
        out.push(format!(
            "scheduler paused: {}; space in the dashboard or `corral scheduler resume` goes on",
            shown(why)
        ));
    }
    for w in v["warnings"].as_array().unwrap_or(&empty) {
        out.push(format!("warning: {}", shown(w.as_str().unwrap_or(""))));
    }
    for f in features {
        out.push(format!(
            "  {:>4}  {:<12} {:<28} {}",
            f["id"].as_i64().unwrap_or_default(),
            shown(f["status"].as_str().unwrap_or("")),
            shown(f["name"].as_str().unwrap_or("")),
            shown(f["last_error"].as_str().unwrap_or(""))
        ));
    }
    let runs = v["runs"].as_array().unwrap_or(&empty);
    let live = runs
        .iter()
        .filter(|r| {
            matches!(
                r["status"].as_str(),
                Some("running" | "paused" | "stopping")
            )
        })
        .count();
    out.push(format!("{} runs, {live} recorded live", runs.len()));
    let jobs = v["jobs"].as_array().unwrap_or(&empty);
    let count = |state: &str| jobs.iter().filter(|j| j["state"] == state).count();
    out.push(format!(
        "jobs: {} queued, {} running, {} in backoff, {} failed",
        count("queued"),
        count("running"),
        count("backoff"),
        count("failed")
    ));
    out.push(scheduler_text(&v["scheduler"]));
    let breakers = v["breakers"].as_array().unwrap_or(&empty);
    let now = crate::runtime::now_ms();
    for b in breakers.iter().filter(|b| b["state"] != "closed") {
        // The JSON carries every field of the view but the login hint, which stays None.
        if let Ok(view) = serde_json::from_value::<crate::api::BreakerView>(b.clone()) {
            out.push(format!("breaker {}", super::breaker::describe(&view, now)));
        }
    }
    if let Ok(usage) = serde_json::from_value::<crate::api::Usage>(v["usage"].clone())
        && !usage.is_empty()
    {
        let cost = usage
            .cost_micros
            .map_or("no cost reported".into(), crate::api::Usage::format_usd);
        let budget = v["budget_micros"].as_u64().map_or(String::new(), |b| {
            let spent = usage.cost_micros.unwrap_or(0) >= b;
            let word = if spent {
                ", spent: the scheduler pauses"
            } else {
                ""
            };
            format!(" of {} budget{word}", crate::api::Usage::format_usd(b))
        });
        out.push(format!(
            "spent {cost}{budget}: {} tokens ({} in, {} out, {} cached)",
            usage.total_tokens(),
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_tokens + usage.cache_write_tokens
        ));
    }
}

/// The scheduler line of the text form, from the `scheduler` value of [`status_json`].
fn scheduler_text(s: &Value) -> String {
    let shown = |text: &str| crate::core::printable::printable(text, false).into_owned();
    let Some(pid) = s["daemon"].as_u64() else {
        return "scheduler: no corral runs this project (`corral` or `corral run --headless` \
                starts one)"
            .into();
    };
    match (s["held"].as_str(), s["paused"].as_bool()) {
        (Some(why), _) => format!("scheduler: held by corral (pid {pid}): {}", shown(why)),
        (None, Some(true)) => {
            format!("scheduler: paused (corral pid {pid}); `corral scheduler resume` goes on")
        }
        _ => format!("scheduler: running (corral pid {pid})"),
    }
}
