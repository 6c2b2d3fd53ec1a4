//! Keys as data: each binding says where it applies and carries the description the help
//! overlay and hint bar show.

use crate::api::FeatureStatus;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::borrow::Cow;

/// What a key asks the UI to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NextPane,
    PrevPane,
    Down,
    Up,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Start,
    Pause,
    Resume,
    Kill,
    KillNow,
    Restart,
    ToggleScheduler,
    MoreAgents,
    FewerAgents,
    Follow,
    Wrap,
    AppLog,
    /// Open the search prompt for the Log pane.
    Search,
    /// Go to the next search match, further down (newer).
    NextMatch,
    /// Go to the previous search match, further up (older).
    PrevMatch,
    /// Open a prompt for a line to the target run's stdin.
    Input,
    /// Allow what the target run asks (a permission request).
    Allow,
    /// Deny what the target run asks, asking for a reason to tell the agent.
    Deny,
    /// Allow the request and every later one for the same tool in this run.
    AllowTool,
    /// Go to the run that has waited longest for a person.
    NextWaiting,
    /// Open or close the step under the cursor in the Log pane (its full input and output).
    OpenStep,
    /// Show a run's raw output lines instead of its steps, or its steps again.
    RawView,
    /// Open the selected feature's detail view.
    Detail,
    /// Open the feature's diff against its base.
    Diff,
    /// In the diff view: jump to the next file.
    NextFile,
    /// In the diff view: jump to the previous file.
    PrevFile,
    /// In the diff view: merge the feature into the base now.
    MergeFeature,
    /// In the diff view: reject the feature's change, asking why.
    RejectFeature,
    /// Show only features with this status in the Features pane; `None` shows them all.
    FilterStatus(Option<FeatureStatus>),
    /// Open the prompt for a name or category filter on the Features pane.
    FilterText,
    /// Put the feature back to pending with its attempts reset (asks first).
    Requeue,
    /// Mark the feature passing (asks first).
    MarkPassing,
    /// Mark the feature failing (asks first).
    MarkFailing,
    /// The feature's priority one lower: it starts sooner.
    Sooner,
    /// The feature's priority one higher: it starts later.
    Later,
    /// Cancel the selected job (asks first).
    CancelJob,
    /// Retry the selected job: a waiting, failed or cancelled one is tried again; a running
    /// or done one is restarted through its run.
    RetryJob,
    /// The selected job's priority one lower: it starts sooner.
    JobSooner,
    /// The selected job's priority one higher: it starts later.
    JobLater,
    /// Close a circuit breaker by hand: the selected job's account's, else the only open one.
    CloseBreaker,
    /// Open or close the Profiles view.
    Profiles,
    /// Turn the selected profile on or off.
    ToggleProfile,
    /// Close the open view, or clear the log search on the dashboard.
    Back,
    Help,
    Quit,
    /// Stop every agent and leave (attached to a daemon: stop the daemon too); asks first.
    StopAll,
}

impl Action {
    /// True for actions that change the fleet, the backlog, the queue or the config: what a
    /// `--read-only` dashboard refuses.
    pub fn changes_something(self) -> bool {
        use Action::*;
        matches!(
            self,
            Start
                | Pause
                | Resume
                | Kill
                | KillNow
                | Restart
                | ToggleScheduler
                | MoreAgents
                | FewerAgents
                | Input
                | MergeFeature
                | RejectFeature
                | Requeue
                | MarkPassing
                | MarkFailing
                | Sooner
                | Later
                | CancelJob
                | RetryJob
                | JobSooner
                | JobLater
                | CloseBreaker
                | ToggleProfile
                | StopAll
        )
    }
}

/// Where a key is pressed: one of the dashboard's panes, or a view drawn in their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Agents,
    Features,
    Queue,
    Log,
    /// One feature's detail view.
    Detail,
    /// The Profiles view.
    Profiles,
    /// One feature's diff.
    Diff,
}

impl Context {
    /// Every context, in the order scopes name them.
    pub const ALL: [Context; 7] = [
        Context::Agents,
        Context::Features,
        Context::Queue,
        Context::Log,
        Context::Detail,
        Context::Profiles,
        Context::Diff,
    ];

