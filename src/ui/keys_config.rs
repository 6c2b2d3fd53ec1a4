//! The keymap as `corral.toml`'s `[keys]` table makes it: action names, key strings, and
//! the rules that put a user's keys over the defaults.
//!
//! `[keys] ACTION = KEYS` gives an action new keys wherever it works; `[keys.PANE] ACTION =
//! KEYS` only in one pane or view (`agents`, `features`, `queue`, `log`, `detail`,
//! `profiles`), where it wins over a wider binding of the same key. KEYS is one key or a list:
//! `"P"`, `"ctrl-k"`, `["x", "delete"]`.

use super::keymap::{Action, Binding, Context, DEFAULT_BINDINGS, Scope};
use crate::api::FeatureStatus;
use crate::config::{ConfigError, KeyRemap, Location};
use crossterm::event::{KeyCode, KeyModifiers};
use std::borrow::Cow;

/// Every action with its name in `[keys]`, in the order the README lists them.
pub const ACTION_NAMES: &[(&str, Action)] = &[
    ("next_pane", Action::NextPane),
    ("prev_pane", Action::PrevPane),
    ("down", Action::Down),
    ("up", Action::Up),
    ("top", Action::Top),
    ("bottom", Action::Bottom),
    ("page_up", Action::PageUp),
    ("page_down", Action::PageDown),
    ("start", Action::Start),
    ("pause", Action::Pause),
    ("resume", Action::Resume),
    ("kill", Action::Kill),
    ("kill_now", Action::KillNow),
    ("restart", Action::Restart),
    ("toggle_scheduler", Action::ToggleScheduler),
    ("more_agents", Action::MoreAgents),
    ("fewer_agents", Action::FewerAgents),
    ("follow", Action::Follow),
    ("wrap", Action::Wrap),
    ("app_log", Action::AppLog),
    ("search", Action::Search),
    ("next_match", Action::NextMatch),
    ("prev_match", Action::PrevMatch),
    ("input", Action::Input),
    ("allow", Action::Allow),
    ("deny", Action::Deny),
    ("allow_tool", Action::AllowTool),
    ("next_waiting", Action::NextWaiting),
    ("open_step", Action::OpenStep),
    ("raw_view", Action::RawView),
    ("detail", Action::Detail),
    ("diff", Action::Diff),
    ("next_file", Action::NextFile),
    ("prev_file", Action::PrevFile),
    ("merge_feature", Action::MergeFeature),
    ("reject_feature", Action::RejectFeature),
    (
        "filter_ready",
        Action::FilterStatus(Some(FeatureStatus::Ready)),
    ),
    (
        "filter_blocked",
        Action::FilterStatus(Some(FeatureStatus::Blocked)),
    ),
    (
        "filter_in_progress",
        Action::FilterStatus(Some(FeatureStatus::InProgress)),
    ),
    (
        "filter_passing",
        Action::FilterStatus(Some(FeatureStatus::Passing)),
    ),
    (
        "filter_failing",
        Action::FilterStatus(Some(FeatureStatus::Failing)),
    ),
    (
        "filter_failed",
        Action::FilterStatus(Some(FeatureStatus::Failed)),
    ),
    ("filter_all", Action::FilterStatus(None)),
    ("filter_text", Action::FilterText),
    ("requeue", Action::Requeue),
    ("mark_passing", Action::MarkPassing),
    ("mark_failing", Action::MarkFailing),
    ("sooner", Action::Sooner),
    ("later", Action::Later),
    ("cancel_job", Action::CancelJob),
    ("retry_job", Action::RetryJob),
    ("job_sooner", Action::JobSooner),
    ("job_later", Action::JobLater),
    ("close_breaker", Action::CloseBreaker),
    ("profiles", Action::Profiles),
    ("toggle_profile", Action::ToggleProfile),
    ("back", Action::Back),
    ("help", Action::Help),
    ("quit", Action::Quit),
    ("stop_all", Action::StopAll),
];

