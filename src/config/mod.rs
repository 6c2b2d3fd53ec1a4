//! `corral.toml`: the scheduler settings and the agent profiles.
//!
//! The project's `corral.toml` is merged over an optional user file (see [`user_config_path`]).
//! Each file is parsed and validated on its own, so error lines point into the right file.

mod choices;
mod duration;
mod error;
mod git;
mod keys;
mod notify;
mod patterns;
mod placeholders;
mod queue;
mod raw;
mod sections;

#[cfg(test)]
mod git_tests;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::api::Role;

pub use choices::{runnable_profile_for, start_report};
pub use duration::{format_duration, parse_duration};
pub use error::{ConfigError, Location};
pub use git::{GitConfig, MergeStrategy, ref_problem};
pub use keys::KeyRemap;
pub use notify::{NotifyConfig, TerminalNotify};
pub use placeholders::KNOWN_PLACEHOLDERS;
pub use queue::{BreakerConfig, BudgetConfig, RetryConfig};
pub use sections::{DEFAULT_RING_LINES, LogsConfig, RedactConfig, parse_size};

/// The commented template that `corral init` writes to `<project>/corral.toml`.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/corral.toml");

/// File name of the project configuration, at the project root.
pub const PROJECT_FILE: &str = "corral.toml";

/// Default `scheduler.max_agents`.
pub const DEFAULT_MAX_AGENTS: u32 = 2;

/// Default `grace` of a profile: time between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The merged configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub scheduler: SchedulerConfig,
    /// Profiles by name; never empty when loaded from files ([`Config::load`] refuses that),
    /// may be empty from [`Config::parse`].
    pub profiles: BTreeMap<String, Profile>,
    pub defaults: Defaults,
    pub logs: LogsConfig,
    pub redact: RedactConfig,
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
    pub budget: BudgetConfig,
    /// `[keys]` of every file, in the order they apply (user file first); checked against
    /// the dashboard's keymap while loading.
    pub keys: Vec<KeyRemap>,
    /// `[git]`: worktrees, branches, merging.
    pub git: GitConfig,
    /// `[notify]`: terminal notifications and a command to run.
    pub notify: NotifyConfig,
    /// Files that were read, in merge order (user file first if it exists, then the project
    /// file). Empty for [`Config::parse`].
    pub sources: Vec<PathBuf>,
}

/// `[scheduler]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// How many coding agents may run at once, 0..=64; 0 means start nothing automatically.
    pub max_agents: u32,
    /// Testing agents kept re-checking passing features (0 = none).
    pub testing_agents: u32,
    /// Attempts per feature before it is `failed`.
    pub max_attempts: u32,
    /// Most dependencies one feature may have (imports and edits refuse more).
    pub max_dependencies: u32,
    /// A testing claim older than this is released.
    pub testing_claim_timeout: Duration,
    /// `coding_profile`: the profile coding jobs use (when enabled); see [`Config::profile_for`].
    pub coding_profile: Option<String>,
    /// `testing_profile`: the profile re-checks use.
    pub testing_profile: Option<String>,
    /// `initializer_profile`: the profile that fills an empty backlog.
    pub initializer_profile: Option<String>,
    /// `resume_after_crash`: after corral was killed outright with work running or queued,
    /// start scheduling at once instead of waiting, paused, for a person.
    pub resume_after_crash: bool,
}

impl SchedulerConfig {
    /// The profile named for `role` in `[scheduler]`, if any (custom jobs name none).
    pub fn chosen(&self, role: Role) -> Option<&str> {
        match role {
            Role::Coding => self.coding_profile.as_deref(),
            Role::Testing => self.testing_profile.as_deref(),
            Role::Initializer => self.initializer_profile.as_deref(),
            _ => None,
        }
    }
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        SchedulerConfig {
            max_agents: DEFAULT_MAX_AGENTS,
            testing_agents: 0,
            max_attempts: 3,
            max_dependencies: 50,
            testing_claim_timeout: Duration::from_secs(30 * 60),
            coding_profile: None,
            testing_profile: None,
            initializer_profile: None,
            resume_after_crash: false,
        }
    }
}

/// How a run's success is decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Success {
    /// Exit code 0 means the feature passes.
    #[default]
    Exit,
    /// The agent must call `corral feature pass ID` (or `fail`) during its run.
    Report,
}

