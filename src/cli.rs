//! Command-line definitions for every subcommand.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "corral",
    version,
    about = "A terminal control room for fleets of coding agents"
)]
pub struct Cli {
    /// The project directory (default: the current directory).
    #[arg(long, short = 'p', global = true, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Draw only ASCII glyphs (also: CORRAL_ASCII=1).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Run the agents inside this dashboard instead of the project's daemon: they stop when
    /// it ends (also: CORRAL_NO_DAEMON=1).
    #[arg(long, global = true)]
    pub no_daemon: bool,
    /// Attach to the project's daemon only to watch: keys that would change something say so.
    #[arg(long, global = true, conflicts_with = "no_daemon")]
    pub read_only: bool,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create a demo project and open the dashboard on it.
    Demo {
        /// Where to create it (default: a new directory under the system temp dir).
        dir: Option<PathBuf>,
    },
    /// Write a commented corral.toml and create .corral/ in the project.
    Init {
        /// Overwrite an existing corral.toml.
        #[arg(long)]
        force: bool,
    },
    /// Run the scheduler: with --headless, without a dashboard, one line per event.
    Run {
        /// No dashboard: print one line per event (starts, ends, feature changes, notices).
        #[arg(long)]
        headless: bool,
        /// Exit once every feature passes (0), or when nothing more can happen because
        /// features failed (1).
        #[arg(long)]
        until_done: bool,
    },
    /// Print the project's features, jobs and runs (works while a dashboard is open).
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add, list, show, edit, remove and mark the features of the backlog.
    Feature {
        #[command(subcommand)]
        action: FeatureCmd,
    },
    /// List the job queue, retry or cancel a job (through a running corral if there is one).
    Job {
        #[command(subcommand)]
        action: JobCmd,
    },
    /// List the features' git worktrees, or remove the ones whose work is on the base.
    Worktree {
        #[command(subcommand)]
        action: WorktreeCmd,
    },
    /// List the accounts' circuit breakers, or close one by hand (after logging in again).
    Breaker {
        #[command(subcommand)]
        action: BreakerCmd,
    },
    /// Pause or resume the running corral's scheduler (running agents go on).
    Scheduler {
        #[command(subcommand)]
        action: SchedulerCmd,
    },
    /// Start, stop or look at the project's daemon, which runs the agents without a terminal.
    Daemon {
        #[command(subcommand)]
        action: DaemonCmd,
    },
    /// List the daemon's agents, pause, resume or kill one, or print its output.
    Agent {
        #[command(subcommand)]
        action: AgentCmd,
    },
    /// Add every feature of a JSON backlog file (`-` for stdin), all or nothing.
    Import {
        /// The file: a JSON array of features (see `corral export` for the shape).
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the backlog as JSON in the import format.
    Export {
        /// Print JSON (the only format; accepted like every other listing command's).
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script for bash, zsh, fish, elvish or powershell.
    ///
    /// For bash: `corral completions bash > ~/.local/share/bash-completion/completions/corral`;
    /// zsh: into a directory of your `$fpath` as `_corral`; fish:
    /// `corral completions fish > ~/.config/fish/completions/corral.fish`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or a subcommand's.
    ///
    /// Read it with `corral man | man -l -`; `corral man job retry` prints corral-job-retry(1).
    /// To install: `corral man > ~/.local/share/man/man1/corral.1`.
    Man {
        /// A subcommand, or a path of them (`feature edit`), for its own page.
        #[arg(value_name = "SUBCOMMAND")]
        path: Vec<String>,
    },
    /// The built-in demo agent (used by `corral demo`).
    #[command(hide = true)]
    DemoAgent {
        #[arg(long)]
        feature: i64,
        #[arg(long)]
        name: Option<String>,
        /// Without one, the run id corral gives every agent: each attempt plays out
        /// differently, so a rate-limited attempt is not replayed forever.
        #[arg(long, env = "CORRAL_RUN_ID", default_value_t = 0)]
        seed: u64,
        /// Multiplies every pause (0.01 for tests).
        #[arg(long, default_value_t = 1.0)]
        pace: f64,
        /// Print Claude Code-like `stream-json` events instead of a plain transcript.
        #[arg(long)]
        stream_json: bool,
    },
}

/// Status words `feature list --status` takes; `pending` matches both ready and blocked.
pub const STATUS_WORDS: [&str; 7] = [
    "pending",
    "ready",
    "blocked",
    "in_progress",
    "passing",
    "failing",
    "failed",
];

/// `corral feature ...`: the backlog without a dashboard (a running one is told to reload).
#[derive(Debug, Subcommand)]
pub enum FeatureCmd {
    /// Add one feature.
    Add(Box<FeatureAddArgs>),
    /// List the features: id, status, category, name, dependencies, attempts.
    List {
        /// Only features with this status (`pending`: ready and blocked together).
        #[arg(long, value_name = "STATUS", value_parser = STATUS_WORDS)]
        status: Option<String>,
        /// Print a JSON array of features with every field.
        #[arg(long)]
        json: bool,
    },
    /// Show everything about one feature.
    Show {
        id: i64,
        /// Print JSON with every field.
        #[arg(long)]
        json: bool,
    },
    /// Change a feature; only the options given change.
    Edit(Box<FeatureEditArgs>),
    /// Remove a feature (refused while others depend on it, unless --force).
    Rm {
        id: i64,
        /// Also remove the dependencies other features have on it.
        #[arg(long)]
        force: bool,
    },
    /// Mark a feature passing (with --run: the run's own report).
    Pass {
        id: i64,
        /// The run reporting this result (an agent passes its $CORRAL_RUN_ID).
        #[arg(long, value_name = "RUN")]
        run: Option<i64>,
    },
    /// Mark a feature failing, with the reason (with --run: the run's own report).
    Fail {
        id: i64,
        /// The run reporting this result (an agent passes its $CORRAL_RUN_ID).
        #[arg(long, value_name = "RUN")]
        run: Option<i64>,
        /// Why it fails; kept as the feature's last error.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Put a feature back to ready (or blocked) with its attempts at 0.
    Requeue { id: i64 },
    /// Print the feature's change against its base (its worktree branch since it left the base).
    Diff {
        id: i64,
        /// Only the files with their added and removed lines (`git diff --stat`).
        #[arg(long)]
        stat: bool,
    },
    /// Merge a passing feature's branch into the base now (approves a `review`, or retries
    /// a merge that waited for a clean checkout).
    Merge { id: i64 },
    /// Reject a passing feature's change (under `[git] merge = "review"`): it goes back to the
    /// queue, and the next coding run's prompt carries the reason.
    Reject {
        id: i64,
        /// What to change; given to the agent.
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
}

/// `corral worktree ...`: the features' git worktrees.
#[derive(Debug, Subcommand)]
pub enum WorktreeCmd {
    /// Each feature's worktree: branch, merge state, lock, disk use, whether prune removes it.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove the worktrees and branches whose work is on the base; say why the rest stay.
    Prune {
        /// Only say what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `corral job ...`: the job queue as stored. Retry and cancel go to a running corral through
/// its control socket, or straight to the database when none runs.
#[derive(Debug, Subcommand)]
pub enum JobCmd {
    /// List the queue: open jobs (running, queued, backoff) first, then recent ended ones.
    List {
        /// Print a JSON array of jobs with every field.
        #[arg(long)]
        json: bool,
        /// Every job ever stored, not only the recent ended ones.
        #[arg(long)]
        all: bool,
    },
    /// Start a waiting job as soon as a slot is free (ending its backoff), or queue a failed
    /// or cancelled one again with fresh attempts (its failed feature is ready again).
    Retry {
        id: i64,
        /// Print the job as stored after the change, as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Drop a waiting job, or kill a running one (needs the corral that runs it); its coding
    /// feature is marked failed so it is not queued again.
    Cancel {
        id: i64,
        /// Print the job as stored after the change, as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BreakerCmd {
    /// Every stored breaker: state, until when it rests, whether a login is needed.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Close an account's breaker so its jobs start again (through a running corral if there
    /// is one).
    Close { account: String },
}

#[derive(Debug, Subcommand)]
pub enum SchedulerCmd {
    /// Start no new agents (a running corral only).
    Pause,
    /// Start agents again, also after the budget paused it (a running corral only).
    Resume,
}

/// `corral daemon ...`: the process that owns the project's agents.
#[derive(Debug, Subcommand)]
pub enum DaemonCmd {
    /// Start the daemon in the background (output in .corral/daemon.log); returns once it
    /// answers.
    Start,
    /// Stop every agent (TERM, grace, KILL; their features back to ready), then the daemon.
    Stop,
    /// Start the daemon again (for a new corral binary): stop scheduling, wait for the running
    /// agents to finish, then restart; with --now, stop them instead of waiting.
    Restart {
        /// Stop the running agents (TERM, grace, KILL) instead of waiting for them.
        #[arg(long)]
        now: bool,
    },
    /// Take a changed corral.toml into use (the daemon also notices a change by itself); when
    /// it does not load, the old config stays and the error is printed.
    Reload,
    /// Whether a daemon runs: pid, version, protocol, uptime, clients attached.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `corral agent ...`: the runs of the running daemon (or `corral run --headless`).
#[derive(Debug, Subcommand)]
pub enum AgentCmd {
    /// Every run the daemon remembers: live ones first, then recently ended ones.
    List {
        /// Print a JSON array of runs.
        #[arg(long)]
        json: bool,
    },
    /// Stop a run's whole process group (SIGSTOP).
    Pause {
        run: i64,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Let a paused run go on (SIGCONT).
    Resume {
        run: i64,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop a run: TERM to its group, the grace period, then KILL; waits until it has ended.
    Kill {
        run: i64,
        /// KILL at once.
        #[arg(long)]
        force: bool,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Kill a live run (as `kill`), then start its feature again.
    Restart {
        run: i64,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write TEXT and a newline to a live run's stdin (an agent asking a question).
    Input {
        run: i64,
        text: String,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Allow what a run waiting for you asks (a permission request).
    Approve {
        run: i64,
        /// Allow every later request for the same tool in this run too.
        #[arg(long)]
        tool: bool,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Deny what a run waiting for you asks; the agent is told REASON.
    Deny {
        run: i64,
        #[arg(long)]
        reason: Option<String>,
        /// Print the run as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a run's latest output.
    Log {
        run: i64,
        /// How many lines.
        #[arg(long, default_value_t = 50)]
        lines: usize,
        /// Then print new lines as they come, until the run ends.
        #[arg(long)]
        follow: bool,
        /// Print what the agent did as steps (tool calls with their results, messages), one
        /// a line, read from its event stream.
        #[arg(long, conflicts_with = "follow")]
        steps: bool,
        /// With --steps: print the steps as a JSON array.
        #[arg(long, requires = "steps")]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct FeatureAddArgs {
    /// The feature's name: `corral feature add "Login form"` or `--name "Login form"`.
    #[arg(
        value_name = "NAME",
        required_unless_present = "name",
        conflicts_with = "name"
    )]
    pub name_arg: Option<String>,
    #[arg(long = "name", value_name = "NAME")]
    pub name: Option<String>,
    #[arg(long, default_value = "")]
    pub category: String,
    #[arg(long, default_value = "")]
    pub description: String,
    /// One step of the feature; repeat for more.
    #[arg(long = "step", value_name = "STEP")]
    pub steps: Vec<String>,
    /// Lower starts sooner.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i64,
    /// A feature this one depends on; repeat for more.
    #[arg(long = "dep", value_name = "ID")]
    pub deps: Vec<i64>,
    /// The id to give it (default: one more than the highest).
    #[arg(long)]
    pub id: Option<i64>,
    #[command(flatten)]
    pub overrides: FeatureOverrides,
}

impl FeatureAddArgs {
    /// The name, given either way (clap makes sure one is).
    pub fn name(&self) -> String {
        self.name_arg
            .clone()
            .or_else(|| self.name.clone())
            .unwrap_or_default()
    }
}

/// A feature's own choices for its runs (`""` clears one in `edit`).
#[derive(Debug, Args)]
pub struct FeatureOverrides {
    /// The model for this feature's runs (before the profile's).
    #[arg(long)]
    pub model: Option<String>,
    /// The effort for this feature's runs (before the profile's).
    #[arg(long)]
    pub effort: Option<String>,
    /// Run it with this profile instead of the first enabled one of the role.
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct FeatureEditArgs {
    pub id: i64,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Replaces all steps; repeat for more.
    #[arg(long = "step", value_name = "STEP")]
    pub steps: Vec<String>,
    /// Remove every step.
    #[arg(long, conflicts_with = "steps")]
    pub no_steps: bool,
    #[arg(long, allow_negative_numbers = true)]
    pub priority: Option<i64>,
    #[command(flatten)]
    pub overrides: FeatureOverrides,
    /// Replaces all dependencies; repeat for more.
    #[arg(long = "dep", value_name = "ID")]
    pub deps: Vec<i64>,
    /// Remove every dependency.
    #[arg(long, conflicts_with = "deps")]
    pub no_deps: bool,
    /// Add a dependency; repeat for more.
    #[arg(long = "add-dep", value_name = "ID")]
    pub add_deps: Vec<i64>,
    /// Remove a dependency; repeat for more.
    #[arg(long = "rm-dep", value_name = "ID")]
    pub rm_deps: Vec<i64>,
}

impl FeatureEditArgs {
    /// True when the command asks for no change at all.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.category.is_none()
            && self.description.is_none()
            && self.steps.is_empty()
            && !self.no_steps
            && self.priority.is_none()
            && self.overrides.model.is_none()
            && self.overrides.effort.is_none()
            && self.overrides.profile.is_none()
            && self.deps.is_empty()
            && !self.no_deps
            && self.add_deps.is_empty()
            && self.rm_deps.is_empty()
    }
}
