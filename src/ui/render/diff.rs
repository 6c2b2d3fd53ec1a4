//! The diff view: a summary, each file with its added and removed lines, then the patch
//! coloured by line kind (from the theme, so NO_COLOR shows it plain).

use super::pane_block;
use crate::ui::diff_view::DiffView;
use crate::ui::log_view::plain_text;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

pub fn draw(frame: &mut Frame, area: Rect, view: &DiffView, theme: &Theme) {
    let dot = theme.dot();
    let mut title = format!("Diff #{}", view.feature);
    let mut lines: Vec<Line> = Vec::new();
    match &view.diff {
        None => lines.push(Line::styled("reading the diff…", theme.dim())),
        Some(None) => lines.push(Line::styled(
            "no worktree for this feature: it gets one when a coding run starts with \
             [git] worktrees = true",
            theme.dim(),
        )),
        Some(Some(d)) => {
            title.push_str(&format!(" {dot} {} → {}", d.branch, d.base));
            let added: u64 = d.files.iter().filter_map(|f| f.added).sum();
            let removed: u64 = d.files.iter().filter_map(|f| f.removed).sum();
            let n = d.files.len();
            let mut summary = vec![
                Span::raw(format!("{n} file{} ", if n == 1 { "" } else { "s" })),
                Span::styled(format!("+{added}"), theme.good()),
                Span::raw(" "),
                Span::styled(format!("-{removed}"), theme.error()),
            ];
            if !d.merge_state.is_empty() {
                let note = if d.merge_note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", plain_text(&d.merge_note))
                };
                summary.push(Span::styled(
                    format!("  {dot} {}{note}", d.merge_state),
                    theme.accent(),
                ));
            }
            lines.push(Line::from(summary));
            for f in &d.files {
                let count =
                    |n: Option<u64>, sign: char| n.map_or("bin".into(), |n| format!("{sign}{n}"));
                lines.push(Line::from(vec![
                    Span::styled(format!("{:>7}", count(f.added, '+')), theme.good()),
                    Span::styled(format!("{:>7}", count(f.removed, '-')), theme.error()),
                    Span::raw(format!("  {}", plain_text(&f.path))),
                ]));
            }
            lines.push(Line::raw(""));
            for l in &d.patch {
                let text = plain_text(l);
                let style = if l.starts_with("diff --git ") {
                    theme.accent()
                } else if l.starts_with("@@") {
                    theme.key()
                } else if l.starts_with("+++") || l.starts_with("---") || l.starts_with("index ") {
                    theme.dim()
                } else if l.starts_with('+') {
                    theme.good()
                } else if l.starts_with('-') {
                    theme.error()
                } else {
                    ratatui::style::Style::default()
                };
                lines.push(Line::styled(text, style));
            }
        }
    }
    let inner_height = area.height.saturating_sub(2);
    let offset = view.scroll.fit(lines.len(), inner_height);
    if view.scroll.scrolls() {
        title.push_str(&format!(" {dot} j/k scroll {dot} n/N file"));
    }
    title.push_str(&format!(" {dot} esc to close"));
    let para = Paragraph::new(lines)
        .block(pane_block(title, true, theme))
        .scroll((offset, 0));
    frame.render_widget(para, area);
}