/// What an agent's stdin is connected to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StdinMode {
    /// A pipe from corral: the `i` prompt writes to it. The pipe stays open while the run
    /// lives, so a tool that reads stdin to its end waits.
    #[default]
    Pipe,
    /// Nothing (end of file at once), for tools that read stdin when it is not a terminal.
    Null,
    /// Claude Code's `--input-format stream-json`: the prompt goes in as a stream-json user
    /// message, stdin stays open for the answers to permission requests (`control_response`)
    /// and for input (sent as user messages), and is closed once the `result` arrives.
    #[serde(rename = "stream-json")]
    StreamJson,
}

/// `[defaults]`: used by profiles that name no model or effort of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Defaults {
    pub model: Option<String>,
    pub effort: Option<String>,
}

/// `[profiles.NAME]`: how to run one kind of agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The table name, e.g. `coding` for `[profiles.coding]`.
    pub name: String,
    pub role: Role,
    /// argv template: non-empty, first element (the program) non-empty, and only known
    /// placeholders; runs expand it with [`crate::core::argv::expand`]. It is never run through a
    /// shell.
    pub command: Vec<String>,
    /// Extra environment variables for the agent process.
    pub env: BTreeMap<String, String>,
    /// Wall-clock limit for one run; `None` means no limit. Ends as `timed-out`.
    pub timeout: Option<Duration>,
    /// Longest stretch without any output before the run is stopped as `stalled`.
    pub silence: Option<Duration>,
    /// How long a permission request may wait for a person before corral denies it, saying
    /// so; `None`: it waits as long as it takes.
    pub deny_after: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when stopping the agent.
    pub grace: Duration,
    /// Disabled profiles are kept but never chosen by the scheduler.
    pub enabled: bool,
    pub success: Success,
    /// A command that must also pass after the agent exits (argv template, like `command`).
    pub verify: Option<Vec<String>>,
    /// Prompt template file, relative to the project (default: the built-in one for the role).
    pub prompt: Option<String>,
    /// Raw model and effort as written; checked when a run resolves them (bad ones are skipped
    /// with a log line saying where they came from, never passed on).
    pub model: Option<String>,
    pub effort: Option<String>,
    /// Allowed efforts; when set, any other effort is skipped.
    pub efforts: Option<Vec<String>>,
    /// A dotenv file (relative to the project) merged under `env`.
    pub env_file: Option<String>,
    /// Most runs of this profile at once.
    pub max_parallel: Option<u32>,
    pub stdin: StdinMode,
    /// The account whose limits and circuit breaker this profile shares (default: its name).
    pub account: String,
    /// Extra regexes that mark a failed run's log as transient (retry later).
    pub transient_patterns: Vec<String>,
}

impl Config {
    /// Loads `<project>/corral.toml` merged over the user file at [`user_config_path`], if
    /// that exists.
    ///
    /// Errors: [`ConfigError::Missing`] if the project file does not exist; otherwise the
    /// first read, syntax or validation error, naming the file it is in; and
    /// [`ConfigError::Invalid`] on `profiles` when neither file defines a profile.
    pub fn load(project: &Path) -> Result<Config, ConfigError> {
        Config::load_with_user(project, user_config_path().as_deref())
    }