    const fn bit(self) -> u8 {
        1 << self as u8
    }

    fn name(self) -> &'static str {
        match self {
            Context::Agents => "Agents pane",
            Context::Features => "Features pane",
            Context::Queue => "Queue pane",
            Context::Log => "Log pane",
            Context::Detail => "feature detail",
            Context::Profiles => "profiles view",
            Context::Diff => "diff",
        }
    }
}

/// The contexts a binding applies in (a set of [`Context`]s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope(u8);

impl Scope {
    /// Every pane and view.
    pub const ANY: Scope = Scope(0b111_1111);
    /// The four panes of the dashboard.
    pub const PANES: Scope = Scope(0b1111);
    /// The Features pane only.
    pub const FEATURES: Scope = Scope(Context::Features.bit());
    /// The Queue pane only.
    pub const QUEUE: Scope = Scope(Context::Queue.bit());
    /// Where a feature is at hand: the Features pane and its detail view.
    pub const FEATURE: Scope = Scope(Context::Features.bit() | Context::Detail.bit());
    /// The views that replace the panes.
    pub const VIEWS: Scope =
        Scope(Context::Detail.bit() | Context::Profiles.bit() | Context::Diff.bit());
    /// The Profiles view only.
    pub const PROFILES: Scope = Scope(Context::Profiles.bit());

    /// Only `context`.
    pub const fn only(context: Context) -> Scope {
        Scope(context.bit())
    }

    /// This scope less `context`.
    pub const fn without(self, context: Context) -> Scope {
        Scope(self.0 & !context.bit())
    }

    /// True if it covers no context.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True if a binding with this scope works in `context`.
    pub fn contains(self, context: Context) -> bool {
        self.0 & context.bit() != 0
    }

    /// How many contexts it covers: the hint bar lists narrower bindings first.
    pub fn width(self) -> u32 {
        self.0.count_ones()
    }

    /// The heading of this scope's section in the help ("Features pane, feature detail").
    pub fn title(self) -> String {
        if self == Scope::ANY {
            return "Everywhere".into();
        }
        let mut parts: Vec<&str> = Vec::new();
        let mut rest = self.0;
        if rest & Scope::PANES.0 == Scope::PANES.0 {
            parts.push("dashboard");
            rest &= !Scope::PANES.0;
        }
        parts.extend(
            Context::ALL
                .iter()
                .filter(|c| rest & c.bit() != 0)
                .map(|c| c.name()),
        );
        let title = parts.join(", ");
        let mut chars = title.chars();
        chars
            .next()
            .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
    }
}

/// One key bound to one action, in some contexts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub code: KeyCode,
    pub mods: KeyModifiers,
    /// How the key is written in the hint bar and help.
    pub label: Cow<'static, str>,
    pub action: Action,
    pub help: &'static str,
    /// The word shown in the one-line hint bar, if any (the help overlay shows every binding).
    pub hint: Option<&'static str>,
    /// Where the hint bar shows the hint: the binding's scope, or fewer contexts for a key that
    /// works everywhere but matters most in one pane (`b` in the Queue pane).
    pub hint_in: Scope,
}

/// The one help line of `q`, `Q` and ctrl-c.
const QUIT_HELP: &str = "quit (Q: stop all agents)";

const fn key(
    scope: Scope,
    code: KeyCode,
    label: &'static str,
    action: Action,
    help: &'static str,
    hint: Option<&'static str>,
) -> Binding {
    Binding {
        scope,
        code,
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed(label),
        action,
        help,
        hint,
        hint_in: scope,
    }
}

use Action as A;
use FeatureStatus as S;
use KeyCode as K;
use Scope as On;

