//! The Profiles view: every profile from corral.toml, and whether the scheduler may use it.

use super::{pane_block, truncate};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table, TableState};

/// Cells of every column but the command, with the spaces between columns.
const FIXED: u16 = 14 + 12 + 16 + 8 + 4 + 5;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let profiles = &app.snapshot.profiles;
    let command_width = area.width.saturating_sub(2 + FIXED).max(8);
    let rows: Vec<Row> = profiles
        .iter()
        .map(|p| {
            let (enabled, style) = if p.enabled {
                ("yes", theme.good())
            } else {
                ("no", theme.error())
            };
            let command = truncate(&p.command.join(" "), command_width as usize, theme.ascii);
            Row::new(vec![
                Cell::from(truncate(&p.name, 14, theme.ascii)),
                Cell::from(p.role.as_str()),
                Cell::from(command),
                Cell::from(truncate(p.model.as_deref().unwrap_or("-"), 16, theme.ascii)),
                Cell::from(enabled).style(style),
                Cell::from(p.live_runs.to_string()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(14),
        Constraint::Length(12),
        Constraint::Length(command_width),
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(4),
    ];
    let header = Row::new(["name", "role", "command", "model", "enabled", "live"]);
    let dot = theme.dot();
    let title = format!("Profiles {dot} e to enable/disable {dot} P or esc to close");
    let table = Table::new(rows, widths)
        .header(header.style(theme.dim()))
        .block(pane_block(title, true, theme))
        .column_spacing(1)
        .row_highlight_style(theme.selected());
    let selected = app
        .selected_profile
        .as_ref()
        .and_then(|name| profiles.iter().position(|p| &p.name == name));
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, area, &mut state);
    if profiles.is_empty() && area.height > 3 {
        let inner = Rect {
            y: area.y + 2,
            height: 1,
            ..area.inner(ratatui::layout::Margin::new(1, 0))
        };
        let text = Line::styled("no profiles in corral.toml", theme.dim());
        frame.render_widget(text, inner);
    }
}