    /// Like [`Config::load`] with an explicit user file; `None` (or a path that does not
    /// exist) means no user file.
    pub fn load_with_user(project: &Path, user: Option<&Path>) -> Result<Config, ConfigError> {
        let project_path = project.join(PROJECT_FILE);
        let project_text = match std::fs::read_to_string(&project_path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                return Err(ConfigError::Missing {
                    project: project.to_path_buf(),
                });
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: project_path,
                    source,
                });
            }
        };

        let mut layers = Vec::new();
        let mut sources = Vec::new();
        if let Some(user) = user {
            match std::fs::read_to_string(user) {
                Ok(text) => {
                    layers.push(Layer::parse(&text, &user.display().to_string())?);
                    sources.push(user.to_path_buf());
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: user.to_path_buf(),
                        source,
                    });
                }
            }
        }
        layers.push(Layer::parse(
            &project_text,
            &project_path.display().to_string(),
        )?);
        sources.push(project_path.clone());
        let mut config = Config::merge(layers)?;
        // An empty or profile-less file would load and then never run anything, silently.
        if config.profiles.is_empty() {
            return Err(ConfigError::Invalid {
                at: Location {
                    label: project_path.display().to_string(),
                    line: None,
                },
                key: "profiles".into(),
                message: "no profile, so corral has no agent to run: add a [profiles.NAME] \
                          table with a role and a command"
                    .into(),
            });
        }
        config.sources = sources;
        Ok(config)
    }

    /// Parses and validates one document with defaults applied. `label` is what error
    /// messages call the file (e.g. `"corral.toml"`). `sources` is left empty.
    pub fn parse(text: &str, label: &str) -> Result<Config, ConfigError> {
        Config::merge(vec![Layer::parse(text, label)?])
    }

    /// Applies `layers` (lowest precedence first) over the defaults, then checks what only the
    /// merged values can tell.
    fn merge(layers: Vec<Layer>) -> Result<Config, ConfigError> {
        let mut config = Config {
            scheduler: SchedulerConfig::default(),
            profiles: BTreeMap::new(),
            defaults: Defaults::default(),
            logs: LogsConfig::default(),
            redact: RedactConfig::default(),
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
            budget: BudgetConfig::default(),
            keys: Vec::new(),
            git: GitConfig::default(),
            notify: NotifyConfig::default(),
            sources: Vec::new(),
        };
        let mut queue = Vec::with_capacity(layers.len());
        let mut choices = Vec::new();
        let mut last_git_label = None;
        for layer in layers {
            if layer.sets_git {
                last_git_label = Some(layer.label.clone());
            }
            choices.extend(layer.choices.iter().cloned());
            config.apply(layer, &mut queue);
        }
        (config.retry, config.breaker, config.budget) = queue::resolve(&queue)?;
        if let Some((problem, label)) = config.git.check().err().zip(last_git_label) {
            return Err(ConfigError::Invalid {
                at: Location { label, line: None },
                key: "git.ports".into(),
                message: problem,
            });
        }
        // The keymap is the dashboard's, but a mistake in `[keys]` is a mistake in this file:
        // report it now, whatever command loads the config.
        crate::ui::keys_config::build(&config.keys)?;
        // The last file to name a role's profile is the one that decides it.
        for role in [Role::Coding, Role::Testing, Role::Initializer] {
            if let Some(choice) = choices.iter().rev().find(|c| c.role == role) {
                choices::check(choice, &config.profiles)?;
            }
        }
        Ok(config)
    }

    /// The profile jobs of `role` run with: the one `[scheduler]` names for the role while it
    /// is enabled, else the first enabled profile with `role`, in name order.
    pub fn profile_for(&self, role: Role) -> Option<&Profile> {
        let named = self
            .scheduler
            .chosen(role)
            .and_then(|name| self.profiles.get(name))
            .filter(|p| p.enabled && p.role == role);
        named.or_else(|| self.profiles.values().find(|p| p.enabled && p.role == role))
    }

    /// [`Config::profile_for`] the coding role.
    pub fn coding_profile(&self) -> Option<&Profile> {
        self.profile_for(Role::Coding)
    }

    /// Merges a later (higher-precedence) layer into `self`: fields of the tables (scheduler,
    /// logs, ...) that the layer sets override field by field; profiles replace same-named ones
    /// whole, because merging half of one agent's command with half of another's would run
    /// something nobody wrote. The queue tables go to `queue`, for [`queue::resolve`].
    fn apply(&mut self, layer: Layer, queue: &mut Vec<queue::QueueLayer>) {
        let (sched, raw) = (&mut self.scheduler, layer.scheduler);
        if let Some(n) = raw.max_agents {
            sched.max_agents = n.0;
        }
        if let Some(n) = raw.testing_agents {
            sched.testing_agents = n;
        }
        if let Some(n) = raw.max_attempts {
            sched.max_attempts = n.0;
        }
        if let Some(n) = raw.max_dependencies {
            sched.max_dependencies = n;
        }
        if let Some(d) = raw.testing_claim_timeout {
            sched.testing_claim_timeout = d.0;
        }
        if let Some(name) = raw.coding_profile {
            sched.coding_profile = Some(name.into_inner());
        }
        if let Some(name) = raw.testing_profile {
            sched.testing_profile = Some(name.into_inner());
        }
        if let Some(name) = raw.initializer_profile {
            sched.initializer_profile = Some(name.into_inner());
        }
        if let Some(go_on) = raw.resume_after_crash {
            sched.resume_after_crash = go_on;
        }
        if layer.defaults.model.is_some() {
            self.defaults.model = layer.defaults.model;
        }
        if layer.defaults.effort.is_some() {
            self.defaults.effort = layer.defaults.effort;
        }
        self.profiles.extend(layer.profiles);
        let (logs, raw) = (&mut self.logs, layer.logs);
        if let Some(n) = raw.ring_lines {
            logs.ring_lines = n.0;
        }
        if let Some(n) = raw.keep_days {
            logs.keep_days = n;
        }
        if let Some(n) = raw.keep_files {
            logs.keep_files = n;
        }
        if let Some(n) = raw.keep_bytes {
            logs.keep_bytes = n.0;
        }
        // Patterns add up: a secret the user file hides stays hidden in every project.
        self.redact.patterns.extend(layer.redact_patterns);
        self.keys.extend(layer.keys);
        self.git.apply(layer.git);
        self.notify.apply(layer.notify);
        queue.push(layer.queue);
    }
}

