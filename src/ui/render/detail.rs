//! The feature detail view: what the snapshot says of the feature (always current), then its
//! text, dependency chain and runs from the [`FeatureDetail`] the event loop read.

use super::tables::state_text;
use super::{format_spend, format_spent, format_uptime, pane_block};
use crate::api::{FeatureDetail, FeatureId, FeatureStatus, RunSummary};
use crate::ui::app::App;
use crate::ui::detail::{DetailView, Loaded};
use crate::ui::log_view::plain_text;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

/// Cells before a field's value: "last error" and a space.
const LABEL: usize = 11;

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    view: &DetailView,
    theme: &Theme,
    now_ms: i64,
) {
    let id = view.feature;
    let found = match &view.detail {
        Loaded::Found(d) => Some(d.as_ref()),
        _ => None,
    };
    let live = app.snapshot.features.iter().find(|f| f.id == id);
    let name = live
        .map(|f| f.name.as_str())
        .or(found.map(|d| d.name.as_str()));
    let dot = theme.dot();
    let mut title = format!("#{id} {}", name.unwrap_or("?"));
    // Inside the borders; never so narrow that the label leaves no room.
    let width = (area.width.saturating_sub(2) as usize).max(20);

    let mut lines: Vec<Line> = Vec::new();
    let field = |lines: &mut Vec<Line>, label: &str, value: Vec<Span<'static>>| {
        let mut spans = vec![Span::styled(format!("{label:<LABEL$}"), theme.dim())];
        spans.extend(value);
        lines.push(Line::from(spans));
    };
    let status = live.map(|f| f.status).or(found.map(|d| d.status));
    let category = live
        .map(|f| f.category.clone())
        .or(found.map(|d| d.category.clone()));
    let priority = live.map(|f| f.priority).or(found.map(|d| d.priority));
    let attempts = live.map(|f| f.attempts).or(found.map(|d| d.attempts));
    field(
        &mut lines,
        "name",
        vec![Span::raw(name.unwrap_or("?").to_string())],
    );
    field(
        &mut lines,
        "category",
        vec![Span::raw(category.unwrap_or_default())],
    );
    if let Some(s) = status {
        field(&mut lines, "status", status_spans(s, theme));
    }
    if let Some(p) = priority {
        field(
            &mut lines,
            "priority",
            vec![Span::raw(format!("{p} (lower starts sooner)"))],
        );
    }
    if let Some(a) = attempts {
        field(&mut lines, "attempts", vec![Span::raw(a.to_string())]);
    }
    // Every run's spend on this feature, from the snapshot (the detail has no total).
    if let Some(u) = live.map(|f| f.usage).filter(|u| !u.is_empty()) {
        field(&mut lines, "spent", vec![Span::raw(format_spent(&u, dot))]);
    }
    let d = match &view.detail {
        Loaded::Found(d) => d,
        Loaded::Waiting => {
            lines.push(Line::raw(""));
            lines.push(Line::styled("reading the feature...", theme.dim()));
            return finish(frame, area, view, lines, title, theme);
        }
        Loaded::Missing => {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("corral could not read feature #{id}"),
                theme.error(),
            ));
            return finish(frame, area, view, lines, title, theme);
        }
    };
    let error = d.last_error.as_deref().unwrap_or("-");
    for (i, row) in wrap(&plain_text(error), width - LABEL)
        .into_iter()
        .enumerate()
    {
        let label = if i == 0 { "last error" } else { "" };
        let style = if d.last_error.is_some() {
            theme.error()
        } else {
            Style::default()
        };
        field(&mut lines, label, vec![Span::styled(row, style)]);
    }
    heading(&mut lines, "Description", theme);
    for row in text_lines(&d.description, width - 2) {
        lines.push(Line::raw(format!("  {row}")));
    }
    heading(&mut lines, "Steps", theme);
    if d.steps.is_empty() {
        lines.push(Line::styled("  none", theme.dim()));
    }
    let digits = d.steps.len().to_string().len();
    for (n, step) in d.steps.iter().enumerate() {
        let lead = format!("  {:>digits$}. ", n + 1);
        let pad = " ".repeat(lead.chars().count());
        for (i, row) in text_lines(step, width - lead.len()).into_iter().enumerate() {
            let lead = if i == 0 { lead.clone() } else { pad.clone() };
            lines.push(Line::from(vec![
                Span::styled(lead, theme.dim()),
                Span::raw(row),
            ]));
        }
    }
    heading(&mut lines, "Depends on, nearest first", theme);
    chain(&mut lines, app, &d.dependency_chain, theme);
    heading(&mut lines, "Runs, newest first", theme);
    runs(&mut lines, d, theme, now_ms);
    let n = d.runs.len();
    title.push_str(&format!(" {dot} {n} run{}", if n == 1 { "" } else { "s" }));
    finish(frame, area, view, lines, title, theme)
}

