//! I/O adapters on tokio: they execute the core's effects and turn the world back into inputs.

mod attention;
pub mod capture;
pub mod cgroup;
mod config_reload;
pub mod control;
pub mod daemon;
mod durability;
pub mod env_file;
mod escapees;
pub mod git;
mod handle;
mod history;
pub mod lock;
mod model_config;
pub mod notify;
pub mod process;
pub mod profile_toggle;
mod profile_views;
pub mod prompt;
pub mod reaper;
mod recovery;
pub mod retention;
mod run_setup;
pub mod sampler;
mod schema;
mod spawner;
mod state_watch;
pub mod store;
pub mod stored;
mod supervisor;

pub use handle::RuntimeHandle;
pub use recovery::{Swept, sweep_leftover_runs};
pub use supervisor::{RuntimeOptions, StartError, start};

/// Milliseconds since the Unix epoch: the runtime's one clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
