//! The help overlay's content, generated from the keymap: what each key does, by scope.

use super::keymap::{Binding, Scope, label};

/// One line of the help: the keys, joined (`j/↓`), and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpEntry {
    /// The labels of the keys, joined with `/`.
    pub keys: String,
    /// What they do, from the first binding of the line.
    pub help: &'static str,
}

/// The help lines of one scope, under its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpSection {
    /// Where the keys work, from [`Scope::title`](super::keymap::Scope::title).
    pub title: String,
    pub entries: Vec<HelpEntry>,
}

/// The help overlay's content: a section per scope, in the order scopes first appear (a
/// remapped key listed apart from its scope's other keys still goes under its title).
/// Bindings next to each other with the same action or help text share a line; equal labels
/// (the `1-3` of three keys) are written once.
pub fn help_sections(bindings: &[Binding], ascii: bool) -> Vec<HelpSection> {
    let mut scopes: Vec<Scope> = Vec::new();
    for b in bindings {
        if !scopes.contains(&b.scope) {
            scopes.push(b.scope);
        }
    }
    scopes
        .into_iter()
        .map(|scope| {
            let mut entries: Vec<HelpEntry> = Vec::new();
            let mut prev: Option<&Binding> = None;
            for b in bindings.iter().filter(|b| b.scope == scope) {
                let key = label(b, ascii);
                let joins = prev.is_some_and(|p| p.action == b.action || p.help == b.help);
                match entries.last_mut() {
                    Some(e) if joins => {
                        if !e.keys.split('/').any(|k| k == key) {
                            e.keys.push('/');
                            e.keys.push_str(key);
                        }
                    }
                    _ => entries.push(HelpEntry {
                        keys: key.to_string(),
                        help: b.help,
                    }),
                }
                prev = Some(b);
            }
            HelpSection {
                title: scope.title(),
                entries,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::keymap::DEFAULT_BINDINGS;

    #[test]
    fn each_scope_is_one_run_so_the_help_has_one_section_per_scope() {
        let sections = help_sections(DEFAULT_BINDINGS, false);
        let mut titles: Vec<&str> = sections.iter().map(|s| s.title.as_str()).collect();
        let n = titles.len();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), n, "a scope is split: {titles:?}");
        assert_eq!(sections[0].title, "Everywhere");
        assert_eq!(sections[2].title, "Log pane");
        assert_eq!(sections[4].title, "Queue pane");
        assert_eq!(sections[5].title, "Feature detail, profiles view, diff");
        assert_eq!(sections[6].title, "Dashboard");
        assert_eq!(sections[7].title, "Features pane, feature detail");
        let keys: Vec<&str> = sections[1]
            .entries
            .iter()
            .map(|e| e.keys.as_str())
            .collect();
        assert_eq!(keys, ["enter", "0-6", "F"]);
    }

    #[test]
    fn help_texts_and_keys_fit_a_column_of_the_help_at_80_columns() {
        // 80 columns give each help column 38 cells: the widest keys (9, "shift-tab"), a
        // space, the text and two spaces before the next column leave 26 for the text.
        for b in DEFAULT_BINDINGS {
            assert!(b.help.chars().count() <= 26, "{:?} is too long", b.help);
        }
        for ascii in [false, true] {
            for e in help_sections(DEFAULT_BINDINGS, ascii)
                .iter()
                .flat_map(|s| &s.entries)
            {
                assert!(e.keys.chars().count() <= 9, "{:?} is too wide", e.keys);
            }
        }
    }
}
