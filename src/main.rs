//! The corral binary: parse arguments, install hooks, dispatch.

use clap::Parser;
use corral::cli::{Cli, Cmd};
use corral::commands::{self, DashboardOptions};
use corral::ui::theme::Theme;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Any command's error, kept typed: a refused command is an expected outcome, and no backtrace
/// is captured for it (color-eyre's report captured and resolved one when `RUST_BACKTRACE` was
/// set, which made a refusal take a quarter of a second). color-eyre stays for panics.
type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, Error>;

/// An error with what corral was doing when it happened.
#[derive(Debug)]
struct Context {
    what: String,
    source: Error,
}

impl std::fmt::Display for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for Context {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

fn context(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |e| {
        Box::new(Context {
            what,
            source: Box::new(e),
        })
    }
}

/// The error and its causes, outermost first, joined by `: `.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        // A message that already quotes its cause (an io error named with its file) says
        // it once.
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return refused_arguments(&e),
    };
    // Before the dashboard installs its terminal-restoring panic hook, so that one wraps this.
    let _ = color_eyre::install();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Escaped like every other output: an error may quote a feature name, a file or an
            // agent's line. Quietly if stderr is gone (a closed terminal).
            commands::output::print_error(&format!("corral: {}", chain(e.as_ref())));
            if let Some(hint) = hint_for(&e) {
                commands::output::print_error(&format!("hint: {hint}"));
            }
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each cause said once: an error whose message already quotes its
/// source (`missing.json: No such file or directory`) is not followed by it again.
/// Help and version as clap prints them; a refused command line escaped like every other
/// error, since clap quotes the argument it refused and that may hold terminal escapes.
fn refused_arguments(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // Display drops clap's styling: plain text, then escaped.
    let text = e.render().to_string();
    commands::output::print_error(text.trim_end());
    ExitCode::from(e.exit_code().clamp(0, 255) as u8)
}

/// A next step for errors a new user meets (a missing config already says `corral init`).
fn hint_for(e: &Error) -> Option<&'static str> {
    use corral::commands::DashboardError;
    const FIX_CONFIG: &str = "fix the line named above; `corral init --force` writes a fresh commented corral.toml to start from";
    if let Some(corral::commands::StatusError::Config(_)) = e.downcast_ref() {
        return Some(FIX_CONFIG);
    }
    match e.downcast_ref::<DashboardError>()? {
        DashboardError::Config(corral::config::ConfigError::Missing { .. }) => None,
        DashboardError::Config(_) => Some(FIX_CONFIG),
        _ => None,
    }
}

fn project_dir(cli: &Cli) -> Result<PathBuf> {
    let dir = cli.project.clone().unwrap_or_else(|| PathBuf::from("."));
    dir.canonicalize()
        .map_err(context(format!("project directory {}", dir.display())))
}

fn theme(cli: &Cli) -> Theme {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    Theme {
        color: !set("NO_COLOR"),
        ascii: cli.ascii || set("CORRAL_ASCII"),
    }
}

/// Runs the dashboard; the exit code says whether a signal (128 + its number) stopped it.
fn dashboard(cli: &Cli, project: &Path, demo: bool) -> Result<(ExitCode, bool)> {
    corral::logging::init();
    let ended = commands::open_dashboard(DashboardOptions {
        project: project.to_path_buf(),
        theme: theme(cli),
        no_daemon: cli.no_daemon || commands::no_daemon_from_env(),
        read_only: cli.read_only,
        demo,
    })?;
    let code = ended.signal.map_or(ExitCode::SUCCESS, |s| {
        ExitCode::from((128 + s).clamp(0, 255) as u8)
    });
    Ok((code, ended.daemon_runs))
}

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        None => return Ok(dashboard(&cli, &project_dir(&cli)?, false)?.0),
        Some(Cmd::Demo { dir }) => {
            let dir = dir.clone().unwrap_or_else(corral::demo::default_demo_dir);
            let exe = std::env::current_exe()
                .map_err(context("cannot find the running corral binary"))?;
            corral::demo::create_demo_project(&dir, &exe)?;
            let dir = dir.canonicalize()?;
            let result = dashboard(&cli, &dir, true);
            // Still running, the detach message has said how to reach it.
            if !matches!(result, Ok((_, true))) {
                let _ = commands::output::print_text(&format!(
                    "demo project kept in {0}\nreopen it with: {1} --project {0}",
                    dir.display(),
                    exe.display()
                ));
            }
            return result.map(|(code, _)| code);
        }
        Some(Cmd::Init { force }) => {
            let dir = cli.project.clone().unwrap_or_else(|| PathBuf::from("."));
            let exe = std::env::current_exe().ok();
            let done = commands::init_project(&dir, *force, exe.as_deref())?;
            let shown = dir.canonicalize().unwrap_or(dir.clone());
            commands::output::print_text(&format!(
                "{}\nedit the [profiles] in {}, then run `corral` in {}",
                done.describe(),
                done.config.display(),
                shown.display()
            ))?;
        }
        Some(Cmd::Run {
            headless: true,
            until_done,
        }) => {
            corral::logging::init_headless();
            let end = commands::run_headless(&project_dir(&cli)?, *until_done)?;
            return Ok(match end {
                commands::HeadlessEnd::AllPassing => ExitCode::SUCCESS,
                commands::HeadlessEnd::Stuck => ExitCode::from(1),
                commands::HeadlessEnd::Signal(0) => ExitCode::SUCCESS,
                commands::HeadlessEnd::Signal(s) => ExitCode::from((128 + s).clamp(0, 255) as u8),
            });
        }
        Some(Cmd::Run {
            headless: false, ..
        }) => return Ok(dashboard(&cli, &project_dir(&cli)?, false)?.0),
        Some(Cmd::Status { json }) => commands::print_status(&project_dir(&cli)?, *json)?,
        Some(Cmd::Feature { action }) => {
            commands::run_feature_command(&project_dir(&cli)?, action)?;
        }
        Some(Cmd::Worktree { action }) => {
            commands::run_worktree_command(&project_dir(&cli)?, action)?
        }
        Some(Cmd::Job { action }) => commands::run_job_command(&project_dir(&cli)?, action)?,
        Some(Cmd::Breaker { action }) => {
            commands::run_breaker_command(&project_dir(&cli)?, action)?
        }
        Some(Cmd::Scheduler { action }) => {
            commands::run_scheduler_command(&project_dir(&cli)?, action)?
        }
        Some(Cmd::Daemon { action }) => commands::run_daemon_command(&project_dir(&cli)?, action)?,
        Some(Cmd::Agent { action }) => commands::run_agent_command(&project_dir(&cli)?, action)?,
        Some(Cmd::Import { file }) => commands::import_backlog(&project_dir(&cli)?, file)?,
        // JSON is the only format; `--json` is accepted like every other listing's.
        Some(Cmd::Export { json: _ }) => commands::export_backlog(&project_dir(&cli)?)?,
        Some(Cmd::Completions { shell }) => commands::print_completions(*shell)?,
        Some(Cmd::Man { path }) => commands::print_man_page(path)?,
        Some(Cmd::DemoAgent {
            feature,
            name,
            seed,
            pace,
            stream_json,
        }) => {
            let code = corral::demo::agent::run(&corral::demo::agent::DemoAgentArgs {
                feature: *feature,
                name: name.clone(),
                seed: *seed,
                pace: *pace,
                stream_json: *stream_json,
            });
            return Ok(ExitCode::from(code.clamp(0, 255) as u8));
        }
    }
    Ok(ExitCode::SUCCESS)
}
