//! Draws an [`App`] into a frame. Pure: the same app, theme and time give the same frame.

mod chrome;
mod detail;
mod log_pane;
mod overlay;
mod profiles;
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

fn areas(full: Rect) -> Areas {
    let body = full.height.saturating_sub(2);
    let top = (body * 38 / 100).max(6);
    let queue = (body * 20 / 100).clamp(5, 8);
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
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
    let a = areas(frame.area());
    chrome::header(frame, a.header, app, theme);
    match &app.view {
        View::Dashboard => {
            let focus = app.focus;
            tables::agents(frame, a.agents, app, theme, now_ms, focus == Pane::Agents);
            tables::features(frame, a.features, app, theme, focus == Pane::Features);
            tables::queue(frame, a.queue, app, theme, focus == Pane::Queue);
            log_pane::draw(frame, a.log, app, theme, focus == Pane::Log);
        }
        View::Detail(view) => detail::draw(frame, a.body, app, view, theme, now_ms),
        View::Profiles => profiles::draw(frame, a.body, app, theme),
    }
    chrome::footer(frame, a.footer, app, theme);
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
