//! `corral feature list` and `corral feature show`: tables and details for people, JSON with
//! every field for programs.

use super::backlog::{Result, emit, emit_json, no_feature, open_store, printable, table};
use crate::api::{FeatureStatus, Usage};
use crate::runtime::store::backlog::{ReportRecord, reports_for};
use crate::runtime::store::{FeatureRecord, parse_feature_status};
use crate::ui::render::format_spent;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

/// A feature's status as shown (a stored `pending` is `ready` or `blocked`) and the
/// dependencies that are not passing yet.
fn effective(f: &FeatureRecord, by_id: &HashMap<i64, &FeatureRecord>) -> (FeatureStatus, Vec<i64>) {
    shown_status(&f.status, &f.dependencies, |d| {
        by_id.get(&d).is_some_and(|dep| dep.status == "passing")
    })
}

/// The one place a stored status becomes the word every command prints: `pending` is shown
/// as `ready` when every dependency passes (`passing(id)`), else `blocked`, with the
/// dependencies that do not pass yet.
pub(super) fn shown_status(
    stored: &str,
    dependencies: &[i64],
    passing: impl Fn(i64) -> bool,
) -> (FeatureStatus, Vec<i64>) {
    let blocked_by: Vec<i64> = dependencies
        .iter()
        .copied()
        .filter(|&d| !passing(d))
        .collect();
    let status = match parse_feature_status(stored) {
        FeatureStatus::Pending if blocked_by.is_empty() => FeatureStatus::Ready,
        FeatureStatus::Pending => FeatureStatus::Blocked,
        other => other,
    };
    (status, blocked_by)
}

/// How feature `id` shows now, for a command's confirmation (`ready`, or `blocked by 3, 4`).
pub(super) fn describe_status(records: &[FeatureRecord], id: i64) -> String {
    let by_id: HashMap<i64, &FeatureRecord> = records.iter().map(|f| (f.id, f)).collect();
    let Some(f) = by_id.get(&id) else {
        return "gone".into();
    };
    match effective(f, &by_id) {
        (FeatureStatus::Blocked, by) => format!("blocked by {}", ids(&by).replace(',', ", ")),
        (status, _) => status.as_str().replace('_', " "),
    }
}

fn matches(status: FeatureStatus, filter: &str) -> bool {
    status.as_str() == filter
        || (filter == "pending" && matches!(status, FeatureStatus::Ready | FeatureStatus::Blocked))
}

/// Every stored field, with `status` as shown, `blocked_by` and `dependents` added.
fn to_json(
    f: &FeatureRecord,
    all: &[FeatureRecord],
    by_id: &HashMap<i64, &FeatureRecord>,
) -> Value {
    let (status, blocked_by) = effective(f, by_id);
    let dependents: Vec<i64> = all
        .iter()
        .filter(|o| o.dependencies.contains(&f.id))
        .map(|o| o.id)
        .collect();
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    v["status"] = json!(status.as_str());
    v["blocked_by"] = json!(blocked_by);
    v["dependents"] = json!(dependents);
    v
}

