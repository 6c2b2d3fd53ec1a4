//! Command-line definitions for every subcommand.

use clap::{Parser, Subcommand};
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
    /// Print the project's features, jobs and runs (works while a dashboard is open).
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The built-in demo agent (used by `corral demo`).
    #[command(hide = true)]
    DemoAgent {
        #[arg(long)]
        feature: i64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Multiplies every pause (0.01 for tests).
        #[arg(long, default_value_t = 1.0)]
        pace: f64,
    },
}
