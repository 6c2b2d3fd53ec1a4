//! What each subcommand does, between the CLI parser and the layers.

mod agent;
mod agent_steps;
mod backlog;
mod breaker;
mod daemon;
mod dashboard;
mod feature;
mod feature_view;
mod headless;
mod import;
mod init;
mod job;
mod job_view;
mod live;
mod manual;
pub mod output;
mod status;
mod worktree;

pub use agent::run_agent_command;
pub use backlog::BacklogCommandError;
pub use breaker::{run_breaker_command, run_scheduler_command};
pub use daemon::{DaemonCommandError, run_daemon_command};
pub use dashboard::{DashboardError, DashboardOptions, Ended, no_daemon_from_env, open_dashboard};
pub use feature::run_feature_command;
pub use headless::{HeadlessEnd, run_headless};
pub use import::{export_backlog, import_backlog};
pub use init::init_project;
pub use job::run_job_command;
pub use manual::{print_completions, print_man_page};
pub use status::{StatusError, print_status, status_json};
pub use worktree::{feature_diff, feature_merge, run_worktree_command};
