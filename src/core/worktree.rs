//! The pure rules around feature worktrees: branch names, port blocks, what `git worktree list
//! --porcelain` says, and whether a branch may be removed.

use std::collections::BTreeSet;

/// A lower-case, dash-separated ASCII slug of `text`, at most `max` bytes, never empty.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= max {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "feature".into()
    } else {
        out
    }
}

/// The branch of feature `id` named `name`: `<prefix><id>-<slug>`.
pub fn branch_name(prefix: &str, id: i64, name: &str) -> String {
    format!("{prefix}{id}-{}", slug(name, 40))
}

/// The folder name of feature `id`'s worktree.
pub fn folder_name(id: i64, name: &str) -> String {
    format!("{id}-{}", slug(name, 40))
}

/// FNV-1a, 64 bits: a stable hash for folder names (std's hasher may change between releases).
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The first free block of `per_run` ports in `first..=last` not starting at a base in `taken`,
/// or `None` when every block is taken.
pub fn free_port_base(first: u16, last: u16, per_run: u16, taken: &BTreeSet<u16>) -> Option<u16> {
    let per_run = u32::from(per_run.max(1));
    let mut base = u32::from(first);
    while base + per_run - 1 <= u32::from(last) {
        let b = base as u16;
        if !taken.contains(&b) {
            return Some(b);
        }
        base += per_run;
    }
    None
}

/// One entry of `git worktree list --porcelain`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedWorktree {
    pub path: String,
    pub head: Option<String>,
    /// `refs/heads/...`, or `None` when detached or bare.
    pub branch: Option<String>,
    pub locked: Option<String>,
    pub prunable: bool,
}

/// Parses `git worktree list --porcelain` (entries separated by blank lines).
pub fn parse_worktree_list(text: &str) -> Vec<ListedWorktree> {
    let mut out = Vec::new();
    let mut cur: Option<ListedWorktree> = None;
    for line in text.lines() {
        if line.is_empty() {
            out.extend(cur.take());
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        if key == "worktree" {
            out.extend(cur.take());
            cur = Some(ListedWorktree {
                path: value.to_string(),
                ..Default::default()
            });
            continue;
        }
        let Some(w) = cur.as_mut() else { continue };
        match key {
            "HEAD" => w.head = Some(value.to_string()),
            "branch" => w.branch = Some(value.to_string()),
            "locked" => w.locked = Some(value.to_string()),
            "prunable" => w.prunable = true,
            _ => {}
        }
    }
    out.extend(cur);
    out
}

/// What git says about a branch's work relative to the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchFacts {
    /// The branch tip is an ancestor of (or equal to) the base.
    pub ancestor: bool,
    /// Commits on the branch not on the base.
    pub ahead: u32,
    /// Of those, how many have no patch-equivalent commit on the base (`git cherry` `+`).
    pub unmatched: u32,
    /// The squash commit corral made for it is on the base.
    pub squashed: bool,
    /// The worktree has uncommitted changes (ignored files aside).
    pub dirty: bool,
    /// A run is using the worktree.
    pub live: bool,
}

/// Whether a branch and its worktree may be removed, and why (or why not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Remove(&'static str),
    Keep(String),
}

/// Removal is safe only once every bit of the branch's work is on the base.
pub fn removal_verdict(f: &BranchFacts) -> Verdict {
    if f.live {
        return Verdict::Keep("a run is using it".into());
    }
    if f.dirty {
        return Verdict::Keep("it has uncommitted changes".into());
    }
    if f.ancestor || f.ahead == 0 {
        return Verdict::Remove("merged: the branch is an ancestor of the base");
    }
    if f.squashed {
        return Verdict::Remove("merged: its squash commit is on the base");
    }
    if f.unmatched == 0 {
        return Verdict::Remove("merged: every commit has a patch-equivalent one on the base");
    }
    Verdict::Keep(format!(
        "{} commit{} not on the base",
        f.unmatched,
        if f.unmatched == 1 { "" } else { "s" }
    ))
}

