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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// How often a lasting hold is said again in the log.
const SAY_AGAIN: Duration = Duration::from_secs(60);

/// Something of corral's own that a start lacked, and that must be back before the
/// scheduler goes on: a release that a probe has not checked would only fail the next start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shortage {
    /// `EMFILE`, `ENFILE`: a start needs [`SPARE_FDS`] free.
    Descriptors,
    /// `ENOMEM`, `EAGAIN`: a process of corral's own must start.
    Processes,
}

impl Shortage {
    /// The shortage an error from a start stands for, if it is one a probe can check.
    pub(super) fn of(e: &std::io::Error) -> Option<Shortage> {
        use nix::libc::{EAGAIN, EMFILE, ENFILE, ENOMEM};
        match e.raw_os_error() {
            Some(EMFILE | ENFILE) => Some(Shortage::Descriptors),
            Some(ENOMEM | EAGAIN) => Some(Shortage::Processes),
            _ => None,
        }
    }

    /// Whether it is over.
    fn probe(self) -> std::io::Result<()> {
        spare_descriptors()?;
        if self == Shortage::Processes {
            let mut child = std::process::Command::new("true")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()?;
            child.wait()?;
        }
        Ok(())
    }
}

/// One write to the store, repeatable until it succeeds.
pub(super) type Write = Box<dyn Fn(&Store) -> Result<(), StoreError> + Send>;

/// Writes the store refused, oldest first, and the probe that retries them.
#[derive(Default)]
pub(super) struct Unsaved {
    writes: VecDeque<Write>,
    /// A backlog reload waits for the kept writes (it would read what they change).
    pub(super) reload_due: bool,
    /// Whether a probe's timer runs.
    probing: bool,
    /// Which timer may run: a timer of an earlier hold stops at its next tick, so a hold
    /// that comes back soon after one ends still has one timer, not two.
    epoch: Arc<AtomicU64>,
    /// The first error, for the message.
    why: Option<String>,
    /// What a start lacked, checked by the probe before the scheduler goes on.
    pub(super) short: Option<Shortage>,
    /// Set by the probe's timer: the next pass of the loop tries again. Other inputs (a log
    /// line, a sample) arriving meanwhile do not, or a hold would let go and come back many
    /// times a second.
    due: Arc<AtomicBool>,
    /// When the hold was last said in the log (once a minute at most while it lasts).
    said_at: Option<Instant>,
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
    pub(super) fn start_probe(&mut self) {
        if std::mem::replace(&mut self.unsaved.probing, true) {
            return;
        }
        // The hold itself has just been said; a lasting one is said again a minute on.
        self.unsaved.said_at = Some(Instant::now());
        let epoch = self.unsaved.epoch.clone();
        let mine = epoch.fetch_add(1, Ordering::SeqCst) + 1;
        let due = self.unsaved.due.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                if epoch.load(Ordering::SeqCst) != mine {
                    return;
                }
                due.store(true, Ordering::SeqCst);
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
        // Only the probe's time tries again (see `Unsaved::due`).
        if !self.unsaved.due.swap(false, Ordering::SeqCst) {
            return Vec::new();
        }
        if !self.logs.retry_behind() {
            return Vec::new();
        }
        while let Some(write) = self.unsaved.writes.front() {
            match write(&self.store) {
                Err(e) if retryable(&e) => {
                    self.still_held(&format!("store still refuses writes: {e}"));
                    return Vec::new();
                }
                Err(e) => log::error!("{e}"),
                Ok(()) => {}
            }
            self.unsaved.writes.pop_front();
        }
        if let Err(e) = self.store.probe_write() {
            self.still_held(&format!("store still refuses writes: {e}"));
            return Vec::new();
        }
        if let Some(short) = self.unsaved.short
            && let Err(e) = short.probe()
        {
            self.still_held(&format!("still short: {e}"));
            return Vec::new();
        }
        self.unsaved.probing = false;
        self.unsaved.epoch.fetch_add(1, Ordering::SeqCst);
        self.unsaved.why = None;
        self.unsaved.short = None;
        self.unsaved.said_at = None;
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

    /// A probe that found the trouble still there: said in the log once a minute at most.
    fn still_held(&mut self, what: &str) {
        let now = Instant::now();
        if self.unsaved.said_at.is_some_and(|at| now < at + SAY_AGAIN) {
            return;
        }
        self.unsaved.said_at = Some(now);
        let why = self.model.held.as_deref().unwrap_or("unknown");
        log::warn!("scheduler still held ({why}): {what}");
    }

    /// Before exiting: a few more tries to write what was kept (a feature whose pass is not
    /// written would run again at the next start), and a clear word if they fail.
    pub(super) fn flush_unsaved(&mut self) {
        let deadline = std::time::Instant::now() + LAST_TRIES;
        while !self.unsaved.is_empty() && std::time::Instant::now() < deadline {
            self.unsaved.due.store(true, Ordering::SeqCst);
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
