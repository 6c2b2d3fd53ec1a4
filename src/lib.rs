//! corral: a terminal control room for fleets of coding agents.
//!
//! Layers (dependencies point inward): `ui → api ← runtime → core`.

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod core;
pub mod demo;
pub mod logging;
pub mod runtime;
pub mod ui;
