//! The hint bar. It fits its width by leaving out the least useful hints first rather than
//! cutting words in half.

use crate::api::BreakerState;
use crate::ui::app::App;
use crate::ui::keymap::{Action, hint_bar, hint_for};
use crate::ui::prompt::PromptKind;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Key hints generated from the keymap, then the latest message on the right. A message gets
/// room first (up to 60% of the line): optional hints are dropped from the end of the list to
/// make it, but help and quit always stay.
pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let room = area.width as usize;
    let message = if app.quitting {
        Some("stopping every agent...".to_string())
    } else {
        app.message
            .clone()
            .or_else(|| app.notice().map(String::from))
    };
    let wanted = message
        .as_ref()
        .map_or(0, |m| (m.chars().count() + 2).min(room * 6 / 10));
    let hint = |label: String, word: &str| {
        vec![
            Span::styled(label, theme.key()),
            Span::raw(format!(" {word}  ")),
        ]
    };
    // While a breaker waits for a login its key is what the user needs next: it is hinted in
    // every pane and never left out to make room.
    let login = app
        .snapshot
        .breakers
        .iter()
        .any(|b| b.auth && b.state != BreakerState::Closed);
    let must = |a: Action| {
        matches!(a, Action::Help | Action::Quit) || (login && a == Action::CloseBreaker)
    };
    let hints: Vec<(bool, Vec<Span>)> = match app.prompt().map(|p| p.kind) {
        // While a prompt is open the keymap does nothing: hint the prompt's own keys.
        Some(kind) => {
            let enter = match kind {
                PromptKind::Search => "search",
                PromptKind::Input(_) => "send",
                PromptKind::Filter => "filter",
                PromptKind::Reject(_) => "reject",
                PromptKind::Deny(_) => "deny",
            };
            [("enter", enter), ("esc", "cancel"), ("ctrl-u", "clear")]
                .into_iter()
                .map(|(k, w)| (true, hint(k.into(), w)))
                .collect()
        }
        // What works here: the open view's keys, or the focused pane's.
        None => {
            let mut bar = hint_bar(&app.keymap, app.context());
            if login
                && !bar.iter().any(|h| h.action == Action::CloseBreaker)
                && let Some(b) = hint_for(&app.keymap, app.context(), Action::CloseBreaker)
            {
                // Before help and quit, which end the bar.
                let at = bar
                    .iter()
                    .position(|h| h.action == Action::Help)
                    .unwrap_or(bar.len());
                bar.insert(at, b);
            }
            bar
        }
        .into_iter()
        .map(|h| {
            // Attached, `q` leaves the daemon's agents running: it detaches.
            let word = match h.action {
                Action::Quit if app.attached && !app.demo => "detach",
                _ => h.word,
            };
            (must(h.action), hint(h.keys, word))
        })
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
            let msg = super::truncate(&msg, free, theme.ascii);
            spans.push(Span::raw(
                " ".repeat(free.saturating_sub(Span::raw(msg.as_str()).width())),
            ));
            spans.push(Span::styled(msg, theme.accent()));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
