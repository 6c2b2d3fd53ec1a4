//! corral: a terminal control room for fleets of coding agents.
//!
//! Layers (dependencies point inward): `ui → api ← runtime → core`.

pub mod api;
pub mod core;
