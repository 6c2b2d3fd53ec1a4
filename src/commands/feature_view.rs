//! `corral feature list` and `corral feature show`: tables and details for people, JSON with
//! every field for programs.

use super::backlog::{Result, emit, emit_json, no_feature, printable, table};
use crate::api::{FeatureStatus, Usage};
use crate::runtime::store::backlog::{
    ReportRecord, dependents, feature_record, neighbours, reports_for,
};
use crate::runtime::store::{FeatureRecord, parse_feature_status};
use crate::ui::render::format_spent;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A feature's status as shown (a stored `pending` is `ready` or `blocked`) and the
/// dependencies that are not passing yet (`passing` says which ids pass; a missing one does not).
fn effective(f: &FeatureRecord, passing: impl Fn(i64) -> bool) -> (FeatureStatus, Vec<i64>) {
    shown_status(&f.status, &f.dependencies, passing)
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
    (status_word(stored, !blocked_by.is_empty()), blocked_by)
}

/// A stored status as shown: `pending` is `ready`, or `blocked` when it `waits`.
fn status_word(stored: &str, waits: bool) -> FeatureStatus {
    match parse_feature_status(stored) {
        FeatureStatus::Pending if waits => FeatureStatus::Blocked,
        FeatureStatus::Pending => FeatureStatus::Ready,
        other => other,
    }
}

/// How feature `id` shows now, for a command's confirmation (`ready`, or `blocked by 3, 4`).
pub(super) fn describe_status(records: &[FeatureRecord], id: i64) -> String {
    let by_id: HashMap<i64, &FeatureRecord> = records.iter().map(|f| (f.id, f)).collect();
    let Some(f) = by_id.get(&id) else {
        return "gone".into();
    };
    match effective(f, |d| {
        by_id.get(&d).is_some_and(|dep| dep.status == "passing")
    }) {
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
    status: FeatureStatus,
    blocked_by: &[i64],
    dependents: &[i64],
) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    v["status"] = json!(status.as_str());
    v["blocked_by"] = json!(blocked_by);
    v["dependents"] = json!(dependents);
    v
}

/// What [`to_json`] makes of a feature, serialized straight from the record: the same keys in
/// the same (sorted) order, without a `Value` tree per feature on a big backlog.
#[derive(Serialize)]
struct ListRow<'a> {
    attempts: i64,
    blocked_by: &'a [i64],
    category: &'a str,
    created_at: i64,
    dependencies: &'a [i64],
    dependents: &'a [i64],
    description: &'a str,
    effort: &'a Option<String>,
    id: i64,
    last_error: &'a Option<String>,
    last_tested_at: Option<i64>,
    model: &'a Option<String>,
    name: &'a str,
    passed_at: Option<i64>,
    priority: i64,
    profile: &'a Option<String>,
    status: &'static str,
    steps: &'a [String],
    updated_at: i64,
}

impl<'a> ListRow<'a> {
    fn new(
        f: &'a FeatureRecord,
        status: FeatureStatus,
        blocked_by: &'a [i64],
        dependents: &'a [i64],
    ) -> Self {
        ListRow {
            attempts: f.attempts,
            blocked_by,
            category: &f.category,
            created_at: f.created_at,
            dependencies: &f.dependencies,
            dependents,
            description: &f.description,
            effort: &f.effort,
            id: f.id,
            last_error: &f.last_error,
            last_tested_at: f.last_tested_at,
            model: &f.model,
            name: &f.name,
            passed_at: f.passed_at,
            priority: f.priority,
            profile: &f.profile,
            status: status.as_str(),
            steps: &f.steps,
            updated_at: f.updated_at,
        }
    }
}

