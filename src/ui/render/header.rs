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
    let lines: Vec<Line> = lines(app, theme, area.width as usize)
        .into_iter()
        .map(Line::from)
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
}

/// How many rows the header takes at `width`: two when what needs attention does not fit
/// beside the counts.
pub fn rows(app: &App, theme: &Theme, width: u16) -> u16 {
    lines(app, theme, width as usize).len().clamp(1, 2) as u16
}

/// The header's lines: the counts and the alerts on one line when they fit; otherwise the
/// counts (the project and how far the backlog is always show) and the alerts on a second
/// line, fewer of them as room runs out, the most urgent one cut at the edge if even that
/// does not fit.
fn lines(app: &App, theme: &Theme, room: usize) -> Vec<Vec<Span<'static>>> {
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
    let details = [
        parts(true, true, true, true),
        parts(false, true, true, true),
        parts(false, false, true, true),
        parts(false, false, false, true),
        parts(false, false, false, false),
    ];
    let fitting = |tries: Vec<Vec<Span<'static>>>| {
        let last = tries.last().cloned().unwrap_or_default();
        tries
            .into_iter()
            .find(|spans| width(spans) <= room)
            .unwrap_or_else(|| cut_spans(last, room, theme.ascii))
    };
    // Beside the counts, while the counts keep at least their shortest form.
    let one_line = details
        .iter()
        .map(|d| with(counts(app, theme, *d), alerts.all()))
        .find(|spans| width(spans) <= room);
    if let Some(spans) = one_line {
        return vec![spans];
    }
    let counts_line = fitting(details.iter().map(|d| counts(app, theme, *d)).collect());
    if alerts.is_empty() {
        return vec![counts_line];
    }
    // Below them: every alert if they fit, fewer as room runs out (a breaker waiting for
    // a login goes last), and the most urgent one alone, cut at the edge.
    let lead = || vec![Span::raw(" ")];
    let join = |set: Vec<Span<'static>>| {
        let mut spans = lead();
        for (i, alert) in set.into_iter().enumerate() {
            if i > 0 {
                spans.push(sep());
            }
            spans.push(alert);
        }
        spans
    };
    let mut tries: Vec<Vec<Span>> = alerts.fewer().into_iter().map(join).collect();
    tries.push(alerts.most_urgent().into_iter().collect());
    vec![counts_line, fitting(tries)]
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
    let mut spans = vec![Span::styled(" corral ", theme.accent())];
    if app.read_only {
        // Said before anything else: keys that change something will be refused.
        spans.push(Span::styled("read-only ", theme.warn()));
    }
    spans.extend([
        Span::raw(path),
        sep(),
        Span::raw(format!("{}/{}{passing} ", t.passing, t.features)),
    ]);
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
/// (with how to give them one) and a corral.toml that was not applied, other open breakers with their countdowns, a paused
/// scheduler, then what was spent (against the budget, coloured as it runs out).
struct Alerts {
    /// Breakers waiting for a login, then a refused corral.toml: what only a person can fix.
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
        let mut logins: Vec<Span<'static>> = auth
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
        if let Some(error) = &s.config_error {
            logins.push(Span::styled(
                format!("corral.toml not applied: {error}"),
                theme.warn().add_modifier(Modifier::BOLD),
            ));
        }
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
        // Paused by corral itself after a crash: the header says so until a person goes on.
        let paused = s.scheduler_paused.then(|| {
            let text = match &s.paused_reason {
                Some(_) => "scheduler paused: corral was killed; space resumes",
                None => "scheduler paused",
            };
            Span::styled(text, theme.error())
        });
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