/// The default keymap, grouped by scope in the order the help overlay lists the groups (in
/// this order the groups fill two columns of 20 rows, so help at 80x24 leaves the header and
/// hint bar in view: mind the count when adding a line).
/// Next to each other, bindings with the same action or help text share one help line.
// One binding a line reads as a table; rustfmt would spread each over eight.
#[rustfmt::skip]
pub const DEFAULT_BINDINGS: &[Binding] = &[
    key(On::ANY, K::Char('j'), "j", A::Down, "move down / scroll", None),
    key(On::ANY, K::Down, "↓", A::Down, "move down", None),
    key(On::ANY, K::Char('k'), "k", A::Up, "move up / scroll", None),
    key(On::ANY, K::Up, "↑", A::Up, "move up", None),
    key(On::ANY, K::Char('g'), "g", A::Top, "go to top / bottom", None),
    key(On::ANY, K::Char('G'), "G", A::Bottom, "go to top / bottom", None),
    key(On::ANY, K::PageUp, "PgUp", A::PageUp, "page up / down", None),
    key(On::ANY, K::PageDown, "PgDn", A::PageDown, "page up / down", None),
    key(On::ANY, K::Char('P'), "P", A::Profiles, "profiles view, or close it", None),
    // Works everywhere, hinted where the jobs a breaker holds are listed.
    Binding {
        scope: On::ANY,
        code: K::Char('b'),
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed("b"),
        action: A::CloseBreaker,
        help: "close an open breaker",
        hint: Some("breaker"),
        hint_in: On::QUEUE,
    },
    key(On::ANY, K::Char('?'), "?", A::Help, "this help", Some("help")),
    // One line in the help for both meanings of esc; hinted where it closes a view.
    Binding {
        scope: On::ANY,
        code: K::Esc,
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed("esc"),
        action: A::Back,
        help: "close view / clear search",
        hint: Some("close"),
        hint_in: On::VIEWS,
    },
    // Attached to a daemon, `q` only leaves it; `Q` stops its agents and the daemon. In
    // this process's own runtime both stop the agents.
    key(On::ANY, K::Char('q'), "q", A::Quit, QUIT_HELP, Some("quit")),
    key(On::ANY, K::Char('Q'), "Q", A::StopAll, QUIT_HELP, None),
    Binding {
        scope: On::ANY,
        code: K::Char('c'),
        mods: KeyModifiers::CONTROL,
        // Short, so `q/Q/^c` fits the help's key column.
        label: Cow::Borrowed("^c"),
        action: A::Quit,
        help: QUIT_HELP,
        hint: None,
        hint_in: On::ANY,
    },
    key(On::FEATURES, K::Enter, "enter", A::Detail, "feature detail", Some("detail")),
    key(On::FEATURES, K::Char('1'), "0-6", A::FilterStatus(Some(S::Ready)), FILTER, None),
    key(On::FEATURES, K::Char('2'), "0-6", A::FilterStatus(Some(S::Blocked)), FILTER, None),
    key(On::FEATURES, K::Char('3'), "0-6", A::FilterStatus(Some(S::InProgress)), FILTER, None),
    key(On::FEATURES, K::Char('4'), "0-6", A::FilterStatus(Some(S::Passing)), FILTER, None),
    key(On::FEATURES, K::Char('5'), "0-6", A::FilterStatus(Some(S::Failing)), FILTER, None),
    key(On::FEATURES, K::Char('6'), "0-6", A::FilterStatus(Some(S::Failed)), FILTER, None),
    key(On::FEATURES, K::Char('0'), "0-6", A::FilterStatus(None), FILTER, None),
    key(On::FEATURES, K::Char('F'), "F", A::FilterText, "filter name or category", Some("filter")),
    key(On::only(Context::Log), K::Enter, "enter", A::OpenStep, "open / close a step", Some("open")),
    key(On::PROFILES, K::Char('e'), "e", A::ToggleProfile, "enable/disable profile", Some("on/off")),
    // In the Queue pane R retries the job (one that waits, failed or was cancelled): a
    // binding of that pane, narrower than the dashboard's R, so it wins there. R and c share
    // a line.
    key(On::QUEUE, K::Char('R'), "R", A::RetryJob, RETRY_CANCEL, Some("retry")),
    key(On::QUEUE, K::Char('c'), "c", A::CancelJob, RETRY_CANCEL, Some("cancel")),
    key(On::QUEUE, K::Char('['), "[", A::JobSooner, "job priority -1 / +1", Some("priority")),
    key(On::QUEUE, K::Char(']'), "]", A::JobLater, "job priority -1 / +1", Some("priority")),
    // Only the diff view has files to jump between; these share help lines so the
    // help still fits 80x24.
    Binding {
        scope: On::VIEWS,
        code: K::Char('n'),
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed("n"),
        action: A::NextFile,
        help: DIFF_KEYS,
        hint: Some("file"),
        hint_in: On::only(Context::Diff),
    },
    Binding {
        scope: On::VIEWS,
        code: K::Char('N'),
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed("N"),
        action: A::PrevFile,
        help: DIFF_KEYS,
        hint: None,
        hint_in: On::only(Context::Diff),
    },
    Binding {
        scope: On::VIEWS,
        code: K::Char('m'),
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed("m"),
        action: A::MergeFeature,
        help: DIFF_KEYS,
        hint: Some("merge"),
        hint_in: On::only(Context::Diff),
    },
    Binding {
        scope: On::VIEWS,
        code: K::Char('r'),
        mods: KeyModifiers::NONE,
        label: Cow::Borrowed("r"),
        action: A::RejectFeature,
        help: DIFF_KEYS,
        hint: Some("reject"),
        hint_in: On::only(Context::Diff),
    },
    key(On::PANES, K::Char('s'), "s", A::Start, START_PAUSE, Some("start")),
    key(On::PANES, K::Char('p'), "p", A::Pause, START_PAUSE, Some("pause")),
    key(On::PANES, K::Char('r'), "r", A::Resume, START_PAUSE, Some("resume")),
    key(On::PANES, K::Char('x'), "x", A::Kill, KILL_RESTART, Some("kill")),
    key(On::PANES, K::Char('X'), "X", A::KillNow, KILL_RESTART, None),
    // The Queue pane binds R to retry.
    key(On::PANES, K::Char('R'), "R", A::Restart, KILL_RESTART, Some("restart")),
    key(On::PANES, K::Char(' '), "space", A::ToggleScheduler, SCHEDULER, None),
    key(On::PANES, K::Char('+'), "+", A::MoreAgents, SCHEDULER, None),
    key(On::PANES, K::Char('-'), "-", A::FewerAgents, SCHEDULER, None),
    key(On::PANES, K::Tab, "tab", A::NextPane, "next pane", Some("pane")),
    key(On::PANES, K::BackTab, "shift-tab", A::PrevPane, "previous pane", None),
    key(On::PANES, K::Char('f'), "f", A::Follow, LOG_VIEW, Some("follow")),
    key(On::PANES, K::Char('w'), "w", A::Wrap, LOG_VIEW, None),
    key(On::PANES, K::Char('L'), "L", A::AppLog, LOG_VIEW, None),
    key(On::PANES, K::Char('v'), "v", A::RawView, LOG_VIEW, None),
    key(On::PANES, K::Char('/'), "/", A::Search, "search the log", Some("search")),
    key(On::PANES, K::Char('n'), "n", A::NextMatch, "next / previous match", None),
    key(On::PANES, K::Char('N'), "N", A::PrevMatch, "next / previous match", None),
    key(On::PANES, K::Char('i'), "i", A::Input, "send a line to its stdin", Some("input")),
    key(On::PANES, K::Char('o'), "o", A::Allow, ANSWER_KEYS, None),
    key(On::PANES, K::Char('D'), "D", A::Deny, ANSWER_KEYS, None),
    key(On::PANES, K::Char('O'), "O", A::AllowTool, ANSWER_KEYS, None),
    key(On::PANES, K::Char('!'), "!", A::NextWaiting, ANSWER_KEYS, None),
    key(On::FEATURE, K::Char('d'), "d", A::Diff, "diff against the base", Some("diff")),
    key(On::FEATURE, K::Char('u'), "u", A::Requeue, REQUEUE_MARK, Some("requeue")),
    key(On::FEATURE, K::Char('a'), "a", A::MarkPassing, REQUEUE_MARK, None),
    key(On::FEATURE, K::Char('A'), "A", A::MarkFailing, REQUEUE_MARK, None),
    key(On::FEATURE, K::Char('['), "[", A::Sooner, "priority -1 / +1", None),
    key(On::FEATURE, K::Char(']'), "]", A::Later, "priority -1 / +1", None),
];

