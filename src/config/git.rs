//! `[git]`: whether each feature gets its own git worktree, where its branch starts, what a
//! fresh worktree gets (copied files, a setup command), the ports live runs share out, and how
//! finished work goes back to the base.

use serde::Deserialize;
use serde::de::{self, Deserializer};

/// Whether worktrees are on when `[git] worktrees` is not written (in a git repository; never
/// outside one).
pub const DEFAULT_WORKTREES: bool = true;
/// Default `branch_prefix`: branches are `corral/<id>-<slug>`.
pub const DEFAULT_BRANCH_PREFIX: &str = "corral/";
/// Default `ports`: the range `CORRAL_PORT_BASE` values come from.
pub const DEFAULT_PORTS: (u16, u16) = (20_000, 29_999);
/// Default `ports_per_run`: how many ports each live run owns from its base.
pub const DEFAULT_PORTS_PER_RUN: u16 = 10;

/// How a passing feature's branch goes back to the base.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeStrategy {
    /// One commit per feature on the base.
    #[default]
    Squash,
    /// A merge commit (`--no-ff`).
    Merge,
    /// The branch's commits replayed on the base, fast-forwarded.
    Rebase,
    /// A person merges or rejects from the diff.
    Review,
    /// Push the branch and open a pull request.
    Pr,
    /// Leave the branch for a person.
    None,
}

impl MergeStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeStrategy::Squash => "squash",
            MergeStrategy::Merge => "merge",
            MergeStrategy::Rebase => "rebase",
            MergeStrategy::Review => "review",
            MergeStrategy::Pr => "pr",
            MergeStrategy::None => "none",
        }
    }
}

/// `[git]`, merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitConfig {
    /// As written; `None` means the default ([`DEFAULT_WORKTREES`], and only in a git
    /// repository). See [`GitConfig::worktrees_on`].
    pub worktrees: Option<bool>,
    pub branch_prefix: String,
    /// The branch features start from and merge into; `None`: the branch checked out when
    /// the project was set up (recorded in the store the first time it is needed).
    pub base: Option<String>,
    /// Untracked files (paths relative to the project) copied into every new worktree.
    pub copy: Vec<String>,
    /// argv run once in a new worktree, after the copies.
    pub setup: Option<Vec<String>>,
    /// Inclusive range of ports handed out as `CORRAL_PORT_BASE` blocks.
    pub ports: (u16, u16),
    pub ports_per_run: u16,
    pub merge: MergeStrategy,
}

impl Default for GitConfig {
    fn default() -> Self {
        GitConfig {
            worktrees: None,
            branch_prefix: DEFAULT_BRANCH_PREFIX.into(),
            base: None,
            copy: Vec::new(),
            setup: None,
            ports: DEFAULT_PORTS,
            ports_per_run: DEFAULT_PORTS_PER_RUN,
            merge: MergeStrategy::default(),
        }
    }
}

impl GitConfig {
    /// Whether features get worktrees in a project that is (`is_repo`) or is not a git
    /// repository. Outside one they never do, whatever is written.
    pub fn worktrees_on(&self, is_repo: bool) -> bool {
        is_repo && self.worktrees.unwrap_or(DEFAULT_WORKTREES)
    }

    pub(crate) fn apply(&mut self, raw: RawGit) {
        if let Some(on) = raw.worktrees {
            self.worktrees = Some(on);
        }
        if let Some(p) = raw.branch_prefix {
            self.branch_prefix = p.0;
        }
        if let Some(b) = raw.base {
            self.base = Some(b.0);
        }
        if let Some(c) = raw.copy {
            self.copy = c.into_iter().map(|p| p.0).collect();
        }
        if let Some(s) = raw.setup {
            self.setup = Some(s.0);
        }
        if let Some(r) = raw.ports {
            self.ports = (r.0, r.1);
        }
        if let Some(n) = raw.ports_per_run {
            self.ports_per_run = n.0;
        }
        if let Some(m) = raw.merge {
            self.merge = m;
        }
    }

