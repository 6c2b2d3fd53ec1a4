//! The Log pane: the shown run's output with its colours, or corral's own log.

use super::pane_block;
use crate::api::{LogLine, Stream};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ansi_to_tui::IntoText;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// Turns one line of agent output into styled text. Colours (SGR) are kept; any other control
/// character is replaced so nothing an agent prints can move the cursor or clear the screen.
pub fn styled_line(line: &LogLine, theme: &Theme) -> Line<'static> {
    let parsed = line
        .text
        .as_bytes()
        .into_text()
        .ok()
        .and_then(|t| t.lines.into_iter().next())
        .unwrap_or_else(|| Line::raw(line.text.clone()));
    let mut spans: Vec<Span<'static>> = Vec::with_capacity(parsed.spans.len() + 1);
    if line.stream == Stream::Stderr {
        spans.push(Span::styled(
            if theme.ascii { "! " } else { "┃ " },
            theme.error(),
        ));
    }
    for span in parsed.spans {
        let clean: String = span
            .content
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let style = if theme.color {
            span.style
        } else {
            Default::default()
        };
        spans.push(Span::styled(clean, style));
    }
    Line::from(spans)
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    if app.show_app_log {
        let widget = tui_logger::TuiLoggerWidget::default()
            .block(pane_block(
                format!("corral log {} L to return", theme.dot()),
                focused,
                theme,
            ))
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
    }
    let mode = if log.follow { "follow" } else { "scrolled" };
    title.push_str(&format!(" {dot} {mode}"));
    if !log.follow {
        title.push_str(&format!(" +{}", log.scroll_back));
    }
    if log.wrap {
        title.push_str(&format!(" {dot} wrap"));
    }
    let block = pane_block(title, focused, theme);
    let inner = block.inner(area);
    let height = inner.height as usize;
    let width = inner.width.max(1) as usize;
    // Scrolled to the top, the pane still shows a full page: the first line sits at the top.
    let len = log.lines.len();
    let end = len.saturating_sub(log.scroll_back).max(height.min(len));
    // Walk back from the last line shown until the pane is full (wrapped lines take more rows).
    let mut rows = 0;
    let mut start = end;
    let mut lines: Vec<Line> = Vec::new();
    while start > 0 && rows < height {
        let line = styled_line(&log.lines[start - 1], theme);
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
    let mut para = Paragraph::new(lines).block(block);
    if log.wrap {
        para = para.wrap(Wrap { trim: false }).scroll((overflow, 0));
    }
    frame.render_widget(para, area);
}
