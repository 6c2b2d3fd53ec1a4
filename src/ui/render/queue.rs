//! The Queue pane: every job, what it waits for and when it is tried next. Countdowns are
//! measured from [`App::now_ms`], which the event loop moves once a second while one shows.

use super::tables::render_table;
use super::{format_countdown, truncate};
use crate::api::{BreakerState, JobState, JobView};
use crate::ui::app::App;
use crate::ui::log_view::plain_text;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

/// From this inner width on the pane shows the profile and the transient budget, and spells
/// out the breaker in the next-try column.
const QUEUE_WIDE: u16 = 100;
/// The error column never gets narrower than this: the feature column gives way first.
const MIN_ERROR: usize = 12;

/// One job's texts, before the column widths are known.
struct JobRow {
    id: String,
    /// The job's priority when it is not 0 (`p-1`, `p+2`): lower starts sooner.
    priority: Option<String>,
    state: JobState,
    profile: String,
    feature: String,
    attempt: String,
    next: (String, Style),
    error: (String, Style),
}

fn cells(text: &str) -> usize {
    Span::raw(text).width()
}

/// `2/3`, with the retries after passing failures when there were some: `2/3 ~4` (`~4/20`,
/// against the budget, when wide).
fn attempt_text(j: &JobView, wide: bool) -> String {
    let mut text = format!("{}/{}", j.attempt, j.max_attempts);
    if j.transient_attempts > 0 {
        text.push_str(&format!(" ~{}", j.transient_attempts));
        if wide {
            text.push_str(&format!("/{}", j.transient_budget));
        }
    }
    text
}

/// When the job is tried next: the backoff's countdown (`in 1m05s`, `now` once due), or, when
/// its account's breaker will hold it longer than that, the breaker (with its countdown, or
/// `login` when only a person can close it). Empty when nothing but a free slot is awaited.
fn next_try(app: &App, j: &JobView, wide: bool, theme: &Theme) -> (String, Style) {
    let now = app.now_ms;
    let backoff = match j.state {
        JobState::Backoff => Some(j.available_at_ms.unwrap_or(now)),
        JobState::Queued => None,
        _ => return (String::new(), Style::default()),
    };
    let countdown = |t: i64| format_countdown(t, now);
    match (app.held_by(&j.account), backoff) {
        (Some(b), _) if b.auth => ("login".into(), theme.warn()),
        // Open past the end of the backoff (or no backoff): the breaker decides.
        (Some(b), _)
            if b.state == BreakerState::Open
                && b.until_ms.unwrap_or(i64::MAX) >= backoff.unwrap_or(i64::MIN) =>
        {
            let word = if wide { "breaker" } else { "brk" };
            let text = match b.until_ms.and_then(countdown) {
                Some(left) => format!("{word} {left}"),
                None => "breaker".into(),
            };
            (text, theme.warn())
        }
        // Half-open: one probe may run; a queued job waits for its verdict.
        (Some(_), None) => ("breaker".into(), theme.warn()),
        (_, Some(t)) => match countdown(t) {
            Some(left) => (format!("in {left}"), theme.warn()),
            None => ("now".into(), theme.good()),
        },
        (None, None) => (String::new(), Style::default()),
    }
}

fn job_row(app: &App, j: &JobView, wide: bool, theme: &Theme) -> JobRow {
    let feature = match (j.feature, &j.feature_name) {
        (Some(id), Some(name)) => format!("#{id} {name}"),
        (Some(id), None) => format!("#{id}"),
        (None, _) => "-".into(),
    };
    // Agent text: colours and control characters out, one line.
    let error = plain_text(j.last_error.as_deref().unwrap_or_default());
    let error_style = match j.state {
        JobState::Failed => theme.error(),
        _ => theme.dim(),
    };
    JobRow {
        id: j.id.to_string(),
        priority: (j.priority != 0).then(|| format!("p{:+}", j.priority)),
        state: j.state,
        profile: j.profile.clone(),
        feature,
        attempt: attempt_text(j, wide),
        next: next_try(app, j, wide, theme),
        error: (
            error.split_whitespace().collect::<Vec<_>>().join(" "),
            error_style,
        ),
    }
}

