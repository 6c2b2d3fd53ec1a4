//! The Agents and Features panes.

use super::overlay::prompt_line;
use super::{format_bytes, format_cpu, format_spend, format_uptime, pane_block};
use crate::api::{FeatureStatus, RunState};
use crate::ui::app::App;
use crate::ui::prompt::PromptKind;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

/// Columns narrow panes drop first are left out below this inner width.
const WIDE: u16 = 54;
/// The Agents pane shows cpu and mem columns from this inner width on.
const WIDE_WITH_STATS: u16 = 62;
/// The Features pane shows category and deps from this inner width on.
const FEATURES_WIDE: u16 = 50;
/// The Features pane shows how many times each feature was tried from this inner width on.
const FEATURES_WITH_ATTEMPTS: u16 = 50;

fn signal_name(sig: i32) -> String {
    match sig {
        1 => "HUP".into(),
        2 => "INT".into(),
        9 => "KILL".into(),
        15 => "TERM".into(),
        n => format!("sig {n}"),
    }
}

/// A run's state as the Agents pane and the detail view write it: the word plus what the
/// process really did.
pub fn state_text(state: RunState) -> String {
    match state {
        RunState::Failed { code } => format!("failed {code}"),
        RunState::Killed { signal: Some(s) } => format!("killed {}", signal_name(s)),
        other => other.label().replace('_', " "),
    }
}

pub(super) fn render_table(
    frame: &mut Frame,
    area: Rect,
    title: String,
    focused: bool,
    theme: &Theme,
    table: (Vec<Row>, Vec<Constraint>, Row),
    selected: Option<usize>,
) {
    let (rows, widths, header) = table;
    let table = Table::new(rows, widths)
        .header(header.style(theme.dim()))
        .block(pane_block(title, focused, theme))
        .column_spacing(1)
        .row_highlight_style(if focused {
            theme.selected()
        } else {
            Style::default()
        });
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
}

pub fn agents(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, now_ms: i64, focused: bool) {
    let wide = area.width.saturating_sub(2) >= WIDE;
    let with_stats = area.width.saturating_sub(2) >= WIDE_WITH_STATS;
    let runs = &app.snapshot.runs;
    let rows: Vec<Row> = runs
        .iter()
        .map(|r| {
            let end = r.finished_at_ms.unwrap_or(now_ms);
            let feature = match (&r.feature, &r.feature_name) {
                (Some(id), Some(name)) => format!("#{id} {name}"),
                (Some(id), None) => format!("#{id}"),
                _ => "-".into(),
            };
            let state = Cell::from(state_text(r.state)).style(theme.run_state(r.state));
            let glyph = Span::styled(theme.run_glyph(r.state), theme.run_state(r.state));
            let id = Cell::from(Line::from(vec![glyph, Span::raw(format!(" {}", r.id))]));
            let uptime = Cell::from(format_uptime(end - r.started_at_ms));
            if wide {
                let pid = r.pid.map_or("-".into(), |p| p.to_string());
                let mut cells = vec![
                    id,
                    Cell::from(r.role.as_str()),
                    Cell::from(feature),
                    state,
                    Cell::from(pid),
                    uptime,
                ];
                if with_stats {
                    // A live run shows its load; an ended one what it spent, if it said.
                    let usage = match (r.stats, r.usage) {
                        (Some(s), _) => format!(
                            "{:<4} {}",
                            format_cpu(s.cpu_tenths),
                            format_bytes(s.rss_bytes)
                        ),
                        (None, Some(u)) => format_spend(&u).unwrap_or_default(),
                        (None, None) => String::new(),
                    };
                    cells.push(Cell::from(usage));
                }
                Row::new(cells)
            } else {
                let pid = r.pid.map_or("-".into(), |p| p.to_string());
                Row::new(vec![
                    id,
                    Cell::from(feature),
                    state,
                    Cell::from(pid),
                    uptime,
                ])
            }
        })
        .collect();
    let (widths, header) = if wide {
        let mut widths = vec![
            Constraint::Length(5),
            Constraint::Length(7),
            Constraint::Min(10),
            Constraint::Length(11),
            Constraint::Length(7),
            Constraint::Length(6),
        ];
        let mut titles = vec!["  id", "role", "feature", "state", "pid", "up"];
        if with_stats {
            widths.push(Constraint::Length(10));
            titles.push("usage");
        }
        (widths, Row::new(titles))
    } else {
        (
            vec![
                Constraint::Length(5),
                Constraint::Min(8),
                Constraint::Length(9),
                Constraint::Length(7),
                Constraint::Length(6),
            ],
            Row::new(["  id", "feature", "state", "pid", "up"]),
        )
    };
    let live = app.live_agents();
    let title = format!("Agents {live} live");
    let selected = app
        .selected_run
        .and_then(|id| runs.iter().position(|r| r.id == id));
    render_table(
        frame,
        area,
        title,
        focused,
        theme,
        (rows, widths, header),
        selected,
    );
}

