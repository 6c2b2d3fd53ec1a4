//! Draws an [`App`] into a frame. Pure: the same app, theme and time give the same frame.

mod detail;
mod diff;
mod fit;
mod footer;
mod header;
mod log_pane;
mod overlay;
mod profiles;
mod queue;
mod tables;

use super::app::{App, Pane, View};
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::widgets::{Block, Borders};

/// Where each part of the screen goes for a given terminal size.
struct Areas {
    header: Rect,
    /// Everything between the header and the hint bar: the panes, or a view.
    body: Rect,
    agents: Rect,
    features: Rect,
    queue: Rect,
    log: Rect,
    footer: Rect,
}

/// Where each part goes. `queue_rows` is how many rows the Queue pane would like (borders,
/// column titles and its jobs: all of them when it has focus, else the running and waiting
/// ones): it grows to show them, up to half the body, leaving the Log pane two lines.
fn areas(full: Rect, queue_rows: u16, header_rows: u16) -> Areas {
    let body = full.height.saturating_sub(1 + header_rows);
    let top = (body * 38 / 100).max(6);
    let queue = (body * 20 / 100).clamp(6, 8);
    let most = (body / 2).min(body.saturating_sub(top + 4));
    let queue = queue.max(queue_rows.min(most));
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(header_rows),
            Constraint::Length(top),
            Constraint::Length(queue),
            Constraint::Min(3),
            Constraint::Length(1),
        ])
        .split(full);
    let cols = Layout::default()
        .direction(Direction::Horizontal)
        // Narrow terminals give the Agents pane the room for its pid and uptime columns.
        .constraints(if full.width < 100 {
            [Constraint::Percentage(60), Constraint::Percentage(40)]
        } else {
            [Constraint::Percentage(56), Constraint::Percentage(44)]
        })
        .split(rows[1]);
    Areas {
        header: rows[0],
        body: rows[1].union(rows[3]),
        agents: cols[0],
        features: cols[1],
        queue: rows[2],
        log: rows[3],
        footer: rows[4],
    }
}

/// A pane's frame: highlighted border and bold title when it has focus.
fn pane_block<'a>(title: String, focused: bool, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border_set(focused))
        .border_style(theme.border(focused))
        .title(ratatui::text::Span::styled(
            format!(" {title} "),
            theme.title(focused),
        ))
}

/// Draws the whole dashboard. Times on screen are measured from [`App::now_ms`], never from
/// the clock, so the same app gives the same frame.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let now_ms = app.now_ms;
    let jobs = &app.snapshot.jobs;
    let queue_rows = match (&app.view, app.focus) {
        (View::Dashboard, Pane::Queue) => jobs.len(),
        _ => jobs.iter().filter(|j| j.state.is_open()).count(),
    };
    let queue_rows = u16::try_from(queue_rows)
        .unwrap_or(u16::MAX)
        .saturating_add(3);
    let header_rows = header::rows(app, theme, frame.area().width);
    let a = areas(frame.area(), queue_rows, header_rows);
    header::draw(frame, a.header, app, theme);
    match &app.view {
        View::Dashboard => {
            let focus = app.focus;
            tables::agents(frame, a.agents, app, theme, now_ms, focus == Pane::Agents);
            tables::features(frame, a.features, app, theme, focus == Pane::Features);
            queue::draw(frame, a.queue, app, theme, focus == Pane::Queue);
            log_pane::draw(frame, a.log, app, theme, focus == Pane::Log);
        }
        View::Detail(view) => detail::draw(frame, a.body, app, view, theme, now_ms),
        View::Profiles => profiles::draw(frame, a.body, app, theme),
        View::Diff(view) => diff::draw(frame, a.body, view, theme),
    }
    footer::draw(frame, a.footer, app, theme);
    overlay::draw(frame, app, theme);
}

/// How long a run has been (or was) up, compactly: `42s`, `4m05s`, `1h04m`.
pub fn format_uptime(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Time left until `until_ms`, rounded up to the second so it reaches `0s` only when due:
/// `1m05s`, or `None` once it has passed.
pub fn format_countdown(until_ms: i64, now_ms: i64) -> Option<String> {
    let left = until_ms.saturating_sub(now_ms);
    (left > 0).then(|| format_uptime((left + 999) / 1000 * 1000))
}

/// A token count in five characters or fewer: `950`, `12.3k`, `456k`, `1.2M`.
pub fn format_tokens(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        // Cut, not rounded, so 99,999 stays `99.9k` rather than growing a digit.
        1_000..100_000 => format!("{}.{}k", n / 1_000, n % 1_000 / 100),
        100_000..1_000_000 => format!("{}k", n / 1_000),
        _ => format!("{}.{}M", n / 1_000_000, n % 1_000_000 / 100_000),
    }
}

/// A feature's spend in full: `$1.23 · 1.2M tokens` (with `dot` between), or only the tokens
/// without a price. The feature detail and `corral feature show` write it.
pub fn format_spent(u: &crate::api::Usage, dot: &str) -> String {
    let tokens = format!("{} tokens", format_tokens(u.total_tokens()));
    match u.cost_micros {
        Some(c) if u.total_tokens() > 0 => {
            format!("{} {dot} {tokens}", crate::api::Usage::format_usd(c))
        }
        Some(c) => crate::api::Usage::format_usd(c),
        None => tokens,
    }
}

/// What a run, a feature or the project spent, as one short text: the cost (`$0.42`), or
/// the tokens when the agent reported no price (`12.3k tok`); `None` when nothing was reported.
pub fn format_spend(usage: &crate::api::Usage) -> Option<String> {
    match usage.cost_micros {
        Some(micros) => Some(crate::api::Usage::format_usd(micros)),
        None if usage.total_tokens() > 0 => {
            Some(format!("{} tok", format_tokens(usage.total_tokens())))
        }
        None => None,
    }
}

/// `text` in at most `width` cells, ending in an ellipsis when cut.
pub fn truncate(text: &str, width: usize, ascii: bool) -> String {
    use ratatui::text::Line;
    if Line::raw(text).width() <= width {
        return text.to_string();
    }
    let more = if ascii { "..." } else { "…" };
    if width < Line::raw(more).width() {
        return text.chars().take(width).collect();
    }
    let mut out = String::new();
    for c in text.chars() {
        if Line::raw(format!("{out}{c}{more}")).width() > width {
            break;
        }
        out.push(c);
    }
    out + more
}

/// CPU in tenths of a percent as `38%` (`1.2k%` never happens: a tree rarely passes 999%).
pub fn format_cpu(tenths: u32) -> String {
    format!("{}%", (tenths + 5) / 10)
}

/// A byte count in four characters or fewer: `900K`, `210M`, `1.2G`.
pub fn format_bytes(bytes: u64) -> String {
    const K: u64 = 1 << 10;
    const M: u64 = 1 << 20;
    const G: u64 = 1 << 30;
    match bytes {
        0..K => format!("{bytes}B"),
        K..M => format!("{}K", bytes / K),
        M..G => format!("{}M", bytes / M),
        _ if bytes < 10 * G => format!("{:.1}G", bytes as f64 / G as f64),
        _ => format!("{}G", bytes / G),
    }
}