/// Pausing the scheduler and one agent more or fewer share one help line.
const SCHEDULER: &str = "pause scheduler; agents±1";
/// A run's permission request: `o` allow (ok), `D` deny (asks why), `O` allow its tool for
/// the rest of the run, `!` go to the run that has waited longest. Keys no pane uses for
/// anything else; they share one help line (the help fits 80x24 that way).
const ANSWER_KEYS: &str = "ok/deny/ok tool; ! oldest";
/// Retry and cancel in the Queue pane share one help line (the help fits 80x24 that way).
const RETRY_CANCEL: &str = "retry / cancel (c asks)";
/// The status filters share one help line: 1 ready, 2 blocked, 3 in progress, 4 passing,
/// 5 failing, 6 failed, 0 all.
const FILTER: &str = "filter by status, 0 all";
/// Start, pause and resume (SIGSTOP/SIGCONT) share one help line, as do kill (x asks, X
/// at once) and restart: the help fits 80x24 that way.
const START_PAUSE: &str = "start / pause / resume";
const KILL_RESTART: &str = "kill (x asks) / restart";
/// The diff view's keys share one help line: n/N next/previous file, m merge, r reject.
const DIFF_KEYS: &str = "diff: files, merge, reject";
/// Requeue and marking share one help line (the help fits 80x24 that way).
const REQUEUE_MARK: &str = "requeue/pass/fail, asks";
/// Follow, wrap, corral's own log and the raw lines of a run shown as steps share one help
/// line (the help fits 80x24 that way).
const LOG_VIEW: &str = "follow/wrap/own log/raw";