/// Frames the lines, scrolled, with the title and how to scroll and close.
fn finish(
    frame: &mut Frame,
    area: Rect,
    view: &DetailView,
    lines: Vec<Line>,
    mut title: String,
    theme: &Theme,
) {
    let dot = theme.dot();
    let inner_height = area.height.saturating_sub(2);
    let offset = view.scroll.fit(lines.len(), inner_height);
    if view.scroll.scrolls() {
        title.push_str(&format!(" {dot} j/k scroll"));
    }
    title.push_str(&format!(" {dot} esc to close"));
    let para = Paragraph::new(lines)
        .block(pane_block(title, true, theme))
        .scroll((offset, 0));
    frame.render_widget(para, area);
}

fn heading(lines: &mut Vec<Line>, text: &'static str, theme: &Theme) {
    lines.push(Line::raw(""));
    lines.push(Line::styled(text, theme.accent()));
}

fn status_spans(status: FeatureStatus, theme: &Theme) -> Vec<Span<'static>> {
    let style = theme.feature_style(status);
    vec![
        Span::styled(theme.feature_glyph(status), style),
        Span::styled(format!(" {}", status.as_str().replace('_', " ")), style),
    ]
}

/// Each feature waited on, with its status as the snapshot has it now.
fn chain(lines: &mut Vec<Line>, app: &App, chain: &[FeatureId], theme: &Theme) {
    if chain.is_empty() {
        lines.push(Line::styled("  nothing", theme.dim()));
    }
    for dep in chain {
        let mut spans = vec![Span::raw("  ")];
        match app.snapshot.features.iter().find(|f| f.id == *dep) {
            Some(f) => {
                let style = theme.feature_style(f.status);
                spans.push(Span::styled(theme.feature_glyph(f.status), style));
                spans.push(Span::raw(format!(" #{dep} {}  ", f.name)));
                spans.push(Span::styled(f.status.as_str().replace('_', " "), style));
            }
            None => spans.push(Span::styled(
                format!("? #{dep} (not in the backlog)"),
                theme.dim(),
            )),
        }
        lines.push(Line::from(spans));
    }
}

fn runs(lines: &mut Vec<Line>, d: &FeatureDetail, theme: &Theme, now_ms: i64) {
    if d.runs.is_empty() {
        lines.push(Line::styled("  none yet", theme.dim()));
        return;
    }
    lines.push(Line::styled(
        format!(
            "  {:<6}{:<11}{:<13}{:<6}{:<12}{:<8}{}",
            "run", "profile", "state", "exit", "started", "took", "spent"
        ),
        theme.dim(),
    ));
    for r in &d.runs {
        lines.push(run_line(r, theme, now_ms));
    }
}

fn run_line(r: &RunSummary, theme: &Theme, now_ms: i64) -> Line<'static> {
    let profile: String = r.profile.chars().take(10).collect();
    let exit = r.exit_code.map_or("-".into(), |c| c.to_string());
    let started = format!("{} ago", format_uptime(now_ms - r.started_at_ms));
    let spent = r.usage.as_ref().and_then(format_spend).unwrap_or_default();
    let took = match r.finished_at_ms {
        Some(end) => format_uptime(end - r.started_at_ms),
        None if r.state.is_live() => format!("{}...", format_uptime(now_ms - r.started_at_ms)),
        None => "-".into(),
    };
    Line::from(vec![
        // Ids are padded as strings: their Display ignores width.
        Span::raw(format!("  {:<6}{profile:<11}", r.id.to_string())),
        Span::styled(
            format!("{:<13}", state_text(r.state)),
            theme.run_state(r.state),
        ),
        Span::raw(format!("{exit:<6}{started:<12}{took:<8}{spent}")),
    ])
}

/// Text as the view shows it: colours and control characters out, each line wrapped.
fn text_lines(text: &str, width: usize) -> Vec<String> {
    if text.trim().is_empty() {
        return vec!["-".into()];
    }
    text.lines()
        .flat_map(|line| wrap(&plain_text(line), width))
        .collect()
}

/// Splits one line into rows of at most `width` cells at spaces; a word longer than a row
/// is cut. An empty line stays one empty row.
pub fn wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let cells = |s: &str| Span::raw(s).width();
    let mut rows = vec![String::new()];
    for word in line.split_whitespace() {
        let row = rows.last_mut().expect("never empty");
        let sep = usize::from(!row.is_empty());
        if cells(row) + sep + cells(word) <= width {
            if sep == 1 {
                row.push(' ');
            }
            row.push_str(word);
            continue;
        }
        if !row.is_empty() {
            rows.push(String::new());
        }
        for c in word.chars() {
            let row = rows.last_mut().expect("never empty");
            if cells(row) + cells(c.encode_utf8(&mut [0; 4])) > width {
                rows.push(String::new());
            }
            rows.last_mut().expect("never empty").push(c);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij xy", 4), ["abcd", "efgh", "ij", "xy"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("日本語", 4), ["日本", "語"]);
    }
}
