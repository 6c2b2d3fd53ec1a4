//! `corral job list`: the queue as stored, as a table for people or JSON for programs, and
//! the words the job commands share.

use super::backlog::{Result, emit, emit_json, printable, table};
use crate::api::{JobState, JobView};
use crate::core::Job;
use crate::runtime::now_ms;
use crate::runtime::store::{Store, StoreError};
use std::collections::HashMap;
use std::path::Path;

/// How many ended jobs `job list` shows without `--all`, most recent first.
const RECENT_ENDED: usize = 20;

/// `jobs` as views, each with its feature's name from the store: what `job list --json` and
/// `status --json` print.
pub fn views(store: &Store, jobs: &[Job]) -> std::result::Result<Vec<JobView>, StoreError> {
    // Only the names the jobs show: one lookup per feature, whatever the size of the backlog.
    let wanted = jobs.iter().filter_map(|j| j.feature).map(|f| f.0);
    let names: HashMap<i64, String> =
        crate::runtime::store::backlog::feature_names(store.connection(), wanted)
            .map_err(|e| store.err(e))?;
    Ok(jobs
        .iter()
        .map(|j| j.view(j.feature.and_then(|f| names.get(&f.0).cloned())))
        .collect())
}

/// The jobs to list, in the order corral shows them (the Queue pane's): the running
/// corral's own order for the open ones when one runs, else the order its scheduler would
/// start the stored queue in, worked out by the core from the stored backlog. Ended jobs
/// (most recent `ended` of them, or all) come from the store, newest first, either way.
pub(super) fn ordered(
    store: &Store,
    live: Option<&super::live::Live>,
    ended: Option<usize>,
) -> Result<Vec<JobView>> {
    let stored = store.jobs_with_ended(ended)?;
    let Some(live) = live else {
        // Queued coding jobs are ranked by their features' place in the ready order, which
        // takes the whole backlog; without one, the backlog is not read.
        let ranked = stored
            .iter()
            .any(|j| j.state == JobState::Queued && j.role == crate::api::Role::Coding);
        let features = if ranked {
            store.load_features()?
        } else {
            Vec::new()
        };
        let model = crate::core::Model::stored(features, stored, now_ms());
        let jobs: Vec<Job> = model.jobs_in_order().into_iter().cloned().collect();
        return Ok(views(store, &jobs)?);
    };
    let mut shown: Vec<JobView> = live
        .snapshot
        .jobs
        .iter()
        .filter(|j| j.state.is_open())
        .cloned()
        .collect();
    let mut done: Vec<Job> = stored.into_iter().filter(|j| !j.state.is_open()).collect();
    // A job the core ended a moment ago may not be stored as ended yet: shown once, open.
    done.retain(|j| !shown.iter().any(|v| v.id == j.id));
    done.sort_by_key(|j| std::cmp::Reverse(j.id));
    shown.extend(views(store, &done)?);
    Ok(shown)
}

/// `job list [--json] [--all]`.
pub fn list(project: &Path, all: bool, as_json: bool) -> Result<()> {
    let store = super::live::read_store(project)?;
    let live = super::live::ask(project);
    let views = ordered(&store, live.as_ref(), (!all).then_some(RECENT_ENDED))?;
    if as_json {
        return emit_json(&views);
    }
    if views.is_empty() {
        return emit(
            "no jobs yet: corral queues them when it runs (the dashboard, or `corral run --headless`)",
        );
    }
    let now = now_ms();
    let breakers: HashMap<String, crate::core::breaker::Saved> =
        store.load_breakers()?.into_iter().collect();
    let header = [
        "ID",
        "PROFILE",
        "FEATURE",
        "STATE",
        "ATTEMPT",
        "NEXT TRY",
        "LAST ERROR",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    rows.extend(views.iter().map(|v| {
        vec![
            v.id.to_string(),
            printable(&v.profile, false),
            feature_cell(v),
            v.state.as_str().to_string(),
            attempt_cell(v),
            next_try_cell(v, breakers.get(&v.account), now),
            v.last_error
                .as_deref()
                .map_or("-".into(), |e| printable(e, false)),
        ]
    }));
    let mut text = table(&rows);
    let shown_ended = views.iter().filter(|v| !v.state.is_open()).count();
    let older = store.ended_job_count()?.saturating_sub(shown_ended);
    if !all && older > 0 {
        text.push_str(&format!(
            "\n({older} older ended jobs not shown: `corral job list --all` lists every job)"
        ));
    }
    text.push('\n');
    text.push_str(&super::live::scheduler_line(live.as_ref()));
    emit(&text)
}

/// When a waiting job may start: its backoff's end, or later if its account's breaker rests
/// longer; a login for a breaker opened by refused credentials.
fn next_try_cell(v: &JobView, breaker: Option<&crate::core::breaker::Saved>, now: i64) -> String {
    use crate::core::breaker::State;
    if !matches!(v.state, JobState::Queued | JobState::Backoff) {
        return "-".into();
    }
    let backoff = v.available_at_ms.filter(|_| v.state == JobState::Backoff);
    match (breaker.map(|b| b.state), backoff) {
        (Some(State::Open { until_ms, .. }), _) if until_ms == i64::MAX => format!(
            "login needed (`corral breaker close {}`)",
            printable(&v.account, false)
        ),
        (Some(State::Open { until_ms, .. }), at) if at.is_none_or(|a| a < until_ms) => {
            format!("{} (breaker)", next_try(until_ms, now))
        }
        (Some(State::HalfOpen { .. }), None) => "breaker half-open".into(),
        (_, Some(at)) => next_try(at, now),
        _ => "-".into(),
    }
}

/// `#3 Cart totals`, or `-` for a job without a feature.
fn feature_cell(v: &JobView) -> String {
    match (v.feature, &v.feature_name) {
        (Some(f), Some(name)) => format!("#{f} {}", printable(name, false)),
        (Some(f), None) => format!("#{f}"),
        (None, _) => "-".into(),
    }
}

/// `2/3`, with `transient 1/5` after it once a transient failure was retried.
fn attempt_cell(v: &JobView) -> String {
    let mut cell = format!("{}/{}", v.attempt, v.max_attempts);
    if v.transient_attempts > 0 {
        cell.push_str(&format!(
            " transient {}/{}",
            v.transient_attempts, v.transient_budget
        ));
    }
    cell
}

/// `14:03:07 in 1m05s` (the date too when it is not today), or `… due` once the time passed.
fn next_try(at_ms: i64, now_ms: i64) -> String {
    let zone = jiff::tz::TimeZone::system();
    let local = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(zone.clone()));
    let (Ok(at), Ok(now)) = (local(at_ms), local(now_ms)) else {
        return at_ms.to_string();
    };
    let format = if at.date() == now.date() {
        "%H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M:%S"
    };
    let clock = at.strftime(format).to_string();
    match at_ms - now_ms {
        left if left > 0 => format!("{clock} in {}", span(left)),
        _ => format!("{clock} due"),
    }
}

