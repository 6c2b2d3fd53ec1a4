//! Popups drawn over the dashboard: help, y/n questions and the input prompt.

use crate::ui::app::{App, Confirm, Overlay};
use crate::ui::help::{HelpEntry, HelpSection, help_sections};
use crate::ui::keymap::{Action, key_of};
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
        Some(Overlay::Help) => help(frame, app, theme),
        Some(Overlay::Confirm(q)) => confirm(frame, app, q, theme),
        Some(Overlay::Notice(text)) => notice(frame, text, theme),
        Some(Overlay::Prompt(p)) => match p.kind {
            // These sit at the bottom of the Log and Features panes, drawn with them.
            PromptKind::Search | PromptKind::Filter => {}
            PromptKind::Input(_) | PromptKind::Reject(_) | PromptKind::Deny(_) => {
                let title = match p.kind {
                    PromptKind::Reject(f) => format!(" Reject feature {f}: what should change? "),
                    PromptKind::Deny(r) => format!(" Deny run {r}'s request: why? "),
                    PromptKind::Input(run) => format!(" Send to run {run} (stdin) "),
                    _ => String::new(),
                };
                let area = frame.area();
                let popup = centered(area, area.width.saturating_sub(4).min(64), 3);
                frame.render_widget(Clear, popup);
                let block = Block::default()
                    .borders(Borders::ALL)
                    .border_set(theme.border_set(true))
                    .border_style(theme.border(true))
                    .title(Span::styled(title, theme.title(true)));
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

/// Width of one help column: keys (9), a space, the text (26) and two spaces of gap.
const HELP_COLUMN: u16 = 38;

/// A row of the help: a section's title or one of its entries.
#[derive(Clone, Copy)]
enum HelpLine<'a> {
    Title(&'a str),
    Entry(&'a HelpEntry),
}

/// Sections of the help split into columns of at most `rows` lines, a section moved whole
/// to the next column when it does not fit in what is left (one taller than a column is
/// split). None if that takes more than `columns` columns.
fn pack(sections: &[HelpSection], columns: usize, rows: usize) -> Option<Vec<Vec<HelpLine<'_>>>> {
    let mut cols: Vec<Vec<HelpLine>> = vec![Vec::new()];
    for section in sections {
        let used = cols.last().map_or(0, Vec::len);
        if used > 0 && used + section.entries.len() + 1 > rows {
            cols.push(Vec::new());
        }
        let title = std::iter::once(HelpLine::Title(&section.title));
        for line in title.chain(section.entries.iter().map(HelpLine::Entry)) {
            if cols.last().map_or(0, Vec::len) >= rows {
                cols.push(Vec::new());
            }
            cols.last_mut().expect("never empty").push(line);
        }
    }
    (cols.len() <= columns).then_some(cols)
}

/// Every binding by scope, in as many columns of 38 cells as fit (up to three), scrolled
/// with j/k when even that is taller than the screen.
fn help(frame: &mut Frame, app: &App, theme: &Theme) {
    let sections = help_sections(&app.keymap, theme.ascii);
    let area = frame.area();
    let inner = area.width.saturating_sub(4); // the popup's margin and borders
    let columns = usize::from((inner / HELP_COLUMN).clamp(1, 3));
    let heights = sections.iter().map(|s| s.entries.len() + 1);
    let lines: usize = heights.clone().sum();
    // The fewest rows that hold every section in the columns there are, splitting none when
    // the tallest fits on the screen.
    let room = usize::from(area.height.saturating_sub(2));
    let tallest = heights.max().unwrap_or(0).min(room);
    let cols = (lines.div_ceil(columns).max(tallest)..=lines)
        .find_map(|rows| pack(&sections, columns, rows))
        .unwrap_or_default();
    let rows = cols.iter().map(Vec::len).max().unwrap_or(0);
    let key_width = 9;
    let width = HELP_COLUMN as usize;
    let cell = |line: Option<&HelpLine>| -> Vec<Span> {
        match line {
            Some(HelpLine::Entry(e)) => {
                let help: String = e.help.chars().take(width - key_width - 3).collect();
                let pad = width.saturating_sub(key_width + 1 + help.chars().count());
                vec![
                    Span::styled(format!("{:<key_width$} ", e.keys), theme.key()),
                    Span::raw(help),
                    Span::raw(" ".repeat(pad)),
                ]
            }
            Some(HelpLine::Title(t)) => vec![Span::styled(format!("{t:<width$}"), theme.accent())],
            None => vec![Span::raw(" ".repeat(width))],
        }
    };
    let body: Vec<Line> = (0..rows)
        .map(|row| {
            Line::from(
                cols.iter()
                    .flat_map(|c| cell(c.get(row)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let width = (cols.len() as u16 * HELP_COLUMN).min(inner) + 2;
    let popup = centered(area, width, rows as u16 + 2);
    let offset = app.help_scroll.fit(rows, popup.height.saturating_sub(2));
    frame.render_widget(Clear, popup);
    let dot = theme.dot();
    // The keys named in the title are the keymap's (remapped ones included).
    let key = |a: Action| key_of(&app.keymap, a).unwrap_or("?");
    let scroll = if app.help_scroll.scrolls() {
        format!(" {dot} {}/{} scroll", key(Action::Down), key(Action::Up))
    } else {
        String::new()
    };
    let title = format!(" Keys {dot} {} or esc to close{scroll} ", key(Action::Help));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border_set(true))
        .border_style(theme.border(true))
        .title(Span::styled(title, theme.title(true)));
    frame.render_widget(Paragraph::new(body).block(block).scroll((offset, 0)), popup);
}

/// A message in a box that stays until Enter or Esc.
fn notice(frame: &mut Frame, text: &str, theme: &Theme) {
    let width = (text.chars().count() as u16 + 4).min(frame.area().width);
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows = text.chars().count().div_ceil(inner) as u16;
    let popup = centered(frame.area(), width, rows + 4);
    frame.render_widget(Clear, popup);
    let lines = vec![
        Line::raw(text.to_string()),
        Line::raw(""),
        Line::from(vec![
            Span::styled("enter", theme.key()),
            Span::raw(" or "),
            Span::styled("esc", theme.key()),
            Span::raw(" to close"),
        ]),
    ];
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(theme.border_set(true))
        .border_style(theme.border(true))
        .title(Span::styled(" Note ", theme.title(true)));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(ratatui::widgets::Wrap { trim: true }),
        popup,
    );
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
        Confirm::Quit { live } if app.attached => format!(
            "Stop the daemon? {live} live agent(s) will be stopped (TERM, grace, KILL). \
             (q leaves them running.)"
        ),
        Confirm::Quit { live } => {
            format!("Quit? {live} live agent(s) will be stopped (TERM, grace, KILL).")
        }
        Confirm::QuitDemo { live } => format!(
            "Quit? The demo's daemon and its {live} live agent(s) will be stopped (TERM, grace, \
             KILL), or k keeps the demo running in the background."
        ),
        Confirm::Requeue(f) => format!(
            "Requeue {}? It goes back to ready (or blocked) with its attempts reset.",
            feature_name(app, *f)
        ),
        Confirm::Mark { feature, passing } => {
            let how = if *passing { "passing" } else { "failing" };
            format!("Mark {} {how} by hand?", feature_name(app, *feature))
        }
        Confirm::CancelJob(id) => cancel_question(app, *id),
    };
    let answers = match question {
        Confirm::QuitDemo { .. } => vec![
            Span::styled("y/enter", theme.key()),
            Span::raw(" stop it   "),
            Span::styled("k", theme.key()),
            Span::raw(" keep it running   "),
            Span::styled("n", theme.key()),
            Span::raw(" no"),
        ],
        _ => vec![
            Span::styled("y", theme.key()),
            Span::raw(" yes   "),
            Span::styled("n", theme.key()),
            Span::raw(" no"),
        ],
    };
    let lines = vec![Line::raw(text.clone()), Line::raw(""), Line::from(answers)];
    let width = (text.chars().count() as u16 + 4).min(frame.area().width);
    // On a narrow screen the question wraps: make room for every line of it.
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows = text.chars().count().div_ceil(inner) as u16;
    let popup = centered(frame.area(), width, rows + 4);
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

/// `#4 Cart totals`, or `#4` for a feature the snapshot no longer has.
fn feature_name(app: &App, id: crate::api::FeatureId) -> String {
    match app.snapshot.features.iter().find(|f| f.id == id) {
        Some(f) => format!("#{id} {}", f.name),
        None => format!("#{id}"),
    }
}

/// What cancelling does to this job: a running one loses its agent, a waiting one its place;
/// a coding job's feature then waits for a person (the core marks it failed).
fn cancel_question(app: &App, id: crate::api::JobId) -> String {
    let Some(job) = app.snapshot.jobs.iter().find(|j| j.id == id) else {
        return format!("Cancel job {id}?");
    };
    let what = match job.feature {
        Some(f) => format!(" ({} {})", job.role, feature_name(app, f)),
        None => format!(" ({})", job.role),
    };
    let how = if job.state == crate::api::JobState::Running {
        "Its agent is stopped (TERM, then KILL after the grace period)"
    } else {
        "It leaves the queue"
    };
    let then = if job.feature.is_some() && job.role == crate::api::Role::Coding {
        "; its feature waits for a person."
    } else {
        "."
    };
    format!("Cancel job {id}{what}? {how}{then}")
}
