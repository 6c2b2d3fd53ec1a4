//! The header line and the hint bar. Both fit their width by leaving out the least useful
//! parts first rather than cutting words in half.

use crate::api::{FeatureStatus, RunState};
use crate::ui::app::App;
use crate::ui::keymap::{Action, DEFAULT_BINDINGS, hints};
use crate::ui::prompt::PromptKind;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

pub fn header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let s = &app.snapshot;
    let t = &s.totals;
    let pct = (t.passing * 100).checked_div(t.features).unwrap_or(0);
    let (full, empty, open, close) = theme.gauge_parts();
    let cells = 10;
    let filled = (t.passing * cells).checked_div(t.features).unwrap_or(0);
    let gauge = format!(
        "{open}{}{}{close} ",
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
    let sep = || Span::styled(format!(" {} ", theme.dash()), theme.dim());
    let full_path = s.project.display().to_string();
    let short_path = s
        .project
        .file_name()
        .map_or(full_path.clone(), |n| n.to_string_lossy().into_owned());

    let build = |path: &str, with_gauge: bool, with_extras: bool| {
        let mut spans = vec![
            Span::styled(" corral ", theme.accent()),
            Span::raw(path.to_string()),
            sep(),
            Span::raw(format!("{}/{} passing ", t.passing, t.features)),
        ];
        if with_gauge {
            spans.push(Span::styled(gauge.clone(), theme.good()));
        }
        spans.push(Span::raw(format!("{pct}%")));
        spans.push(sep());
        spans.push(Span::raw(format!(
            "agents {}/{}",
            t.live_agents, s.max_agents
        )));
        if paused > 0 {
            spans.push(Span::raw(format!(" ({paused} paused)")));
        }
        if with_extras {
            spans.push(sep());
            spans.push(Span::raw(format!("ready {ready}")));
            if t.live_agents > 0 {
                spans.push(sep());
                spans.push(Span::raw(format!(
                    "cpu {} mem {}",
                    super::format_cpu(t.cpu_tenths),
                    super::format_bytes(t.rss_bytes)
                )));
            }
        }
        if s.scheduler_paused {
            spans.push(sep());
            spans.push(Span::styled("scheduler paused", theme.error()));
        }
        spans
    };
    let room = area.width as usize;
    let spans = [
        (full_path.as_str(), true, true),
        (short_path.as_str(), true, true),
        (short_path.as_str(), false, true),
        (short_path.as_str(), false, false),
    ]
    .into_iter()
    .map(|(p, g, e)| build(p, g, e))
    .find(|spans| width(spans) <= room)
    .unwrap_or_else(|| build(&short_path, false, false));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Key hints generated from the keymap, then the latest message on the right. A message gets
/// room first (up to 60% of the line): optional hints are dropped from the end of the list to
/// make it, but help and quit always stay.
pub fn footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let room = area.width as usize;
    let message = if app.quitting {
        Some("stopping every agent...".to_string())
    } else {
        app.message.clone().or_else(|| app.snapshot.notice.clone())
    };
    let wanted = message
        .as_ref()
        .map_or(0, |m| (m.chars().count() + 2).min(room * 6 / 10));
    let hint = |label: &'static str, word: &str| {
        vec![
            Span::styled(label, theme.key()),
            Span::raw(format!(" {word}  ")),
        ]
    };
    let must = |a: Action| matches!(a, Action::Help | Action::Quit);
    let hints: Vec<(bool, Vec<Span>)> = match app.prompt().map(|p| p.kind) {
        // While a prompt is open the keymap does nothing: hint the prompt's own keys.
        Some(kind) => {
            let enter = match kind {
                PromptKind::Search => "search",
                PromptKind::Input(_) => "send",
                PromptKind::Filter => "filter",
            };
            [("enter", enter), ("esc", "cancel"), ("ctrl-u", "clear")]
                .into_iter()
                .map(|(k, w)| (true, hint(k, w)))
                .collect()
        }
        // What works here: the open view's keys, or the focused pane's.
        None => hints(DEFAULT_BINDINGS, app.context())
            .into_iter()
            .filter_map(|b| b.hint.map(|w| (must(b.action), hint(b.label, w))))
            .collect(),
    };
    let mut keep: Vec<bool> = vec![true; hints.len()];
    let total = |keep: &[bool]| -> usize {
        1 + hints
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(h, _)| width(&h.1))
            .sum::<usize>()
    };
    for i in (0..hints.len()).rev() {
        if total(&keep) + wanted <= room {
            break;
        }
        if !hints[i].0 {
            keep[i] = false;
        }
    }
    let mut spans = vec![Span::raw(" ")];
    for ((_, h), k) in hints.into_iter().zip(&keep) {
        if *k {
            spans.extend(h);
        }
    }
    if let Some(msg) = message {
        let free = room.saturating_sub(width(&spans) + 1);
        if free >= 8 {
            let msg: String = if msg.chars().count() > free {
                let mut cut: String = msg.chars().take(free.saturating_sub(3)).collect();
                cut.push_str("...");
                cut
            } else {
                msg
            };
            spans.push(Span::raw(
                " ".repeat(free.saturating_sub(msg.chars().count())),
            ));
            spans.push(Span::styled(msg, theme.accent()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
