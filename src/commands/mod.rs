//! What each subcommand does, between the CLI parser and the layers.

mod dashboard;
mod init;
mod status;

pub use dashboard::{DashboardError, DashboardOptions, Ended, open_dashboard};
pub use init::init_project;
pub use status::{print_status, status_json};
