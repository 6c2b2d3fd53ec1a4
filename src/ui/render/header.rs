//! The header line: where corral is and how far the backlog is, then what needs attention
//! (breakers, a paused scheduler, money spent). It fits its width by leaving out the least
//! useful parts first rather than cutting words in half; what needs a person goes last.

use super::{format_bytes, format_countdown, format_cpu, format_spend, truncate};
use crate::api::{BreakerState, FeatureStatus, RunState, Usage};
use crate::ui::app::App;
use crate::ui::theme::Theme;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// How much of the counts part to show; each step leaves out more.
#[derive(Clone, Copy)]
struct Parts {
    full_path: bool,
    gauge: bool,
    /// Ready features and the live agents' cpu and memory.
    extras: bool,
    /// "(1 paused)" after the agents, and "passing" after the count.
    words: bool,
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let room = area.width as usize;
    let alerts = Alerts::new(app, theme);
    let sep = || Span::styled(format!(" {} ", theme.dash()), theme.dim());
    let with = |mut spans: Vec<Span<'static>>, alerts: Vec<Span<'static>>| {
        for alert in alerts {
            spans.push(sep());
            spans.push(alert);
        }
        spans
    };
    let parts = |full_path, gauge, extras, words| Parts {
        full_path,
        gauge,
        extras,
        words,
    };
    let mut tries: Vec<Vec<Span>> = [
        parts(true, true, true, true),
        parts(false, true, true, true),
        parts(false, false, true, true),
        parts(false, false, false, true),
        parts(false, false, false, false),
    ]
    .into_iter()
    .map(|d| with(counts(app, theme, d), alerts.all()))
    .collect();
    // Too narrow for the counts and the alerts: the alerts win (a breaker waiting for a
    // login stops work until someone acts), fewer of them as room runs out, and the most
    // urgent one alone, cut at the edge, if even that does not fit.
    let corral = || vec![Span::styled(" corral", theme.accent())];
    if !alerts.is_empty() {
        tries.extend(alerts.fewer().into_iter().map(|a| with(corral(), a)));
        tries.push(alerts.most_urgent().into_iter().collect());
    }
    let last = tries.last().cloned().unwrap_or_default();
    let spans = tries
        .into_iter()
        .find(|spans| width(spans) <= room)
        .unwrap_or_else(|| cut_spans(last, room, theme.ascii));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// " corral ~/src/shop ─ 2/6 passing ▕███░░░░░░░▏ 33% ─ agents 2/3 (1 paused) ─ ready 0 ─ cpu…"
fn counts(app: &App, theme: &Theme, d: Parts) -> Vec<Span<'static>> {
    let s = &app.snapshot;
    let t = &s.totals;
    let sep = || Span::styled(format!(" {} ", theme.dash()), theme.dim());
    let pct = (t.passing * 100).checked_div(t.features).unwrap_or(0);
    let path = if d.full_path {
        s.project.display().to_string()
    } else {
        s.project.file_name().map_or_else(
            || s.project.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let passing = if d.words { " passing" } else { "" };
    let mut spans = vec![
        Span::styled(" corral ", theme.accent()),
        Span::raw(path),
        sep(),
        Span::raw(format!("{}/{}{passing} ", t.passing, t.features)),
    ];
    if d.gauge {
        let (full, empty, open, close) = theme.gauge_parts();
        let cells = 10;
        let filled = (t.passing * cells).checked_div(t.features).unwrap_or(0);
        spans.push(Span::styled(
            format!(
                "{open}{}{}{close} ",
                full.repeat(filled),
                empty.repeat(cells - filled)
            ),
            theme.good(),
        ));
    }
    spans.push(Span::raw(format!("{pct}%")));
    spans.push(sep());
    spans.push(Span::raw(format!(
        "agents {}/{}",
        t.live_agents, s.max_agents
    )));
    let paused = s
        .runs
        .iter()
        .filter(|r| r.state == RunState::Paused)
        .count();
    if paused > 0 && d.words {
        spans.push(Span::raw(format!(" ({paused} paused)")));
    }
    // Runs waiting for a person always show: they are why someone looks.
    let waiting = s
        .runs
        .iter()
        .filter(|r| r.state.is_live() && r.waiting.is_some())
        .count();
    if waiting > 0 {
        spans.push(sep());
        spans.push(Span::styled(
            format!("{waiting} need you (!)"),
            theme.warn(),
        ));
    }
    if d.extras {
        let ready = s
            .features
            .iter()
            .filter(|f| f.status == FeatureStatus::Ready)
            .count();
        spans.push(sep());
        spans.push(Span::raw(format!("ready {ready}")));
        if t.live_agents > 0 {
            spans.push(sep());
            spans.push(Span::raw(format!(
                "cpu {} mem {}",
                format_cpu(t.cpu_tenths),
                format_bytes(t.rss_bytes)
            )));
        }
    }
    spans
}

/// What needs attention, in the order the header shows it: breakers waiting for a login
/// (with how to give them one), other open breakers with their countdowns, a paused
/// scheduler, then what was spent (against the budget, coloured as it runs out).
struct Alerts {
    logins: Vec<Span<'static>>,
    breakers: Vec<Span<'static>>,
    /// The other breakers in one short span, for when each in full does not fit.
    breakers_short: Option<Span<'static>>,
    paused: Option<Span<'static>>,
    spend: Option<Span<'static>>,
}

impl Alerts {
    fn new(app: &App, theme: &Theme) -> Alerts {
        let s = &app.snapshot;
        let mark = theme.breaker_glyph();
        let (auth, timed): (Vec<_>, Vec<_>) = s
            .breakers
            .iter()
            .filter(|b| b.state != BreakerState::Closed)
            .partition(|b| b.auth);
        let dash = if theme.ascii { "-" } else { "—" };
        let logins = auth
            .iter()
            .map(|b| {
                let how = b
                    .login_hint
                    .as_deref()
                    .unwrap_or("log in again, then press b");
                Span::styled(
                    format!("{mark} {}: login needed {dash} {how}", b.account),
                    theme.warn().add_modifier(Modifier::BOLD),
                )
            })
            .collect();
        let breakers = timed
            .iter()
            .map(|b| {
                let state = match (b.state, b.until_ms) {
                    (BreakerState::HalfOpen, _) => "half-open".to_string(),
                    (_, Some(t)) => format_countdown(t, app.now_ms)
                        .map_or("open".into(), |left| format!("open {left}")),
                    _ => "open".to_string(),
                };
                Span::styled(format!("{mark} {} {state}", b.account), theme.warn())
            })
            .collect();
        let breakers_short = match timed.len() {
            0 => None,
            n => Some(Span::styled(
                format!("{mark} {n} breaker{} open", if n == 1 { "" } else { "s" }),
                theme.warn(),
            )),
        };
        let paused = s
            .scheduler_paused
            .then(|| Span::styled("scheduler paused", theme.error()));
        Alerts {
            logins,
            breakers,
            breakers_short,
            paused,
            spend: spend(app, theme),
        }
    }

    fn is_empty(&self) -> bool {
        self.all().is_empty()
    }

    fn all(&self) -> Vec<Span<'static>> {
        let mut all = self.logins.clone();
        all.extend(self.breakers.iter().cloned());
        all.extend(self.paused.clone());
        all.extend(self.spend.clone());
        all
    }

    /// Shorter and shorter sets: the breakers summed up, then without them.
    fn fewer(&self) -> Vec<Vec<Span<'static>>> {
        let with = |breakers: Option<Span<'static>>| {
            let mut set = self.logins.clone();
            set.extend(breakers);
            set.extend(self.paused.clone());
            set.extend(self.spend.clone());
            set
        };
        vec![self.all(), with(self.breakers_short.clone()), with(None)]
    }

    /// The one alert to show when nothing else fits, with a space before it.
    fn most_urgent(&self) -> Option<Span<'static>> {
        let first = self.all().into_iter().next()?;
        Some(Span::styled(format!(" {}", first.content), first.style))
    }
}

/// `$1.23`, or `$1.23/$25.00` against a budget: the warning colour from 80% of it, the
/// error colour once it is spent. Tokens when the agents reported no price.
fn spend(app: &App, theme: &Theme) -> Option<Span<'static>> {
    let t = &app.snapshot.totals;
    let spent = format_spend(&t.usage)?;
    Some(match (t.usage.cost_micros, t.budget_micros) {
        (Some(cost), Some(budget)) => {
            let style = if cost >= budget {
                theme.error()
            } else if cost.saturating_mul(5) >= budget.saturating_mul(4) {
                theme.warn()
            } else {
                Style::default()
            };
            Span::styled(format!("{spent}/{}", Usage::format_usd(budget)), style)
        }
        _ => Span::raw(spent),
    })
}

/// The spans cut to `room` cells, the last one kept ending in an ellipsis.
fn cut_spans(spans: Vec<Span<'static>>, room: usize, ascii: bool) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut used = 0;
    for span in spans {
        let w = span.width();
        if used + w <= room {
            used += w;
            out.push(span);
            continue;
        }
        let text = truncate(&span.content, room - used, ascii);
        out.push(Span::styled(text, span.style));
        break;
    }
    out
}