/// The sentence added to a coding prompt after a merge conflict.
pub fn conflict_prompt(base: &str, files: &[String]) -> String {
    format!(
        "\n\n## Merge conflict\n\nThis feature passed, but its branch no longer applies to `{base}`: \
         rebasing it onto `{base}` conflicts in these files:\n\n{}\n\nBring the branch up to date \
         with `{base}` (for example `git rebase {base}`), resolve the conflicts in those files so \
         both changes are kept, and commit the result.\n",
        files
            .iter()
            .map(|f| format!("- {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// The section added to the prompt of a run that works in a feature worktree.
pub fn worktree_prompt(worktree: &str, branch: &str, main: &str) -> String {
    format!(
        "\n\n## Where you work\n\nYou work in a git worktree of its own, `{worktree}`, on branch \
         `{branch}`. Make every change there (commit as you go if you like; corral commits what \
         you leave and merges the branch once the feature passes). Do not edit the main \
         checkout at `{main}`.\n"
    )
}

/// The section added to a coding prompt after a person rejected the feature's change.
pub fn rejection_prompt(feedback: &str) -> String {
    format!(
        "\n\n## Review feedback\n\nA person reviewed this feature's change and rejected it. \
         Their feedback:\n\n{feedback}\n\nThe earlier work is on this branch: change it as \
         asked and commit.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_branches() {
        assert_eq!(slug("Cart totals!", 40), "cart-totals");
        assert_eq!(slug("  --  ", 40), "feature");
        assert_eq!(slug("Ünïcode über alles", 40), "n-code-ber-alles");
        assert_eq!(slug(&"a".repeat(100), 40).len(), 40);
        assert_eq!(
            branch_name("corral/", 7, "Login form"),
            "corral/7-login-form"
        );
        assert!(crate::config::ref_problem(&branch_name("corral/", 7, "a..b ~^:")).is_none());
    }

    #[test]
    fn port_blocks_do_not_overlap() {
        let mut taken = BTreeSet::new();
        let a = free_port_base(4000, 4029, 10, &taken).unwrap();
        taken.insert(a);
        let b = free_port_base(4000, 4029, 10, &taken).unwrap();
        taken.insert(b);
        let c = free_port_base(4000, 4029, 10, &taken).unwrap();
        taken.insert(c);
        assert_eq!((a, b, c), (4000, 4010, 4020));
        assert_eq!(free_port_base(4000, 4029, 10, &taken), None);
        assert_eq!(
            free_port_base(65530, 65535, 6, &BTreeSet::new()),
            Some(65530)
        );
    }

    #[test]
    fn parses_porcelain_list() {
        let text = "worktree /r\nHEAD abc\nbranch refs/heads/main\n\nworktree /w/1-x\nHEAD def\nbranch refs/heads/corral/1-x\nlocked corral run 3\n\nworktree /w/gone\nHEAD 123\ndetached\nprunable gitdir file points to non-existent location\n";
        let l = parse_worktree_list(text);
        assert_eq!(l.len(), 3);
        assert_eq!(l[1].branch.as_deref(), Some("refs/heads/corral/1-x"));
        assert_eq!(l[1].locked.as_deref(), Some("corral run 3"));
        assert!(l[2].prunable && l[2].branch.is_none());
    }

    #[test]
    fn removal_needs_the_work_on_the_base() {
        let base = BranchFacts {
            ancestor: false,
            ahead: 2,
            unmatched: 1,
            squashed: false,
            dirty: false,
            live: false,
        };
        assert_eq!(
            removal_verdict(&base),
            Verdict::Keep("1 commit not on the base".into())
        );
        let squashed = BranchFacts {
            squashed: true,
            ..base
        };
        assert!(matches!(removal_verdict(&squashed), Verdict::Remove(_)));
        let cherry = BranchFacts {
            unmatched: 0,
            ..base
        };
        assert!(matches!(removal_verdict(&cherry), Verdict::Remove(_)));
        let live = BranchFacts {
            live: true,
            ancestor: true,
            ..base
        };
        assert!(matches!(removal_verdict(&live), Verdict::Keep(_)));
        let dirty = BranchFacts {
            dirty: true,
            ancestor: true,
            ..base
        };
        assert!(matches!(removal_verdict(&dirty), Verdict::Keep(_)));
    }
}
