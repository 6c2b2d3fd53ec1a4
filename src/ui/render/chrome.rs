//! The header line and the hint bar.

use crate::api::{FeatureStatus, RunState};
use crate::ui::app::App;
use crate::ui::keymap::DEFAULT_BINDINGS;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

const SEP: &str = " ─ ";

pub fn header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.snapshot;
    let t = &s.totals;
    let pct = (t.passing * 100).checked_div(t.features).unwrap_or(0);
    let (full, empty, open, close) = theme.gauge_parts();
    let cells = 10;
    let filled = (t.passing * cells).checked_div(t.features).unwrap_or(0);
    let gauge = format!(
        "{open}{}{}{close}",
        full.repeat(filled),
        empty.repeat(cells - filled)
    );
    let ready = s
        .features
        .iter()
        .filter(|f| f.status == FeatureStatus::Ready)
        .count();
    let paused = s
        .runs
        .iter()
        .filter(|r| r.state == RunState::Paused)
        .count();
    let mut spans = vec![
        Span::styled(" corral ", theme.accent()),
        Span::raw(s.project.display().to_string()),
        Span::styled(SEP, theme.dim()),
        Span::raw(format!("{}/{} passing ", t.passing, t.features)),
        Span::styled(gauge, theme.good()),
        Span::raw(format!(" {pct}%")),
        Span::styled(SEP, theme.dim()),
        Span::raw(format!("agents {}/{}", t.live_agents, s.max_agents)),
    ];
    if paused > 0 {
        spans.push(Span::raw(format!(" ({paused} paused)")));
    }
    spans.push(Span::styled(SEP, theme.dim()));
    spans.push(Span::raw(format!("ready {ready}")));
    spans.push(Span::styled(SEP, theme.dim()));
    if s.scheduler_paused {
        spans.push(Span::styled("scheduler paused", theme.error()));
    } else {
        spans.push(Span::raw("scheduler on"));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Key hints generated from the keymap, then the latest message on the right.
pub fn footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for b in DEFAULT_BINDINGS {
        if let Some(word) = b.hint {
            spans.push(Span::styled(b.label, theme.key()));
            spans.push(Span::raw(format!(" {word}  ")));
        }
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let message = if app.quitting {
        Some("stopping every agent…".to_string())
    } else {
        app.message.clone().or_else(|| app.snapshot.notice.clone())
    };
    if let Some(msg) = message {
        let room = (area.width as usize).saturating_sub(used + 1);
        if room >= 12 {
            let msg: String = msg.chars().take(room).collect();
            let pad = room.saturating_sub(msg.chars().count());
            spans.push(Span::raw(" ".repeat(pad)));
            spans.push(Span::styled(msg, theme.dim()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