/// The pane's title: how many jobs, and how many of them run, wait or back off.
fn title(jobs: &[JobView], theme: &Theme) -> String {
    let count = |s: JobState| jobs.iter().filter(|j| j.state == s).count();
    let mut title = format!(
        "Queue {} job{}",
        jobs.len(),
        if jobs.len() == 1 { "" } else { "s" }
    );
    for state in [JobState::Running, JobState::Queued, JobState::Backoff] {
        let n = count(state);
        if n > 0 {
            title.push_str(&format!(" {} {n} {}", theme.dot(), state.as_str()));
        }
    }
    title
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let jobs = &app.snapshot.jobs;
    let inner = area.width.saturating_sub(2) as usize;
    let wide = area.width.saturating_sub(2) >= QUEUE_WIDE;
    let rows: Vec<JobRow> = jobs.iter().map(|j| job_row(app, j, wide, theme)).collect();
    let widest = |header: &str, f: &dyn Fn(&JobRow) -> usize| {
        rows.iter().map(f).max().unwrap_or(0).max(cells(header))
    };
    // Glyph, space, id (and priority): "  id" lines up over the ids.
    let id_w = widest("  id", &|r| {
        r.id.len() + 2 + r.priority.as_ref().map_or(0, |p| p.len() + 1)
    });
    let state_w = widest("state", &|r| r.state.as_str().len());
    let (attempt_head, next_head) = if wide {
        ("attempt", "next try")
    } else {
        ("try", "next")
    };
    let attempt_w = widest(attempt_head, &|r| cells(&r.attempt));
    let next_w = widest(next_head, &|r| cells(&r.next.0));
    let profile_w = if wide {
        widest("profile", &|r| cells(&r.profile)).min(12)
    } else {
        0
    };
    let columns = if wide { 7 } else { 6 };
    let fixed = id_w + state_w + attempt_w + next_w + profile_w + (columns - 1);
    // The feature takes what it needs up to a cap, keeping the error column readable.
    let feature_cap = if wide { 32 } else { 24 };
    let feature_w = widest("feature", &|r| cells(&r.feature))
        .min(feature_cap)
        .min(inner.saturating_sub(fixed + MIN_ERROR))
        .max(cells("feature"));
    let error_w = inner.saturating_sub(fixed + feature_w).max(1);
    let ascii = theme.ascii;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            let style = theme.job_state(r.state);
            let glyph = Span::styled(theme.job_glyph(r.state), style);
            let mut id = vec![glyph, Span::raw(format!(" {}", r.id))];
            if let Some(p) = &r.priority {
                id.push(Span::styled(format!(" {p}"), theme.accent()));
            }
            let mut cells = vec![Cell::from(Line::from(id))];
            if wide {
                cells.push(Cell::from(truncate(&r.profile, profile_w, ascii)));
            }
            cells.extend([
                Cell::from(truncate(&r.feature, feature_w, ascii)),
                Cell::from(r.state.as_str()).style(style),
                Cell::from(r.attempt.clone()),
                Cell::from(r.next.0.clone()).style(r.next.1),
                Cell::from(truncate(&r.error.0, error_w, ascii)).style(r.error.1),
            ]);
            Row::new(cells)
        })
        .collect();
    let len = |w: usize| Constraint::Length(w as u16);
    let mut widths = vec![len(id_w)];
    let mut titles = vec!["  id"];
    if wide {
        widths.push(len(profile_w));
        titles.push("profile");
    }
    widths.extend([
        len(feature_w),
        len(state_w),
        len(attempt_w),
        len(next_w),
        Constraint::Fill(1),
    ]);
    titles.extend(["feature", "state", attempt_head, next_head, "last error"]);
    // Unfocused, the pane shows its top (live jobs first) rather than scrolling to a selection.
    let selected = app
        .selected_job
        .and_then(|id| jobs.iter().position(|j| j.id == id))
        .filter(|_| focused);
    render_table(
        frame,
        area,
        title(jobs, theme),
        focused,
        theme,
        (table_rows, widths, Row::new(titles)),
        selected,
    );
}
