//! `corral completions SHELL` and `corral man`: both generated from the clap definitions in
//! `cli.rs`, so they can never disagree with what the binary accepts.

use crate::cli::Cli;
use clap::CommandFactory;
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum ManualError {
    #[error("no subcommand `{0}`: `corral help` lists them")]
    NoSubcommand(String),
    #[error("writing to stdout: {0}")]
    Write(#[from] std::io::Error),
}

/// Prints the completion script for `shell` to stdout.
pub fn print_completions(shell: clap_complete::Shell) -> Result<(), ManualError> {
    let mut cmd = without_hidden(Cli::command());
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "corral", &mut out);
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}

/// `cmd` without its hidden subcommands (the demo agent is corral's own, not a user's):
/// the generators offer hidden subcommands anyway, and clap has no way to remove one, so the
/// top level is built again from its visible parts.
fn without_hidden(cmd: clap::Command) -> clap::Command {
    let visible: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .cloned()
        .collect();
    let mut out = clap::Command::new(cmd.get_name().to_string())
        .args(cmd.get_arguments().cloned())
        .subcommands(visible);
    if let Some(version) = cmd.get_version() {
        out = out.version(version.to_string());
    }
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    out
}

/// Prints the man page of corral, or of the subcommand at `path` (`["feature", "edit"]` is
/// `corral-feature-edit(1)`), as roff.
pub fn print_man_page(path: &[String]) -> Result<(), ManualError> {
    let mut cmd = Cli::command();
    // Subcommands' pages are named after their whole path, as git's are (`corral-job`).
    cmd.build();
    let mut name = String::from("corral");
    let mut shown = name.clone();
    for word in path {
        shown = format!("{shown} {word}");
        let sub = cmd
            .get_subcommands()
            .find(|c| c.get_name() == word && !c.is_hide_set())
            .cloned()
            .ok_or_else(|| ManualError::NoSubcommand(shown.clone()))?;
        name = format!("{name}-{word}");
        cmd = sub.name(name.clone()).version(env!("CARGO_PKG_VERSION"));
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut out)?;
    std::io::stdout().lock().write_all(&out)?;
    Ok(())
}