/// The settings one file states, validated, before merging.
struct Layer {
    scheduler: raw::RawScheduler,
    defaults: raw::RawDefaults,
    profiles: BTreeMap<String, Profile>,
    logs: sections::RawLogs,
    redact_patterns: Vec<String>,
    /// `[retry]`, `[breaker]` and `[budget]`.
    queue: queue::QueueLayer,
    keys: Vec<KeyRemap>,
    git: git::RawGit,
    notify: notify::RawNotify,
    /// Whether the file has a `[git]` table, and what errors call the file.
    sets_git: bool,
    label: String,
    /// The `[scheduler]` profile choices this file makes, with where.
    choices: Vec<choices::Choice>,
}

impl Layer {
    fn parse(text: &str, label: &str) -> Result<Layer, ConfigError> {
        let deserializer =
            toml::Deserializer::parse(text).map_err(|err| error::syntax(text, label, &err))?;
        let raw: raw::RawFile = serde_path_to_error::deserialize(deserializer)
            .map_err(|err| error::invalid(text, label, err))?;
        let profiles = raw
            .profiles
            .into_iter()
            .map(|(name, p)| {
                let profile = Profile {
                    name: name.clone(),
                    role: p.role,
                    command: p.command.0,
                    env: p.env.into_iter().map(|(k, v)| (k.0, v.0)).collect(),
                    timeout: p.timeout.map(|t| t.0),
                    silence: p.silence.map(|t| t.0),
                    deny_after: p.deny_after.map(|t| t.0),
                    grace: p.grace.map_or(DEFAULT_GRACE, |g| g.0),
                    enabled: p.enabled,
                    success: p.success,
                    verify: p.verify.map(|v| v.0),
                    prompt: p.prompt,
                    model: p.model,
                    effort: p.effort,
                    efforts: p.efforts,
                    env_file: p.env_file,
                    max_parallel: p.max_parallel,
                    stdin: p.stdin,
                    account: p.account.map_or_else(|| name.clone(), |a| a.0),
                    transient_patterns: p.transient_patterns.unwrap_or_default().0,
                };
                (name, profile)
            })
            .collect();
        let choices = choices::of_layer(&raw.scheduler, text, label);
        Ok(Layer {
            choices,
            scheduler: raw.scheduler,
            defaults: raw.defaults,
            profiles,
            logs: raw.logs,
            redact_patterns: raw.redact.patterns.into_iter().map(|p| p.0).collect(),
            queue: queue::QueueLayer::new(raw.retry, raw.breaker, raw.budget, text, label),
            keys: raw.keys.remaps(label),
            sets_git: text_has_git(text),
            git: raw.git,
            notify: raw.notify,
            label: label.to_string(),
        })
    }
}

/// Whether a document has a `[git]` table (so a port-range problem can name the file).
fn text_has_git(text: &str) -> bool {
    text.parse::<toml::Table>()
        .is_ok_and(|t| t.contains_key("git"))
}

/// The user configuration file: `config.toml` in corral's per-user config directory
/// (`$XDG_CONFIG_HOME/corral/config.toml`, usually `~/.config/corral/config.toml`, on
/// Linux). `None` if no home directory can be determined. The file need not exist.
pub fn user_config_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "corral")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}