/// A time left, rounded up to the second: `42s`, `1m05s`, `2h03m`, `3d04h`.
fn span(ms: i64) -> String {
    let s = (ms.max(0) + 999) / 1000;
    if s < 60 {
        format!("{s}s")
    } else if s < 3_600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3_600, s % 3_600 / 60)
    } else {
        format!("{}d{:02}h", s / 86_400, s % 86_400 / 3_600)
    }
}

/// `job 4 (coding #3 "Cart totals"): queued, attempt 0/3`, for the retry and cancel replies.
pub fn summary(v: &JobView) -> String {
    let feature = match (v.feature, &v.feature_name) {
        (Some(f), Some(name)) => format!(" #{f} {name:?}"),
        (Some(f), None) => format!(" #{f}"),
        (None, _) => String::new(),
    };
    let mut line = format!(
        "job {} ({}{feature}): {}, attempt {}",
        v.id,
        v.role,
        v.state.as_str(),
        attempt_cell(v)
    );
    if let (JobState::Backoff, Some(at)) = (v.state, v.available_at_ms) {
        line.push_str(&format!(", next try {}", next_try(at, now_ms())));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_round_up_to_the_second() {
        assert_eq!(span(1), "1s");
        assert_eq!(span(42_000), "42s");
        assert_eq!(span(65_000), "1m05s");
        assert_eq!(span(64_001), "1m05s");
        assert_eq!(span(2 * 3_600_000 + 3 * 60_000), "2h03m");
        assert_eq!(span(3 * 86_400_000 + 4 * 3_600_000), "3d04h");
    }

    #[test]
    fn next_try_says_in_how_long_or_due() {
        let now = 1_700_000_000_000;
        assert!(next_try(now + 65_000, now).ends_with(" in 1m05s"));
        assert!(next_try(now - 1, now).ends_with(" due"));
    }

    fn job(id: i64, state: JobState, priority: i64, at: Option<i64>) -> Job {
        Job {
            id: crate::api::JobId(id),
            profile: "coding".into(),
            account: "coding".into(),
            role: crate::api::Role::Coding,
            feature: None,
            priority,
            state,
            attempts: 0,
            max_attempts: 3,
            transient_attempts: 0,
            transient_budget: 5,
            available_at_ms: at,
            last_error: None,
            runs: Vec::new(),
            usage: Default::default(),
            created_at_ms: 0,
            epoch: 0,
        }
    }

    #[test]
    fn running_then_queued_by_priority_then_backoff_by_time_then_newest_ended() {
        let jobs = vec![
            job(1, JobState::Done, 0, None),
            job(2, JobState::Backoff, 0, Some(900)),
            job(3, JobState::Queued, 5, None),
            job(4, JobState::Backoff, 0, Some(100)),
            job(5, JobState::Queued, -1, None),
            job(6, JobState::Failed, 0, None),
            job(7, JobState::Running, 0, None),
            job(8, JobState::Queued, 5, None),
        ];
        let model = crate::core::Model::stored(Vec::new(), jobs, 0);
        let ids: Vec<i64> = model.jobs_in_order().iter().map(|j| j.id.0).collect();
        assert_eq!(ids, vec![7, 5, 3, 8, 4, 2, 6, 1]);
    }
}
