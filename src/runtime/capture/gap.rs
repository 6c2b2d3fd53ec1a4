//! A log file that could not be written (a full disk, a file made immutable) is not left cut
//! mid-line: the lines stay in the ring, and once writes succeed again the file is cut back to
//! its last whole line and the missing lines are written from the ring (or, for those the ring
//! no longer holds, a line saying how many are missing). Until then the run's end waits
//! (see `LogHub::caught_up`), so a cut log is never judged.

use super::{LogHub, READ_CHUNK, RunLog, lock};
use crate::api::RunId;
use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The runs whose files are behind, and why the latest fell behind: what the supervisor
/// holds the scheduler for.
#[derive(Default)]
pub(super) struct Behind {
    runs: Mutex<BTreeSet<RunId>>,
    why: Mutex<Option<std::io::Error>>,
    /// Told when a file falls behind: nothing else may wake the supervisor to hold the
    /// scheduler (headless samples nothing while nobody looks).
    fell: tokio::sync::Notify,
}

impl LogHub {
    /// Why some run's log file cannot be written, while one is behind.
    pub fn behind(&self) -> Option<std::io::Error> {
        if lock(&self.behind.runs).is_empty() {
            return None;
        }
        lock(&self.behind.why)
            .as_ref()
            .map(|e| std::io::Error::new(e.kind(), e.to_string()))
    }

    /// Writes again every open run log whose file was deleted or replaced (its directory
    /// removed, say): from the ring, with a line saying what is missing. Returns how many.
    pub fn relink_files(&self) -> usize {
        let logs: Vec<_> = lock(&self.runs).values().cloned().collect();
        let mut count = 0;
        for log in logs {
            let mut log = lock(&log);
            let gone = match (&log.file, &log.path) {
                (Some(file), Some(path)) => !crate::runtime::lock::same_file(file.get_ref(), path),
                _ => false,
            };
            if gone {
                count += 1;
                log.relink();
            }
        }
        count
    }

    /// Waits until a run's log file falls behind (at once if one did since the last call).
    pub async fn fell_behind(&self) {
        self.behind.fell.notified().await;
    }

    /// Tries once to write every file that is behind; true when none is any more.
    pub fn retry_behind(&self) -> bool {
        let runs: Vec<RunId> = lock(&self.behind.runs).iter().copied().collect();
        for run in runs {
            if let Some(log) = self.log_of(run) {
                lock(&log).retry_gap(true);
            }
        }
        lock(&self.behind.runs).is_empty()
    }
}

/// How often a log that fell behind tries to write again while output goes on.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// Where the file stands after a write failed.
pub(super) struct Gap {
    /// The first line not known to be in the file.
    pub(super) from_seq: u64,
    /// Why the write failed (the first error).
    pub(super) error: String,
    pub(super) last_try: Instant,
}

impl RunLog {
    /// The file could not take a write: keep everything since the last good flush for later.
    pub(super) fn fell_behind(&mut self, e: std::io::Error) {
        if self.gap.is_none() {
            log::warn!(
                "run {}: log file write failed ({e}); its lines wait in memory until writes succeed",
                self.run
            );
            let error = match &self.path {
                Some(path) => format!("{}: {e}", path.display()),
                None => e.to_string(),
            };
            *lock(&self.behind.why) = Some(std::io::Error::new(e.kind(), error.clone()));
            lock(&self.behind.runs).insert(self.run);
            self.behind.fell.notify_one();
            self.gap = Some(Gap {
                from_seq: self.flushed_seq,
                error,
                last_try: Instant::now(),
            });
        }
        // Its buffer would only write part of a line: dropped unwritten.
        if let Some(file) = self.file.take() {
            let _ = file.into_parts();
        }
    }

    /// The file was deleted under it: start a new one at the same path from the ring.
    fn relink(&mut self) {
        if let Some(file) = self.file.take() {
            let _ = file.into_parts();
        }
        self.good_len = 0;
        self.pending_len = 0;
        if self.gap.is_none() {
            lock(&self.behind.runs).insert(self.run);
            self.gap = Some(Gap {
                from_seq: 0,
                error: "the log file was deleted".into(),
                last_try: Instant::now(),
            });
        }
        if let Some(gap) = self.gap.as_mut() {
            gap.from_seq = 0;
        }
        self.retry_gap(true);
    }

    /// Why the file is behind, if it is.
    pub(super) fn behind(&self) -> Option<&str> {
        self.gap.as_ref().map(|g| g.error.as_str())
    }

    /// Tries to write the missing lines now if the last try was long enough ago (or `now`).
    pub(super) fn retry_gap(&mut self, now: bool) {
        let Some(gap) = self.gap.as_mut() else {
            return;
        };
        if !now && gap.last_try.elapsed() < RETRY_EVERY {
            return;
        }
        gap.last_try = Instant::now();
        let from = gap.from_seq;
        if let Err(e) = self.fill_gap(from) {
            log::debug!("run {}: log still cannot be written: {e}", self.run);
            return;
        }
        log::info!("run {}: log file written again", self.run);
        self.gap = None;
        lock(&self.behind.runs).remove(&self.run);
    }

    fn fill_gap(&mut self, from: u64) -> std::io::Result<()> {
        let Some(path) = self.path.clone() else {
            return Err(std::io::Error::other("the run has no log file"));
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        // Whatever part of a line reached the file after the last whole one goes.
        file.set_len(self.good_len)?;
        let mut out = BufWriter::with_capacity(READ_CHUNK, file);
        use std::io::Seek;
        out.seek(std::io::SeekFrom::End(0))?;
        let oldest = self.ring.oldest_seq(self.next_seq);
        let mut written = 0u64;
        if oldest > from {
            let text = format!(
                "E corral: {} line(s) of output are missing here: the log could not be written\n",
                oldest - from
            );
            out.write_all(text.as_bytes())?;
            written += text.len() as u64;
        }
        for line in self.ring.iter().filter(|l| l.seq >= from) {
            let marker: &[u8] = match line.stream {
                crate::api::Stream::Stderr => b"E ",
                crate::api::Stream::Stdout => b"O ",
            };
            out.write_all(marker)?;
            out.write_all(line.text.as_bytes())?;
            out.write_all(b"\n")?;
            written += line.text.len() as u64 + 3;
        }
        out.flush()?;
        out.get_ref().sync_data()?;
        self.good_len += written;
        self.pending_len = 0;
        self.flushed_seq = self.next_seq;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        self.file = Some(BufWriter::with_capacity(READ_CHUNK, file));
        Ok(())
    }
}
