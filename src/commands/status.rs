//! `corral status`: the project's state read straight from the database.

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

/// Features, jobs (as [`JobView`](crate::api::JobView)s, like `job list --json`) and runs
/// as one JSON value.
pub fn status_json(project: &Path) -> Result<Value, StatusError> {
    let db = state_dir(project).join("corral.db");
    if !db.exists() {
        return Err(StatusError::NoState(project.display().to_string()));
    }
    let store = Store::open_path(&db)?;
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
    for f in &mut features {
        let passing = |d| stored.get(&d).is_some_and(|s| s == "passing");
        let (shown, blocked_by) =
            super::feature_view::shown_status(&f.status, &f.dependencies, passing);
        f.status = shown.as_str().into();
        f.blocked_by = blocked_by;
    }
    // Every job, by id, in the shape `job list --json` prints.
    let jobs = super::job_view::views(&store, &store.jobs_with_ended(None)?)?;
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
    // The budget is config, not state: a project whose corral.toml does not load has none here.
    let config = crate::config::Config::load(project).ok();
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
        "breakers": breakers,
        "protocol_version": crate::api::PROTOCOL_VERSION,
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
pub fn print_status(project: &Path, as_json: bool) -> Result<(), StatusError> {
    let v = status_json(project)?;
    if as_json {
        return Ok(super::output::print_json(&v)?);
    }
    let mut out: Vec<String> = Vec::new();
    summarise(project, &v, &mut out);
    Ok(super::output::print_text(&out.join("\n"))?)
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