/// The label of a key in the current glyph set (arrows have ASCII names).
pub fn label(b: &Binding, ascii: bool) -> &str {
    match (b.label.as_ref(), ascii) {
        ("↓", true) => "down",
        ("↑", true) => "up",
        (l, _) => l,
    }
}

/// The first key bound to `action`, as the help writes it.
pub fn key_of(bindings: &[Binding], action: Action) -> Option<&str> {
    bindings
        .iter()
        .find(|b| b.action == action)
        .map(|b| b.label.as_ref())
}

/// The binding that wins for a key in `context` among `bindings`: the narrowest scope (a
/// pane's own binding over the dashboard's), then the first listed.
fn winner(
    bindings: &[Binding],
    context: Context,
    code: KeyCode,
    mods: KeyModifiers,
) -> Option<&Binding> {
    bindings
        .iter()
        .filter(|b| b.scope.contains(context) && b.code == code && b.mods == mods)
        .min_by_key(|b| b.scope.width())
}

/// The action bound to a key press in `context`, if any. Shift is ignored for characters,
/// since the character itself already says whether it was shifted. Where two bindings have
/// the key, the narrower scope wins: a pane's own binding overrides the dashboard's.
pub fn lookup(bindings: &[Binding], context: Context, ev: &KeyEvent) -> Option<Action> {
    let mods = match ev.code {
        KeyCode::Char(_) | KeyCode::BackTab => ev.modifiers - KeyModifiers::SHIFT,
        _ => ev.modifiers,
    };
    winner(bindings, context, ev.code, mods).map(|b| b.action)
}

/// The bindings that work in `context`: those of its scope that no other binding overrides
/// (see [`lookup`]).
pub fn active(bindings: &[Binding], context: Context) -> impl Iterator<Item = &Binding> {
    bindings.iter().filter(move |b| {
        b.scope.contains(context)
            && winner(bindings, context, b.code, b.mods).is_some_and(|w| std::ptr::eq(w, *b))
    })
}

/// The bindings with a hint word in `context`, narrower scopes first: what only works here
/// is what the bar should show before the keys that work everywhere (a key that works
/// everywhere but is hinted only here comes after this pane's own keys). Among equals the
/// way out (`esc`) comes after the keys that act.
pub fn hints(bindings: &[Binding], context: Context) -> Vec<&Binding> {
    let mut hints: Vec<&Binding> = active(bindings, context)
        .filter(|b| b.hint.is_some() && b.hint_in.contains(context))
        .collect();
    // Stable: keymap order within a width.
    hints.sort_by_key(|b| (b.hint_in.width(), b.scope.width(), b.action == Action::Back));
    hints
}

/// One hint of the hint bar: keys next to each other with the same word share it (`[ ]
/// priority`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The keys' labels, joined with a space.
    pub keys: String,
    pub word: &'static str,
    /// The first key's action.
    pub action: Action,
}