fn id_list(ids: &[crate::api::FeatureId]) -> String {
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn features(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let inner_width = area.width.saturating_sub(2);
    let wide = inner_width >= FEATURES_WIDE;
    let with_attempts = inner_width >= FEATURES_WITH_ATTEMPTS;
    let features = app.visible_features();
    let rows: Vec<Row> = features
        .iter()
        .map(|f| {
            let style = theme.feature_style(f.status);
            let glyph = Span::styled(theme.feature_glyph(f.status), style);
            let id = Cell::from(Line::from(vec![glyph, Span::raw(format!(" {}", f.id))]));
            let deps = match f.status {
                FeatureStatus::Blocked | FeatureStatus::Pending if !f.blocked_by.is_empty() => {
                    format!("by {}", id_list(&f.blocked_by))
                }
                _ if !f.dependencies.is_empty() => format!("deps {}", id_list(&f.dependencies)),
                _ => String::new(),
            };
            let status = f.status.as_str().replace('_', " ");
            let name = Cell::from(f.name.clone()).style(style);
            if wide {
                let mut cells = vec![
                    id,
                    Cell::from(f.category.clone()),
                    name,
                    Cell::from(status).style(style),
                ];
                if with_attempts {
                    cells.push(Cell::from(format!("{:>3}", f.attempts)));
                }
                cells.push(Cell::from(deps));
                Row::new(cells)
            } else {
                Row::new(vec![id, name, Cell::from(status).style(style)])
            }
        })
        .collect();
    let (widths, header) = if wide {
        let mut widths = vec![
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Fill(3),
            Constraint::Length(11),
        ];
        let mut titles = vec!["  id", "category", "name", "status"];
        if with_attempts {
            widths.push(Constraint::Length(3));
            titles.push("try");
        }
        widths.push(Constraint::Fill(2));
        titles.push("deps");
        (widths, Row::new(titles))
    } else {
        (
            vec![
                Constraint::Length(5),
                Constraint::Min(8),
                Constraint::Length(11),
            ],
            Row::new(["  id", "name", "status"]),
        )
    };
    let t = &app.snapshot.totals;
    let title = if app.filter.is_active() {
        let (dot, all) = (theme.dot(), app.snapshot.features.len());
        format!(
            "Features {dot} {} {}/{all}",
            app.filter.describe(),
            features.len()
        )
    } else {
        format!("Features {}/{} passing", t.passing, t.features)
    };
    let selected = app
        .selected_feature
        .and_then(|id| features.iter().position(|f| f.id == id))
        .filter(|_| focused);
    render_table(
        frame,
        area,
        title,
        focused,
        theme,
        (rows, widths, header),
        selected,
    );
    // The filter prompt sits on the pane's last row while it is open, as search does the Log's.
    if let Some(p) = app.prompt().filter(|p| p.kind == PromptKind::Filter) {
        let row = Rect {
            x: area.x + 1,
            y: area.bottom().saturating_sub(2).max(area.y),
            width: area.width.saturating_sub(2),
            height: area.height.min(1),
        };
        prompt_line(frame, row, "filter: ", &p.editor);
    }
}
