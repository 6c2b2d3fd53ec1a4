//! `CORRAL_PORT_BASE`: each live run holds its own block of ports until it ends, so parallel
//! dev servers never collide. Process-wide, so two projects run by one corral never share a
//! block either.

use crate::core::worktree::free_port_base;
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

fn taken() -> &'static Mutex<BTreeSet<u16>> {
    static TAKEN: OnceLock<Mutex<BTreeSet<u16>>> = OnceLock::new();
    TAKEN.get_or_init(Default::default)
}

/// A block of ports held until dropped.
#[derive(Debug)]
pub struct PortLease {
    pub base: u16,
}

impl PortLease {
    /// The first free block of `per_run` ports in `first..=last`; `None` when all are held.
    pub fn take(first: u16, last: u16, per_run: u16) -> Option<PortLease> {
        let mut taken = taken().lock().unwrap_or_else(|p| p.into_inner());
        let base = free_port_base(first, last, per_run, &taken)?;
        taken.insert(base);
        Some(PortLease { base })
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        taken()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.base);
    }
}
