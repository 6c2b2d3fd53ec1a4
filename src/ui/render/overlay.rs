//! Popups drawn over the dashboard: help, y/n questions and the input prompt.

use crate::ui::app::{App, Confirm, Overlay};
use crate::ui::keymap::{Action, DEFAULT_BINDINGS, label};
use crate::ui::prompt::{LineEditor, PromptKind};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => help(frame, theme),
        Some(Overlay::Confirm(q)) => confirm(frame, app, q, theme),
        Some(Overlay::Prompt(p)) => match p.kind {
            // The search prompt sits at the bottom of the Log pane, drawn with it.
            PromptKind::Search => {}
            PromptKind::Input(run) => {
                let area = frame.area();
                let popup = centered(area, area.width.saturating_sub(4).min(64), 3);
                frame.render_widget(Clear, popup);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_set(theme.border_set(true))
                    .border_style(theme.border(true))
                    .title(Span::styled(
                        format!(" Send to run {run} (stdin) "),
                        theme.title(true),
                    ));
                let inner = block.inner(popup);
                frame.render_widget(block, popup);
                prompt_line(frame, inner, "", &p.editor);
            }
        },
    }
}

/// Draws a prompt's text after `prefix` on the first row of `area`, scrolled so the cursor
/// is inside, and puts the terminal's cursor on it.
pub(super) fn prompt_line(frame: &mut Frame, area: Rect, prefix: &str, editor: &LineEditor) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let row = Rect { height: 1, ..area };
    let lead = prefix.chars().count() as u16;
    let room = row.width.saturating_sub(lead) as usize;
    let (shown, cursor) = editor.window(room);
    frame.render_widget(Clear, row);
    frame.render_widget(Paragraph::new(format!("{prefix}{shown}")), row);
    let x = (row.x + lead + cursor as u16).min(row.right().saturating_sub(1));
    frame.set_cursor_position((x, row.y));
}

/// One entry per action, its keys joined ("j/↓"), laid out in two columns.
fn help(frame: &mut Frame, theme: &Theme) {
    let mut entries: Vec<(Action, String, &str)> = Vec::new();
    for b in DEFAULT_BINDINGS {
        match entries.iter_mut().find(|e| e.0 == b.action) {
            Some((_, keys, _)) => {
                keys.push('/');
                keys.push_str(label(b, theme.ascii));
            }
            None => entries.push((b.action, label(b, theme.ascii).to_string(), b.help)),
        }
    }
    let area = frame.area();
    let half = entries.len().div_ceil(2);
    let col_width = (area.width.saturating_sub(4) / 2) as usize; // inside the popup's borders
    let key_width = entries
        .iter()
        .map(|(_, k, _)| k.chars().count())
        .max()
        .unwrap_or(1);
    let cell = |i: usize| -> Vec<Span> {
        entries.get(i).map_or(Vec::new(), |(_, keys, help)| {
            // Two spaces always separate the left column's text from the right column's keys.
            let text_room = col_width.saturating_sub(key_width + 3);
            let help: String = help.chars().take(text_room).collect();
            let pad = col_width.saturating_sub(key_width + 1 + help.chars().count());
            vec![
                Span::styled(format!("{keys:<key_width$} "), theme.key()),
                Span::raw(help),
                Span::raw(" ".repeat(pad)),
            ]
        })
    };
    let lines: Vec<Line> = (0..half)
        .map(|row| {
            let mut spans = cell(row);
            spans.extend(cell(row + half));
            Line::from(spans)
        })
        .collect();
    let popup = centered(area, area.width.saturating_sub(2), half as u16 + 2);
    frame.render_widget(Clear, popup);
    let title = format!(" Keys {} ? or esc to close ", theme.dot());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border_set(true))
        .border_style(theme.border(true))
        .title(Span::styled(title, theme.title(true)));
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

fn confirm(frame: &mut Frame, app: &App, question: &Confirm, theme: &Theme) {
    let text = match question {
        Confirm::Kill(run) => {
            let what = app
                .snapshot
                .runs
                .iter()
                .find(|r| r.id == *run)
                .map(|r| match (&r.feature, &r.feature_name) {
                    (Some(f), Some(n)) => format!(" ({} #{f} {n})", r.role),
                    _ => format!(" ({})", r.role),
                })
                .unwrap_or_default();
            format!("Kill run {run}{what}? TERM, then KILL after the grace period.")
        }
        Confirm::Quit { live } => {
            format!("Quit? {live} live agent(s) will be stopped (TERM, grace, KILL).")
        }
    };
    let lines = vec![
        Line::raw(text.clone()),
        Line::raw(""),
        Line::from(vec![
            Span::styled("y", theme.key()),
            Span::raw(" yes   "),
            Span::styled("n", theme.key()),
            Span::raw(" no"),
        ]),
    ];
    let width = (text.chars().count() as u16 + 4).min(frame.area().width);
    let popup = centered(frame.area(), width, 5);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border_set(true))
        .border_style(theme.border(true))
        .title(Span::styled(" Confirm ", theme.title(true)));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        popup,
    );
}