fn ids(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "-".into();
    }
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `feature list [--status S] [--json]`. Linear in features plus dependencies.
/// While a corral runs the project, each feature's status is the one its core holds (in
/// progress is known only to it); the rest is read from the database, read-only.
pub fn list(project: &Path, filter: Option<&str>, as_json: bool) -> Result<()> {
    let all = super::live::read_store(project)?.feature_records()?;
    let live = super::live::ask(project);
    let said: HashMap<i64, &crate::api::FeatureView> = live
        .iter()
        .flat_map(|l| &l.snapshot.features)
        .map(|f| (f.id.0, f))
        .collect();
    let passing: HashSet<i64> = all
        .iter()
        .filter(|f| f.status == "passing")
        .map(|f| f.id)
        .collect();
    let shown: Vec<(&FeatureRecord, FeatureStatus, Vec<i64>)> = all
        .iter()
        .map(|f| match said.get(&f.id) {
            Some(v) => (f, v.status, v.blocked_by.iter().map(|d| d.0).collect()),
            None => {
                let (status, blocked_by) = effective(f, |d| passing.contains(&d));
                (f, status, blocked_by)
            }
        })
        .filter(|(_, s, _)| filter.is_none_or(|w| matches(*s, w)))
        .collect();
    if as_json {
        // Dependents of every feature at once: one pass over the edges, ascending by id.
        let mut dependents: HashMap<i64, Vec<i64>> = HashMap::new();
        for f in &all {
            for &d in &f.dependencies {
                dependents.entry(d).or_default().push(f.id);
            }
        }
        let rows: Vec<ListRow> = shown
            .iter()
            .map(|(f, status, blocked_by)| {
                let users = dependents.get(&f.id).map_or(&[][..], Vec::as_slice);
                ListRow::new(f, *status, blocked_by, users)
            })
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
        .chain(shown.iter().map(|(f, s, _)| {
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

/// `feature show ID [--json]`: reads only the feature and the ones it names, so it takes
/// the same time on any backlog.
pub fn show(project: &Path, id: i64, as_json: bool) -> Result<()> {
    let store = super::live::read_store(project)?;
    let conn = store.connection();
    let f = feature_record(conn, id)?.ok_or_else(|| no_feature(id))?;
    let dependents = dependents(conn, id)?;
    let named_ids: Vec<i64> = f.dependencies.iter().chain(&dependents).copied().collect();
    let near = neighbours(conn, &named_ids)?;
    let (status, blocked_by) =
        effective(&f, |d| near.get(&d).is_some_and(|n| n.status == "passing"));
    let reports = reports_for(conn, id)?;
    // What the feature's runs spent (tokens and cost), all zero when none said.
    let usage: Usage = store
        .usage_by(Some("feature_id"))?
        .into_iter()
        .find_map(|(f, u)| (f == id).then_some(u))
        .unwrap_or_default();
    if as_json {
        let mut v = to_json(&f, status, &blocked_by, &dependents);
        v["reports"] = json!(reports);
        v["usage"] = json!(usage);
        v["worktree"] = json!(store.worktree(id)?);
        return emit_json(&v);
    }
    let named = |ids: &[i64]| -> String {
        if ids.is_empty() {
            return "-".into();
        }
        ids.iter()
            .map(|d| match near.get(d) {
                Some(n) => format!(
                    "{d} ({:?}, {})",
                    n.name,
                    status_word(&n.status, n.waits).as_str()
                ),
                None => format!("{d} (missing)"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_row_is_what_show_prints_without_reports() {
        let f = FeatureRecord {
            id: 7,
            name: "Cart \"totals\"".into(),
            category: "Cart".into(),
            description: "Sum".into(),
            steps: vec!["one".into(), "two".into()],
            priority: 2,
            dependencies: vec![3, 4],
            status: "pending".into(),
            attempts: 1,
            last_error: Some("exit 1".into()),
            model: Some("opus".into()),
            effort: None,
            profile: Some("careful".into()),
            created_at: 10,
            updated_at: 20,
            passed_at: None,
            last_tested_at: Some(30),
        };
        let (status, blocked_by) = effective(&f, |d| d == 3);
        assert_eq!(
            (status, blocked_by.clone()),
            (FeatureStatus::Blocked, vec![4])
        );
        let row = ListRow::new(&f, status, &blocked_by, &[9, 12]);
        let as_value = serde_json::to_value(&row).unwrap();
        assert_eq!(as_value, to_json(&f, status, &blocked_by, &[9, 12]));
        // Sorted keys, as a `Value` prints them.
        let text = serde_json::to_string(&row).unwrap();
        assert_eq!(text, serde_json::to_string(&as_value).unwrap());
    }
}