/// The name of each pane and view in `[keys.NAME]`.
pub const CONTEXT_NAMES: [(&str, Context); 7] = [
    ("agents", Context::Agents),
    ("features", Context::Features),
    ("queue", Context::Queue),
    ("log", Context::Log),
    ("detail", Context::Detail),
    ("profiles", Context::Profiles),
    ("diff", Context::Diff),
];

/// The name of `action` in `[keys]`.
pub fn action_name(action: Action) -> &'static str {
    ACTION_NAMES
        .iter()
        .find(|(_, a)| *a == action)
        .map_or("?", |(n, _)| n)
}

fn context_name(context: Context) -> &'static str {
    CONTEXT_NAMES
        .iter()
        .find(|(_, c)| *c == context)
        .map_or("?", |(n, _)| n)
}

/// A key written as in `[keys]`: one character (`"P"`, `"?"`), a named key (`enter`, `esc`,
/// `tab`, `shift-tab`, `space`, `up`, `down`, `left`, `right`, `pgup`, `pgdn`, `home`,
/// `end`, `backspace`, `delete`, `insert`, `f1`..`f12`), optionally after `ctrl-` and/or
/// `alt-`. Returns the key and how the help writes it.
pub fn parse_key(text: &str) -> Result<(KeyCode, KeyModifiers, String), String> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
            mods |= KeyModifiers::CONTROL;
            rest = &rest[5..];
        } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
            mods |= KeyModifiers::ALT;
            rest = &rest[4..];
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() && c != ' ' => KeyCode::Char(c),
        _ => match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" => KeyCode::Insert,
            f if f.len() > 1 && f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(bad_key(text)),
            },
            _ => return Err(bad_key(text)),
        },
    };
    let mut label = String::new();
    if mods.contains(KeyModifiers::CONTROL) {
        label.push_str("ctrl-");
    }
    if mods.contains(KeyModifiers::ALT) {
        label.push_str("alt-");
    }
    label.push_str(&match code {
        KeyCode::Char(' ') => "space".to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("f{n}"),
        KeyCode::BackTab => "shift-tab".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        other => format!("{other:?}").to_lowercase(),
    });
    Ok((code, mods, label))
}

fn bad_key(text: &str) -> String {
    format!(
        "{text:?} is not a key: write one character (\"P\"), a named key (enter, esc, tab, \
         shift-tab, space, up, down, left, right, pgup, pgdn, home, end, backspace, delete, \
         insert, f1-f12), optionally after ctrl- or alt-"
    )
}

fn invalid(r: &KeyRemap, message: String) -> ConfigError {
    let key = match &r.context {
        Some(c) => format!("keys.{c}.{}", r.action),
        None => format!("keys.{}", r.action),
    };
    ConfigError::Invalid {
        at: Location {
            label: r.source.clone(),
            line: None,
        },
        key,
        message,
    }
}