    /// What only the merged values can tell: a port range too small for one run's block.
    pub(crate) fn check(&self) -> Result<(), String> {
        let span = u32::from(self.ports.1) - u32::from(self.ports.0) + 1;
        if span < u32::from(self.ports_per_run) {
            return Err(format!(
                "the range {}-{} holds {span} ports, fewer than ports_per_run = {}",
                self.ports.0, self.ports.1, self.ports_per_run
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a [git] table")]
pub(crate) struct RawGit {
    pub worktrees: Option<bool>,
    pub branch_prefix: Option<BranchPrefix>,
    pub base: Option<RefName>,
    pub copy: Option<Vec<CopyPath>>,
    pub setup: Option<super::raw::Command>,
    pub ports: Option<PortRange>,
    pub ports_per_run: Option<PortsPerRun>,
    pub merge: Option<MergeStrategy>,
}

/// Why `name` cannot be (part of) a git branch name, following `git check-ref-format`.
pub fn ref_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("must not be empty");
    }
    if name.starts_with('-') || name.starts_with('/') {
        return Some("must not start with '-' or '/'");
    }
    if name.contains("..") || name.contains("//") || name.contains("@{") {
        return Some("must not contain '..', '//' or '@{'");
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == ' ' || "~^:?*[\\".contains(c))
    {
        return Some("must not contain spaces, control characters or any of ~ ^ : ? * [ \\");
    }
    if name.ends_with(".lock") || name.ends_with('.') || name.split('/').any(|p| p.starts_with('.'))
    {
        return Some("must not end in '.lock' or '.', nor have a part starting with '.'");
    }
    None
}

/// `branch_prefix`: the start of every feature branch, e.g. `corral/`.
#[derive(Debug)]
pub(crate) struct BranchPrefix(pub String);

impl<'de> Deserialize<'de> for BranchPrefix {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        // A prefix ending in '/' is fine: a feature part always follows it.
        match ref_problem(&format!("{s}1-x")) {
            Some(p) => Err(de::Error::custom(format!(
                "{s:?} cannot start a git branch name: {p}"
            ))),
            None => Ok(BranchPrefix(s)),
        }
    }
}

/// `base`: a branch name.
#[derive(Debug)]
pub(crate) struct RefName(pub String);

impl<'de> Deserialize<'de> for RefName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        match ref_problem(&s) {
            Some(p) => Err(de::Error::custom(format!(
                "{s:?} is not a git branch name: {p}"
            ))),
            None => Ok(RefName(s)),
        }
    }
}

/// One `copy` entry: a relative path that stays inside the project.
#[derive(Debug)]
pub(crate) struct CopyPath(pub String);

impl<'de> Deserialize<'de> for CopyPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        let path = std::path::Path::new(&s);
        if s.is_empty() || s.contains('\0') {
            return Err(de::Error::custom("must be a non-empty path"));
        }
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(de::Error::custom(format!(
                "{s:?} must be relative to the project and stay inside it (no leading '/', no '..')"
            )));
        }
        Ok(CopyPath(s))
    }
}

/// `ports = [first, last]`: an inclusive range of unprivileged ports.
#[derive(Debug)]
pub(crate) struct PortRange(pub u16, pub u16);

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Vec::<i64>::deserialize(deserializer)?;
        let [first, last] = v[..] else {
            return Err(de::Error::custom(
                "expected two ports, the first and the last: e.g. [20000, 29999]",
            ));
        };
        let port = |n: i64| u16::try_from(n).ok().filter(|p| *p >= 1024);
        match (port(first), port(last)) {
            (Some(a), Some(b)) if a <= b => Ok(PortRange(a, b)),
            (Some(_), Some(_)) => Err(de::Error::custom(format!(
                "the first port ({first}) must not be above the last ({last})"
            ))),
            _ => Err(de::Error::custom(format!(
                "ports must be between 1024 and 65535, got [{first}, {last}]"
            ))),
        }
    }
}

/// `ports_per_run`: 1 to 1000.
#[derive(Debug)]
pub(crate) struct PortsPerRun(pub u16);

impl<'de> Deserialize<'de> for PortsPerRun {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(deserializer)?;
        match u16::try_from(n) {
            Ok(n) if (1..=1000).contains(&n) => Ok(PortsPerRun(n)),
            _ => Err(de::Error::custom(format!(
                "must be between 1 and 1000, got {n}"
            ))),
        }
    }
}
