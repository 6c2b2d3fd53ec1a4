//! The Agents and Features panes.

use super::fit::{id_list, table_widths};
use super::overlay::prompt_line;
use super::{format_bytes, format_cpu, format_spend, format_uptime, pane_block, truncate};
use crate::api::{FeatureStatus, RunState};
use crate::ui::app::App;
use crate::ui::prompt::PromptKind;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};

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

/// Agents pane columns, in order; the feature (with its id) is the one that takes the rest.
const AGENT_COLUMNS: [&str; 7] = ["  id", "role", "feature", "state", "pid", "up", "usage"];
/// The feature column is not squeezed below this while other columns can make room.
const AGENT_FEATURE_MIN: usize = 20;

pub fn agents(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, now_ms: i64, focused: bool) {
    let ascii = theme.ascii;
    let runs = &app.snapshot.runs;
    // The texts of each row, before the widths are known.
    let texts: Vec<[String; 7]> = runs
        .iter()
        .map(|r| {
            let end = r.finished_at_ms.unwrap_or(now_ms);
            let mut feature = match (&r.feature, &r.feature_name) {
                (Some(id), Some(name)) => format!("#{id} {name}"),
                (Some(id), None) => format!("#{id}"),
                _ => "-".into(),
            };
            // What a live run does now, or what it asks of you.
            let doing = match (&r.waiting, &r.activity) {
                (Some(w), _) => Some(w.ask.describe()),
                (None, Some(a)) => Some(a.clone()),
                _ => None,
            };
            if let Some(doing) = doing.filter(|_| r.state.is_live()) {
                feature = format!(
                    "{feature} · {}",
                    crate::core::printable::printable(&doing, false)
                );
            }
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
            [
                format!("  {}", r.id),
                r.role.as_str().to_string(),
                feature,
                match (&r.waiting, r.state.is_live()) {
                    (Some(w), true) if matches!(w.ask, crate::api::Ask::Guess { .. }) => {
                        "waiting?".into()
                    }
                    (Some(_), true) => "needs you".into(),
                    _ => state_text(r.state),
                },
                r.pid.map_or("-".into(), |p| p.to_string()),
                format_uptime(end - r.started_at_ms),
                usage,
            ]
        })
        .collect();
    // (cap, drop rank): pid goes first, then role, usage and uptime.
    let rules = [
        (usize::MAX, 0),
        (8, 3),
        (usize::MAX, 0),
        (12, 0),
        (8, 4),
        (6, 1),
        (10, 2),
    ];
    let widths = table_widths(
        area.width.saturating_sub(2) as usize,
        &AGENT_COLUMNS,
        rules,
        &texts,
        2,
        AGENT_FEATURE_MIN,
    );
    let rows: Vec<Row> = runs
        .iter()
        .zip(&texts)
        .map(|(r, t)| {
            let style = if r.waiting.is_some() && r.state.is_live() {
                theme.warn()
            } else {
                theme.run_state(r.state)
            };
            Row::new(widths.iter().enumerate().filter_map(|(i, w)| {
                let w = (*w)?;
                Some(match i {
                    0 => Cell::from(Line::from(vec![
                        Span::styled(
                            if r.waiting.is_some() && r.state.is_live() {
                                "!"
                            } else {
                                theme.run_glyph(r.state)
                            },
                            style,
                        ),
                        Span::raw(format!(" {}", r.id)),
                    ])),
                    3 => Cell::from(truncate(&t[i], w, ascii)).style(style),
                    _ => Cell::from(truncate(&t[i], w, ascii)),
                })
            }))
        })
        .collect();
    let (widths, header) = shown_columns(&widths, &AGENT_COLUMNS);
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

/// The constraints and header row of the columns [`fit`] kept.
fn shown_columns<'a>(widths: &[Option<usize>], titles: &[&'a str]) -> (Vec<Constraint>, Row<'a>) {
    let kept: Vec<(u16, &str)> = widths
        .iter()
        .zip(titles)
        .filter_map(|(w, t)| w.map(|w| (u16::try_from(w).unwrap_or(u16::MAX), *t)))
        .collect();
    (
        kept.iter().map(|(w, _)| Constraint::Length(*w)).collect(),
        Row::new(kept.iter().map(|(_, t)| *t)),
    )
}

/// Features pane columns, in order; the name takes the rest.
const FEATURE_COLUMNS: [&str; 6] = ["  id", "category", "name", "status", "try", "deps"];
/// The name is not squeezed below this while other columns can make room.
const FEATURE_NAME_MIN: usize = 18;

pub fn features(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let ascii = theme.ascii;
    let features = app.visible_features();
    let ids = |ids: &[crate::api::FeatureId]| -> Vec<String> {
        ids.iter().map(|i| i.to_string()).collect()
    };
    // The dependency column: the prefix and the ids, cut between ids when too long.
    let deps: Vec<(&str, Vec<String>)> = features
        .iter()
        .map(|f| match f.status {
            FeatureStatus::Blocked | FeatureStatus::Pending if !f.blocked_by.is_empty() => {
                ("by ", ids(&f.blocked_by))
            }
            // The column is narrow: the state word here, the rest in the detail and diff views.
            _ if f.merge.is_some() => {
                let merge = f.merge.as_deref().unwrap_or_default();
                let state = merge.split(':').next().unwrap_or(merge);
                ("merge ", vec![state.to_string()])
            }
            _ if !f.dependencies.is_empty() => ("deps ", ids(&f.dependencies)),
            _ => ("", Vec::new()),
        })
        .collect();
    let texts: Vec<[String; 6]> = features
        .iter()
        .zip(&deps)
        .map(|(f, (prefix, list))| {
            [
                format!("  {}", f.id),
                f.category.clone(),
                f.name.clone(),
                f.status.as_str().replace('_', " "),
                format!("{:>3}", f.attempts),
                format!("{prefix}{}", list.join(", ")),
            ]
        })
        .collect();
    // (cap, drop rank): attempts go first, then the category, the deps and the status word
    // (the glyph still shows the status).
    let rules = [
        (usize::MAX, 0),
        (12, 3),
        (usize::MAX, 0),
        (11, 1),
        (3, 4),
        (16, 2),
    ];
    let widths = table_widths(
        area.width.saturating_sub(2) as usize,
        &FEATURE_COLUMNS,
        rules,
        &texts,
        2,
        FEATURE_NAME_MIN,
    );
    let rows: Vec<Row> = features
        .iter()
        .zip(&texts)
        .zip(&deps)
        .map(|((f, t), (prefix, list))| {
            let style = theme.feature_style(f.status);
            Row::new(widths.iter().enumerate().filter_map(|(i, w)| {
                let w = (*w)?;
                Some(match i {
                    0 => Cell::from(Line::from(vec![
                        Span::styled(theme.feature_glyph(f.status), style),
                        Span::raw(format!(" {}", f.id)),
                    ])),
                    2 | 3 => Cell::from(truncate(&t[i], w, ascii)).style(style),
                    5 => Cell::from(id_list(prefix, list, w, ascii)),
                    _ => Cell::from(truncate(&t[i], w, ascii)),
                })
            }))
        })
        .collect();
    let (widths, header) = shown_columns(&widths, &FEATURE_COLUMNS);
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
