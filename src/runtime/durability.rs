//! Writes that fail are corral's trouble, never a verdict on the work. A write the store
//! refuses (a full disk, an immutable file) is kept, in order, and every later write waits
//! behind it; the scheduler is held with a message saying what cannot be written; a probe
//! tries again every few seconds and, once the kept writes are in and a test write succeeds,
//! lets the scheduler go on. So the database catches up with what corral decided, in the
//! order it decided it, and nothing new starts meanwhile.

use super::store::{Store, StoreError};
use super::supervisor::Supervisor;
use crate::core::Input;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long an exiting corral keeps trying to write what the store refused.
const LAST_TRIES: Duration = Duration::from_secs(5);

/// Descriptors a start needs free (its pipes, its log, the prompt file, the store's journal).
const SPARE_FDS: usize = 12;

/// Whether this process can open [`SPARE_FDS`] more files right now: a start tried while it
/// cannot would only fail again.
pub(super) fn spare_descriptors() -> std::io::Result<()> {
    let mut held = Vec::with_capacity(SPARE_FDS);
    for _ in 0..SPARE_FDS {
        held.push(std::fs::File::open("/dev/null")?);
    }
    Ok(())
}

/// How often a held scheduler tries the store again.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// One write to the store, repeatable until it succeeds.
pub(super) type Write = Box<dyn Fn(&Store) -> Result<(), StoreError> + Send>;

/// Writes the store refused, oldest first, and the probe that retries them.
#[derive(Default)]
pub(super) struct Unsaved {
    writes: VecDeque<Write>,
    /// A backlog reload waits for the kept writes (it would read what they change).
    pub(super) reload_due: bool,
    /// Set while a probe task runs.
    probing: Arc<AtomicBool>,
    /// The first error, for the message.
    why: Option<String>,
}

impl Unsaved {
    pub(super) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// Why writes are waiting, if they are.
    pub(super) fn why(&self) -> Option<&str> {
        self.why.as_deref()
    }
}

/// Whether a refused write may succeed later unchanged: the file system or the file was the
/// trouble (space, permissions, descriptors, I/O, a lock held too long), not the write.
pub(super) fn retryable(e: &StoreError) -> bool {
    use rusqlite::ErrorCode as C;
    match e {
        StoreError::Io { .. } => true,
        StoreError::Sqlite { source, .. } => matches!(
            source.sqlite_error_code(),
            Some(
                C::DiskFull
                    | C::ReadOnly
                    | C::CannotOpen
                    | C::SystemIoFailure
                    | C::DatabaseBusy
                    | C::DatabaseLocked
                    | C::OutOfMemory
                    | C::PermissionDenied
            )
        ),
        _ => false,
    }
}

/// A sentence for the screen: what cannot be written and why.
pub(super) fn describe(e: &StoreError) -> String {
    let full = match e {
        StoreError::Sqlite { source, .. } => {
            source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
        }
        StoreError::Io { source, .. } => source.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    };
    if full {
        format!("disk full: cannot write {e}")
    } else {
        format!("cannot write {e}")
    }
}

/// The same sentence for a run's log file (its error names the file).
pub(super) fn describe_log(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::StorageFull {
        format!("disk full: cannot write the run log {e}")
    } else {
        format!("cannot write the run log {e}")
    }
}

impl Supervisor {
    /// Writes now, or keeps the write for later behind any kept ones. Answers with the input
    /// that holds the scheduler when the store has just started refusing.
    pub(super) fn write(&mut self, write: Write) -> Option<Input> {
        if !self.unsaved.is_empty() {
            self.unsaved.writes.push_back(write);
            return None;
        }
        match write(&self.store) {
            Ok(()) => None,
            Err(e) if retryable(&e) => {
                self.unsaved.writes.push_back(write);
                self.storage_failed(&e)
            }
            // Wrong in itself (no such row, a constraint): trying again would not help.
            Err(e) => {
                log::error!("{e}");
                None
            }
        }
    }

    /// The store refused a write: hold the scheduler and probe until it takes writes again.
    pub(super) fn storage_failed(&mut self, e: &StoreError) -> Option<Input> {
        let why = describe(e);
        log::error!("{why}");
        self.start_probe();
        if self.unsaved.why.is_none() {
            self.unsaved.why = Some(why.clone());
        }
        match &self.model.held {
            Some(_) => None,
            None => Some(Input::Hold(Some(why))),
        }
    }

    /// Starts the timer that makes the loop try the store again (see `recover`).
    pub(super) fn start_probe(&self) {
        if self.unsaved.probing.swap(true, Ordering::SeqCst) {
            return;
        }
        let probing = self.unsaved.probing.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            while probing.load(Ordering::SeqCst) {
                tokio::time::sleep(PROBE_EVERY).await;
                if tx.send(Input::Kick).is_err() {
                    return;
                }
            }
        });
    }

    /// While held: writes what was kept, then tries a write of its own; when all of it
    /// succeeds, the inputs that reload a waiting backlog and let the scheduler go on.
    pub(super) fn recover(&mut self) -> Vec<Input> {
        if self.model.held.is_none() {
            // A log file that fell behind holds the scheduler as a refused write does.
            return match self.logs.behind() {
                Some(e) => {
                    let why = describe_log(&e);
                    log::error!("{why}");
                    self.start_probe();
                    vec![Input::Hold(Some(why))]
                }
                None => Vec::new(),
            };
        }
        if !self.logs.retry_behind() {
            return Vec::new();
        }
        while let Some(write) = self.unsaved.writes.front() {
            match write(&self.store) {
                Err(e) if retryable(&e) => {
                    log::info!("store still refuses writes: {e}");
                    return Vec::new();
                }
                Err(e) => log::error!("{e}"),
                Ok(()) => {}
            }
            self.unsaved.writes.pop_front();
        }
        if let Err(e) = self.store.probe_write() {
            log::info!("store still refuses writes: {e}");
            return Vec::new();
        }
        self.unsaved.probing.store(false, Ordering::SeqCst);
        self.unsaved.why = None;
        let mut inputs = Vec::new();
        if std::mem::take(&mut self.unsaved.reload_due) {
            match self.store.load_features() {
                Ok(features) => inputs.push(Input::Backlog(features)),
                Err(e) => log::error!("reloading the backlog: {e}"),
            }
        }
        if self.model.held.is_some() {
            inputs.push(Input::Hold(None));
        }
        inputs
    }

    /// Before exiting: a few more tries to write what was kept (a feature whose pass is not
    /// written would run again at the next start), and a clear word if they fail.
    pub(super) fn flush_unsaved(&mut self) {
        let deadline = std::time::Instant::now() + LAST_TRIES;
        while !self.unsaved.is_empty() && std::time::Instant::now() < deadline {
            let _ = self.recover();
            if !self.unsaved.is_empty() {
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        if !self.unsaved.is_empty() {
            log::error!(
                "{} change(s) could not be written to the database before exit ({}); \
                 the next start treats their runs as lost",
                self.unsaved.writes.len(),
                self.unsaved.why().unwrap_or("unknown")
            );
        }
    }
}
