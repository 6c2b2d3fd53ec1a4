//! The Log pane: the shown run's output with its colours, or corral's own log.

use super::overlay::prompt_line;
use super::pane_block;
use crate::api::{LogLine, Stream};
use crate::ui::app::App;
use crate::ui::log_view::parse_line;
use crate::ui::prompt::PromptKind;
use crate::ui::search::{Search, highlight};
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Turns one line of agent output into styled text. Colours (SGR) are kept; any other control
/// character is replaced so nothing an agent prints can move the cursor or clear the screen.
/// Search matches in it are highlighted, the current one (its index in the line) apart.
fn styled_line(line: &LogLine, app: &App, theme: &Theme, cursor: bool) -> Line<'static> {
    let mut text = if theme.ascii && app.log.shows_steps() {
        // A step row's own marks, in the glyphs the terminal has.
        parse_line(&line.text.replace('·', "-").replace('…', "..."))
    } else {
        parse_line(&line.text)
    };
    if !theme.color {
        for span in &mut text {
            span.style = Default::default();
        }
    }
    if let Some(search) = &app.log.search {
        let plain: String = text.iter().map(|s| s.content.as_ref()).collect();
        let current = search
            .current()
            .filter(|(seq, _)| *seq == line.seq)
            .map(|(_, k)| k);
        let ranges = search.ranges(&plain);
        text = highlight(
            text,
            &ranges,
            current,
            theme.search_hit(),
            theme.search_current(),
        );
    }
    let mut spans: Vec<Span<'static>> = Vec::with_capacity(text.len() + 1);
    if line.stream == Stream::Stderr {
        spans.push(Span::styled(
            if theme.ascii { "! " } else { "┃ " },
            theme.error(),
        ));
    }
    spans.extend(text);
    let line = Line::from(spans);
    if cursor {
        // The step `enter` opens.
        return line.patch_style(theme.selected());
    }
    line
}

/// `/query 3/17` for the title, or `/query no match`; long queries are cut.
fn search_title(search: &Search, theme: &Theme) -> String {
    let mut query: String = search.query().chars().take(20).collect();
    if query.len() < search.query().len() {
        query.push_str(if theme.ascii { "..." } else { "…" });
    }
    match search.position() {
        Some(at) => format!("/{query} {at}/{}", search.total()),
        None => format!("/{query} no match"),
    }
}

/// Attached to a daemon: its log above, this dashboard's own messages below.
fn draw_daemon_log(
    frame: &mut Frame,
    area: Rect,
    lines: &[String],
    theme: &Theme,
    focused: bool,
) -> Rect {
    use ratatui::layout::{Constraint, Layout};
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(65), Constraint::Percentage(35)]).areas(area);
    let block = pane_block(
        format!("daemon log {} L to return", theme.dot()),
        focused,
        theme,
    );
    let inner = block.inner(top);
    frame.render_widget(block, top);
    let shown: Vec<Line> = lines
        .iter()
        .skip(lines.len().saturating_sub(inner.height as usize))
        .map(|l| Line::from(crate::core::printable::printable(l, false).into_owned()))
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
    bottom
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    if app.show_app_log {
        // Records logged since the last frame reach the view only now (see crate::logging).
        crate::logging::show_pending();
        let (area, title) = match app.daemon_log.as_deref().filter(|_| app.attached) {
            Some(lines) => (
                draw_daemon_log(frame, area, lines, theme, focused),
                "this dashboard".to_string(),
            ),
            None => (area, format!("corral log {} L to return", theme.dot())),
        };
        let widget = tui_logger::TuiLoggerWidget::default()
            .block(pane_block(title, focused, theme))
            .output_timestamp(Some("%H:%M:%S".into()))
            .output_separator(' ')
            .output_target(false)
            .output_file(false)
            .output_line(false);
        frame.render_widget(widget, area);
        return;
    }
    let log = &app.log;
    let dot = theme.dot();
    let mut title = String::from("Log");
    if let Some(run) = app.snapshot.runs.iter().find(|r| Some(r.id) == log.run) {
        title.push_str(&format!(" {dot} run {} {dot} {}", run.id, run.role));
        if let Some(f) = run.feature {
            title.push_str(&format!(" #{f}"));
        }
        if let Some(name) = &run.feature_name {
            title.push_str(&format!(" {name}"));
        }
        if let Some(stats) = run.stats {
            title.push_str(&format!(" {dot} {}", super::format_bytes(stats.log_bytes)));
        }
    }
    if log.steps_known() {
        let view = if log.shows_steps() { "steps" } else { "raw" };
        title.push_str(&format!(" {dot} {view}"));
    }
    let mode = if log.follow { "follow" } else { "scrolled" };
    title.push_str(&format!(" {dot} {mode}"));
    if !log.follow && log.scroll_back > 0 {
        title.push_str(&format!(" +{}", log.scroll_back));
    }
    if log.wrap {
        title.push_str(&format!(" {dot} wrap"));
    }
    if let Some(search) = &log.search {
        title.push_str(&format!(" {dot} {}", search_title(search, theme)));
    }
    let block = pane_block(title, focused, theme);
    let mut inner = block.inner(area);
    frame.render_widget(block, area);
    // The search prompt takes the pane's last row while it is open.
    if let Some(prompt) = app.prompt().filter(|p| p.kind == PromptKind::Search) {
        let bottom = inner.height.saturating_sub(1);
        let row = Rect {
            y: inner.y + bottom,
            height: inner.height.min(1),
            ..inner
        };
        prompt_line(frame, row, "/", &prompt.editor);
        inner.height = bottom;
    }
    let height = inner.height as usize;
    let width = inner.width.max(1) as usize;
    log.page.set((height, width));
    let end = log.end(height);
    // Walk back from the last line shown until the pane is full (wrapped lines take more rows).
    let mut rows = 0;
    let mut start = end;
    let mut lines: Vec<Line> = Vec::new();
    while start > 0 && rows < height {
        let cursor = log.is_cursor_row(start - 1);
        let line = styled_line(&log.lines[start - 1], app, theme, cursor);
        rows += if log.wrap {
            line.width().max(1).div_ceil(width)
        } else {
            1
        };
        lines.push(line);
        start -= 1;
    }
    lines.reverse();
    if lines.is_empty() {
        let hint = if log.run.is_some() {
            "no output yet"
        } else {
            "select an agent to see its output"
        };
        lines.push(Line::styled(hint, theme.dim()));
    }
    // When wrapped rows overflow, skip the top rows so the newest line stays in view.
    let overflow = rows.saturating_sub(height) as u16;
    let mut para = Paragraph::new(lines);
    if log.wrap {
        para = para.wrap(Wrap { trim: false }).scroll((overflow, 0));
    }
    frame.render_widget(para, inner);
}
