//! Reading an agent's pipe: the chunks it delivers are split into lines and kept, written and
//! sent (see [`LogHub::pump`]).

use super::{ChunkGate, FLUSH_EVERY, LineFilter, LogHub, PARTIAL_AFTER, READ_CHUNK, lock};
use crate::api::{RunId, Stream};
use crate::core::lines::{Line, LineSplitter};
use futures::FutureExt;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

impl LogHub {
    /// See [`LogHub::pump`].
    pub(super) async fn pump_chunks<R: AsyncRead + Unpin>(
        self,
        run: RunId,
        stream: Stream,
        pipe: R,
        clock: fn() -> i64,
    ) {
        // Looked up once: a flood must not take the lock of every run's map per read.
        let log = self.log_of(run);
        let mut reader = BufReader::with_capacity(READ_CHUNK, pipe);
        let mut splitter = LineSplitter::default();
        // Where the gate found candidates in the chunk read, kept to reuse its memory.
        let mut hits = Vec::new();
        // The unfinished line waits to be shown until the agent pauses.
        let mut partial_due = false;
        loop {
            // Nothing to read right now: the agent may stay quiet a long time, so write out
            // what it printed before waiting.
            if reader.fill_buf().now_or_never().is_none()
                && let Some(log) = &log
            {
                lock(log).flush();
            }
            let read = if partial_due {
                // Cancelling a fill_buf loses nothing: what it read stays in the reader.
                match tokio::time::timeout(PARTIAL_AFTER, reader.fill_buf()).await {
                    Ok(read) => read,
                    Err(_) => {
                        partial_due = false;
                        if let (Some(log), Some(line)) = (&log, splitter.pending()) {
                            let mut sent = Vec::new();
                            let mut log = lock(log);
                            let out = self.out(stream, clock());
                            self.push_partial(&mut log, out, line, &mut sent);
                            drop(log);
                            self.send_lines(sent);
                        }
                        continue;
                    }
                }
            } else {
                reader.fill_buf().await
            };
            let chunk = match read {
                Ok([]) => break,
                Ok(chunk) => chunk,
                Err(e) => {
                    log::warn!("run {run}: reading {stream:?} failed: {e}");
                    break;
                }
            };
            let n = chunk.len();
            if let Some(log) = &log {
                let at_ms = clock();
                let mut sent = Vec::new();
                let mut cleared = Cleared::new(self.gate.as_ref(), chunk, &mut hits);
                let mut log = lock(log);
                log.last_output_ms = at_ms;
                log.bytes += n as u64;
                let out = self.out(stream, at_ms);
                splitter.feed(chunk, &mut |line| {
                    let clear = cleared.clears(line);
                    self.push_line(&mut log, out, line, clear, &mut sent)
                });
                if log.last_flush.elapsed() >= FLUSH_EVERY {
                    log.flush();
                }
                drop(log);
                self.send_lines(sent);
            }
            reader.consume(n);
            partial_due = splitter.pending().is_some();
        }
        if let Some(log) = &log {
            let mut sent = Vec::new();
            let mut log = lock(log);
            let out = self.out(stream, clock());
            splitter.finish(&mut |line| self.push_line(&mut log, out, line, false, &mut sent));
            log.flush();
            drop(log);
            self.send_lines(sent);
        }
    }
}

/// Which lines of the chunk being read the chunk gate cleared: those lying whole inside the
/// chunk (not put together from earlier reads, nor redrawn after a `\r`) with no candidate.
pub(super) struct Cleared<'c> {
    chunk: &'c [u8],
    vouched: bool,
    hits: &'c mut Vec<usize>,
    /// The first hit not before the line asked about last (lines come in order).
    next: usize,
}

impl<'c> Cleared<'c> {
    fn new(gate: Option<&ChunkGate>, chunk: &'c [u8], hits: &'c mut Vec<usize>) -> Cleared<'c> {
        hits.clear();
        let vouched = gate.is_some_and(|gate| gate(chunk, hits));
        Cleared {
            chunk,
            vouched,
            hits,
            next: 0,
        }
    }

    fn clears(&mut self, line: Line<'_>) -> bool {
        if !self.vouched || line.cut > 0 || line.bytes.is_empty() {
            return false;
        }
        let base = self.chunk.as_ptr() as usize;
        let at = line.bytes.as_ptr() as usize;
        if at < base || at + line.bytes.len() > base + self.chunk.len() {
            return false;
        }
        let (start, end) = (at - base, at - base + line.bytes.len());
        while self.hits.get(self.next).is_some_and(|&h| h < start) {
            self.next += 1;
        }
        self.hits.get(self.next).is_none_or(|&h| h >= end)
    }
}

/// The shown text and cut count of a cut line. The filter sees the line with the bytes after
/// the cut too: a secret running across the cut is recognised there, and the kept text then
/// ends where the two filtered texts part, so not even the secret's start is shown.
pub(super) fn filter_cut(filter: &LineFilter, line: Line<'_>) -> (String, u64) {
    let kept = line.text();
    let kept = filter(&kept).into_owned();
    let longer = [line.bytes, line.after].concat();
    let longer = String::from_utf8_lossy(&longer);
    let longer = filter(&longer);
    if longer.starts_with(&kept) {
        return (kept, line.cut);
    }
    let mut same = kept
        .char_indices()
        .zip(longer.chars())
        .find(|((_, a), b)| a != b)
        .map_or(kept.len(), |((i, _), _)| i);
    // Not half a marker: the text ends before it.
    if let Some((at, _)) = longer
        .match_indices(crate::core::redact::REDACTED)
        .find(|(at, m)| *at < same && same < at + m.len())
    {
        same = at;
    }
    let dropped = (kept.len() - same) as u64;
    let mut kept = kept;
    kept.truncate(same);
    (kept, line.cut + dropped)
}