fn ids(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `feature list [--status S] [--json]`.
pub fn list(project: &Path, filter: Option<&str>, as_json: bool) -> Result<()> {
    let all = open_store(project)?.feature_records()?;
    let by_id: HashMap<i64, &FeatureRecord> = all.iter().map(|f| (f.id, f)).collect();
    let shown: Vec<(&FeatureRecord, FeatureStatus)> = all
        .iter()
        .map(|f| (f, effective(f, &by_id).0))
        .filter(|(_, s)| filter.is_none_or(|w| matches(*s, w)))
        .collect();
    if as_json {
        let rows: Vec<Value> = shown
            .iter()
            .map(|(f, _)| to_json(f, &all, &by_id))
            .collect();
        return emit_json(&rows);
    }
    if shown.is_empty() {
        return emit(&match filter {
            Some(w) => format!("no {w} features"),
            None => "no features yet: add some with `corral feature add` or `corral import FILE`"
                .to_string(),
        });
    }
    let header = ["ID", "STATUS", "CATEGORY", "NAME", "DEPS", "ATTEMPTS"].map(String::from);
    let rows: Vec<Vec<String>> = std::iter::once(header.to_vec())
        .chain(shown.iter().map(|(f, s)| {
            vec![
                f.id.to_string(),
                s.as_str().to_string(),
                printable(&f.category, false),
                printable(&f.name, false),
                ids(&f.dependencies),
                f.attempts.to_string(),
            ]
        }))
        .collect();
    emit(&table(&rows))
}

fn time(ms: i64) -> String {
    jiff::Timestamp::from_second(ms.div_euclid(1000))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// `feature show ID [--json]`.
pub fn show(project: &Path, id: i64, as_json: bool) -> Result<()> {
    let store = open_store(project)?;
    let all = store.feature_records()?;
    let by_id: HashMap<i64, &FeatureRecord> = all.iter().map(|f| (f.id, f)).collect();
    let f = *by_id.get(&id).ok_or_else(|| no_feature(id))?;
    let reports = reports_for(store.connection(), id)?;
    // What the feature's runs spent (tokens and cost), all zero when none said.
    let usage: Usage = store
        .usage_by(Some("feature_id"))?
        .into_iter()
        .find_map(|(f, u)| (f == id).then_some(u))
        .unwrap_or_default();
    if as_json {
        let mut v = to_json(f, &all, &by_id);
        v["reports"] = json!(reports);
        v["usage"] = json!(usage);
        v["worktree"] = json!(store.worktree(id)?);
        return emit_json(&v);
    }
    let (status, blocked_by) = effective(f, &by_id);
    let named = |ids: &[i64]| -> String {
        if ids.is_empty() {
            return "-".into();
        }
        ids.iter()
            .map(|d| match by_id.get(d) {
                Some(dep) => format!(
                    "{d} ({:?}, {})",
                    dep.name,
                    effective(dep, &by_id).0.as_str()
                ),
                None => format!("{d} (missing)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let dependents: Vec<i64> = all
        .iter()
        .filter(|o| o.dependencies.contains(&id))
        .map(|o| o.id)
        .collect();
    let mut out: Vec<String> = Vec::new();
    out.push(format!("feature {id}: {}", printable(&f.name, false)));
    let waiting = if status == FeatureStatus::Blocked {
        format!(" (waiting for {})", ids(&blocked_by))
    } else {
        String::new()
    };
    out.push(format!("status:       {}{waiting}", status.as_str()));
    out.push(format!("category:     {}", printable(&f.category, false)));
    out.push(format!("priority:     {}", f.priority));
    out.push(format!("attempts:     {}", f.attempts));
    if !usage.is_empty() {
        out.push(format!("spent:        {}", format_spent(&usage, "·")));
    }
    if let Some(w) = store.worktree(id)? {
        out.push(format!("branch:       {} (worktree {})", w.branch, w.path));
        let merge = match (w.merge_state.as_str(), w.merge_note.as_str()) {
            ("", _) => "not yet (it merges when it passes)".to_string(),
            (s, "") => s.to_string(),
            (s, n) => format!("{s}: {}", printable(n, false)),
        };
        out.push(format!("merge:        {merge}"));
    }
    out.push(format!("depends on:   {}", named(&f.dependencies)));
    out.push(format!("needed by:    {}", named(&dependents)));
    for (key, value) in [
        ("model", &f.model),
        ("effort", &f.effort),
        ("profile", &f.profile),
    ] {
        if let Some(value) = value {
            out.push(format!(
                "{:<13} {}",
                format!("{key}:"),
                printable(value, false)
            ));
        }
    }
    if let Some(e) = &f.last_error {
        out.push(format!("last error:   {}", printable(e, false)));
    }
    out.push(format!("created:      {}", time(f.created_at)));
    out.push(format!("updated:      {}", time(f.updated_at)));
    if let Some(at) = f.passed_at {
        out.push(format!("passed:       {}", time(at)));
    }
    if !f.description.is_empty() {
        out.push("description:".into());
        for line in printable(&f.description, true).lines() {
            out.push(format!("  {line}"));
        }
    }
    if !f.steps.is_empty() {
        out.push("steps:".into());
        for (n, step) in f.steps.iter().enumerate() {
            out.push(format!("  {}. {}", n + 1, printable(step, false)));
        }
    }
    print_reports(&mut out, &reports);
    emit(&out.join("\n"))
}

fn print_reports(out: &mut Vec<String>, reports: &[ReportRecord]) {
    if reports.is_empty() {
        return;
    }
    out.push("reports:".into());
    for r in reports {
        let word = if r.passed { "passed" } else { "failed" };
        let run = r.run_id.map(|r| format!("run {r} ")).unwrap_or_default();
        let reason = r
            .reason
            .as_deref()
            .map(|x| format!(": {}", printable(x, false)))
            .unwrap_or_default();
        out.push(format!("  {}  {run}{word}{reason}", time(r.at)));
    }
}
