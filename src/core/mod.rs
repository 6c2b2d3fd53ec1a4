//! The pure heart of corral: state machines and decisions as functions of (state, input, now).
//!
//! Nothing here touches a process, a file, a clock or the environment. The runtime feeds
//! [`Input`]s in, executes the [`Effect`]s that come out, and feeds the results back.

mod accounts;
pub mod agent_text;
pub mod argv;
pub mod attention;
pub mod backlog;
mod backlog_import;
pub mod backlog_profiles;
pub mod backoff;
pub mod breaker;
mod commands;
mod effect;
pub mod failure;
pub mod graph;
mod graph_features;
pub mod graph_live;
mod json_keys;
pub mod lines;
mod model;
pub mod model_choice;
mod outcome;
pub mod partial_line;
pub mod printable;
mod queue;
mod records;
pub mod redact;
pub mod retention;
mod run;
pub mod scheduler;
mod snapshot;
mod spawns;
pub mod stats;
pub mod steps;
pub mod usage;
pub mod waiting;
pub mod worktree;

pub use effect::{Effect, Notification, Sig, TimerKind, WakeKey};
pub use model::{Failure, Feature, Input, Job, Model, NewRun, Verdict, describe_end};
pub use run::{Run, RunEvent};

#[cfg(test)]
mod hold_tests;
#[cfg(test)]
mod stop_tests;
#[cfg(test)]
mod tests;