/// The hint for `action` in `context` even where the bar leaves it out (`b breaker` outside
/// the Queue pane while a breaker waits for a login): its active keys, and its word.
pub fn hint_for(bindings: &[Binding], context: Context, action: Action) -> Option<Hint> {
    let keys: Vec<&Binding> = active(bindings, context)
        .filter(|b| b.action == action)
        .collect();
    let word = keys.iter().find_map(|b| b.hint)?;
    Some(Hint {
        keys: keys
            .iter()
            .map(|b| b.label.as_ref())
            .collect::<Vec<_>>()
            .join(" "),
        word,
        action,
    })
}

/// The hint bar's hints in `context`, in the order of [`hints`].
pub fn hint_bar(bindings: &[Binding], context: Context) -> Vec<Hint> {
    let mut bar: Vec<Hint> = Vec::new();
    for b in hints(bindings, context) {
        let word = b.hint.expect("hints have a word");
        match bar.last_mut() {
            Some(last) if last.word == word => {
                last.keys.push(' ');
                last.keys.push_str(&b.label);
            }
            _ => bar.push(Hint {
                keys: b.label.to_string(),
                word,
                action: b.action,
            }),
        }
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_in_any_context() {
        // Twice only as a pane's own meaning over the dashboard's (R retries in the Queue).
        assert_eq!(crate::ui::keys_config::conflicts(DEFAULT_BINDINGS), Ok(()));
        let upper_x = KeyEvent::new(KeyCode::Char('X'), KeyModifiers::SHIFT);
        let found = |ctx, ev: &KeyEvent| lookup(DEFAULT_BINDINGS, ctx, ev);
        assert_eq!(found(Context::Agents, &upper_x), Some(Action::KillNow));
        assert_eq!(found(Context::Detail, &upper_x), None, "only on the panes");
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(found(Context::Profiles, &ctrl_c), Some(Action::Quit));
        let plain_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(found(Context::Agents, &plain_c), None);
        let two = KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE);
        let blocked = Action::FilterStatus(Some(FeatureStatus::Blocked));
        assert_eq!(found(Context::Features, &two), Some(blocked));
        assert_eq!(found(Context::Agents, &two), None);
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(found(Context::Queue, &key('c')), Some(Action::CancelJob));
        assert_eq!(found(Context::Agents, &key('[')), None);
        for context in Context::ALL {
            assert_eq!(found(context, &key('b')), Some(Action::CloseBreaker));
        }
        // R is the Queue pane's own binding there: it retries the job.
        assert_eq!(found(Context::Queue, &key('R')), Some(Action::RetryJob));
        assert_eq!(found(Context::Queue, &key('[')), Some(Action::JobSooner));
        assert_eq!(found(Context::Agents, &key('R')), Some(Action::Restart));
    }

    #[test]
    fn hints_put_what_works_only_here_first() {
        let words = |ctx| -> Vec<&str> {
            hints(DEFAULT_BINDINGS, ctx)
                .iter()
                .filter_map(|b| b.hint)
                .collect()
        };
        assert_eq!(
            words(Context::Features)[..4],
            ["detail", "filter", "diff", "requeue"]
        );
        assert_eq!(
            words(Context::Profiles),
            ["on/off", "close", "help", "quit"]
        );
        assert!(!words(Context::Agents).contains(&"detail"));
        assert_eq!(words(Context::Detail)[..3], ["diff", "requeue", "close"]);
        assert!(!words(Context::Agents).contains(&"retry"));
        assert!(words(Context::Agents).contains(&"restart"));
        assert!(!words(Context::Agents).contains(&"breaker"));
        let queue = hint_bar(DEFAULT_BINDINGS, Context::Queue);
        let shown: Vec<(&str, &str)> = queue.iter().map(|h| (h.keys.as_str(), h.word)).collect();
        assert_eq!(
            shown[..5],
            [
                ("R", "retry"),
                ("c", "cancel"),
                ("[ ]", "priority"),
                ("b", "breaker"),
                ("s", "start")
            ]
        );
        assert!(!shown.contains(&("R", "restart")), "overridden: {shown:?}");
    }
}