/// The default keymap with `remaps` applied in order. Errors name the `[keys]` entry: an
/// unknown action or pane, a string that is not a key, or a key that would mean two things
/// in one pane.
pub fn build(remaps: &[KeyRemap]) -> Result<Vec<Binding>, ConfigError> {
    let mut bindings: Vec<Binding> = DEFAULT_BINDINGS.to_vec();
    for r in remaps {
        let Some(&(_, action)) = ACTION_NAMES.iter().find(|(n, _)| *n == r.action) else {
            let names: Vec<&str> = ACTION_NAMES.iter().map(|(n, _)| *n).collect();
            return Err(invalid(
                r,
                format!("unknown action; actions are {}", names.join(", ")),
            ));
        };
        let context = match &r.context {
            None => None,
            Some(c) => match CONTEXT_NAMES.iter().find(|(n, _)| n == c) {
                Some(&(_, ctx)) => Some(ctx),
                None => {
                    return Err(invalid(
                        r,
                        format!(
                            "unknown pane `{c}`; [keys.NAME] takes agents, features, queue, \
                             log, detail or profiles"
                        ),
                    ));
                }
            },
        };
        let keys = r
            .keys
            .iter()
            .map(|k| parse_key(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| invalid(r, m))?;
        if keys.is_empty() {
            return Err(invalid(r, "give at least one key".into()));
        }
        rebind(&mut bindings, action, context, &keys).map_err(|m| invalid(r, m))?;
    }
    // Checked once all are applied, so keys can be swapped (`pause = "r"`, `resume = "p"`);
    // the error names the last entry that moved one of the two actions.
    if let Err((actions, message)) = conflicts(&bindings) {
        let culprit = remaps
            .iter()
            .rev()
            .find(|r| actions.contains(&r.action.as_str()))
            .or(remaps.last());
        if let Some(r) = culprit {
            return Err(invalid(r, message));
        }
    }
    Ok(bindings)
}

/// Gives `action` the keys `keys`: in every scope it has (`context` None), or only in
/// `context`, where the new bindings are the pane's own.
fn rebind(
    bindings: &mut Vec<Binding>,
    action: Action,
    context: Option<Context>,
    keys: &[(KeyCode, KeyModifiers, String)],
) -> Result<(), String> {
    let ours = |b: &Binding| b.action == action && context.is_none_or(|c| b.scope.contains(c));
    let Some(at) = bindings.iter().position(ours) else {
        let ctx = context.map_or("", context_name);
        return Err(format!("{} has no binding in {ctx}", action_name(action)));
    };
    // One group of new bindings per scope the action had (narrowed to `context`).
    let mut templates: Vec<Binding> = Vec::new();
    for b in bindings.iter().filter(|b| ours(b)) {
        let scope = context.map_or(b.scope, Scope::only);
        if !templates.iter().any(|t| t.scope == scope) {
            templates.push(Binding { scope, ..b.clone() });
        }
    }
    // The old keys go: wholly, or from `context` only.
    let mut kept: Vec<Binding> = Vec::new();
    for b in bindings.drain(..) {
        match context {
            _ if !ours(&b) => kept.push(b),
            None => {}
            Some(c) => {
                let scope = b.scope.without(c);
                if !scope.is_empty() {
                    kept.push(Binding {
                        scope,
                        hint_in: b.hint_in.without(c),
                        ..b
                    });
                }
            }
        }
    }
    let at = at.min(kept.len());
    let new: Vec<Binding> = templates
        .iter()
        .flat_map(|t| {
            keys.iter()
                .enumerate()
                .map(move |(i, (code, mods, label))| Binding {
                    code: *code,
                    mods: *mods,
                    label: Cow::Owned(label.clone()),
                    // The first key carries the hint: the bar shows one key per action.
                    hint: if i == 0 { t.hint } else { None },
                    hint_in: if context.is_some() {
                        t.scope
                    } else {
                        t.hint_in
                    },
                    ..t.clone()
                })
        })
        .collect();
    kept.splice(at..at, new);
    *bindings = kept;
    Ok(())
}

/// An error when a key means two actions in one pane or view, unless exactly one of the two
/// bindings is that pane's own (a pane may give a key its own meaning: `R` retries in the
/// Queue pane). Returns the two actions' names and the message.
pub fn conflicts(bindings: &[Binding]) -> Result<(), ([&'static str; 2], String)> {
    for context in Context::ALL {
        let here: Vec<&Binding> = bindings
            .iter()
            .filter(|b| b.scope.contains(context))
            .collect();
        for (i, a) in here.iter().enumerate() {
            for b in &here[i + 1..] {
                if a.code == b.code
                    && a.mods == b.mods
                    && a.action != b.action
                    && (a.scope.width() == 1) == (b.scope.width() == 1)
                {
                    let names = [action_name(a.action), action_name(b.action)];
                    return Err((
                        names,
                        format!(
                            "`{}` would mean both {} and {} in the {} pane: give one of them \
                             another key",
                            a.label,
                            names[0],
                            names[1],
                            context_name(context),
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::{hint_bar, lookup};
    use crossterm::event::KeyEvent;

    fn remap(context: Option<&str>, action: &str, keys: &[&str]) -> KeyRemap {
        KeyRemap {
            source: "corral.toml".into(),
            context: context.map(String::from),
            action: action.into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn press(bindings: &[Binding], ctx: Context, c: char) -> Option<Action> {
        lookup(
            bindings,
            ctx,
            &KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE),
        )
    }

    #[test]
    fn every_action_has_a_name_and_a_default_key() {
        for b in DEFAULT_BINDINGS {
            assert_ne!(action_name(b.action), "?", "{:?}", b.action);
        }
        for (name, action) in ACTION_NAMES {
            assert!(
                DEFAULT_BINDINGS.iter().any(|b| b.action == *action),
                "{name} has no default key"
            );
        }
        assert_eq!(conflicts(DEFAULT_BINDINGS), Ok(()), "the defaults agree");
    }

    #[test]
    fn key_strings() {
        let ok = |t: &str| parse_key(t).unwrap();
        assert_eq!(
            ok("P"),
            (KeyCode::Char('P'), KeyModifiers::NONE, "P".into())
        );
        assert_eq!(
            ok("ctrl-k"),
            (KeyCode::Char('k'), KeyModifiers::CONTROL, "ctrl-k".into())
        );
        assert_eq!(ok("space").0, KeyCode::Char(' '));
        assert_eq!(ok("-").0, KeyCode::Char('-'));
        assert_eq!(ok("F5").0, KeyCode::F(5));
        assert_eq!(ok("PgDn").2, "PgDn");
        for bad in ["", "ctrl-", "hyper-x", "f13", "pause", " "] {
            assert!(parse_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_global_remap_moves_the_action_everywhere_and_the_hint_follows() {
        let map = build(&[remap(None, "pause", &["z"])]).unwrap();
        assert_eq!(press(&map, Context::Agents, 'z'), Some(Action::Pause));
        assert_eq!(
            press(&map, Context::Agents, 'p'),
            None,
            "the old key is free"
        );
        let bar = hint_bar(&map, Context::Agents);
        assert!(
            bar.iter().any(|h| h.keys == "z" && h.word == "pause"),
            "{bar:?}"
        );
    }

    #[test]
    fn a_pane_binding_wins_in_its_pane_only() {
        let map = build(&[remap(Some("queue"), "kill", &["K"])]).unwrap();
        assert_eq!(press(&map, Context::Queue, 'K'), Some(Action::Kill));
        assert_eq!(press(&map, Context::Queue, 'x'), None);
        assert_eq!(press(&map, Context::Agents, 'x'), Some(Action::Kill));
        assert_eq!(press(&map, Context::Agents, 'K'), None);
        // A pane's own key over the dashboard's is an override, not a conflict.
        let map = build(&[remap(Some("queue"), "cancel_job", &["x"])]).unwrap();
        assert_eq!(press(&map, Context::Queue, 'x'), Some(Action::CancelJob));
        assert_eq!(press(&map, Context::Agents, 'x'), Some(Action::Kill));
    }

    #[test]
    fn mistakes_are_named_config_errors() {
        let err = |r: KeyRemap| build(&[r]).unwrap_err().to_string();
        assert!(
            err(remap(None, "pauze", &["z"]))
                .starts_with("corral.toml: keys.pauze: unknown action")
        );
        assert!(
            err(remap(Some("sidebar"), "pause", &["z"]))
                .contains("keys.sidebar.pause: unknown pane")
        );
        assert!(
            err(remap(None, "pause", &["ctrl-"])).contains("keys.pause: \"ctrl-\" is not a key")
        );
        let clash = err(remap(None, "pause", &["x"]));
        assert!(
            clash.contains("keys.pause: `x` would mean both") && clash.contains("kill"),
            "{clash}"
        );
        let clash = err(remap(Some("queue"), "pause", &["c"]));
        assert!(clash.contains("cancel_job"), "{clash}");
        // P opens the profiles everywhere: pausing with it is a conflict in every pane.
        assert!(err(remap(None, "pause", &["P"])).contains("both"));
        // Swapped keys are fine.
        let map = build(&[remap(None, "pause", &["r"]), remap(None, "resume", &["p"])]).unwrap();
        assert_eq!(press(&map, Context::Agents, 'r'), Some(Action::Pause));
        assert!(err(remap(Some("agents"), "toggle_profile", &["e"])).contains("no binding"));
    }
}
