//! Per-run output: a bounded ring in memory, a log file on disk, and a broadcast to subscribers.

use crate::api::{Event, LogLine, RunId, Stream};
use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::broadcast;

/// Lines kept in memory per run; older ones are only in the log file.
pub const DEFAULT_RING_LINES: usize = 10_000;
/// Bytes of one line kept; the rest is cut so one endless line cannot eat memory.
const MAX_LINE_BYTES: usize = 64 * 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct RunLog {
    ring: VecDeque<LogLine>,
    next_seq: u64,
    file: Option<BufWriter<File>>,
    /// When the latest line arrived (or the log was opened), for the silence watchdog.
    last_output_ms: i64,
    /// Bytes of output captured.
    bytes: u64,
}

/// Every run's output. Cloned handles share the same rings.
#[derive(Clone)]
pub struct LogHub {
    runs: Arc<Mutex<HashMap<RunId, Arc<Mutex<RunLog>>>>>,
    tx: broadcast::Sender<Event>,
    ring_lines: usize,
    /// Where `<run_id>.log` files live, to read back runs this corral did not start.
    runs_dir: PathBuf,
}

impl LogHub {
    pub fn new(ring_lines: usize, runs_dir: PathBuf) -> LogHub {
        let (tx, _) = broadcast::channel(4096);
        LogHub {
            runs: Default::default(),
            tx,
            ring_lines: ring_lines.max(1),
            runs_dir,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }

    /// Sends an event to every subscriber; nobody listening is fine.
    pub fn announce(&self, event: Event) {
        let _ = self.tx.send(event);
    }

    /// Up to `max` most recent lines of a run, oldest first: from memory, or for a run from
    /// an earlier session, read back from its log file.
    pub fn tail(&self, run: RunId, max: usize) -> Vec<LogLine> {
        let Some(log) = lock(&self.runs).get(&run).cloned() else {
            return self.tail_from_file(run, max);
        };
        let log = lock(&log);
        let skip = log.ring.len().saturating_sub(max);
        log.ring.iter().skip(skip).cloned().collect()
    }

    fn tail_from_file(&self, run: RunId, max: usize) -> Vec<LogLine> {
        let Ok(bytes) = std::fs::read(self.runs_dir.join(format!("{run}.log"))) else {
            return Vec::new();
        };
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let first = lines.len().saturating_sub(max);
        lines[first..]
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let (stream, text) = match line.split_at_checked(2) {
                    Some(("E ", rest)) => (Stream::Stderr, rest),
                    Some(("O ", rest)) => (Stream::Stdout, rest),
                    _ => (Stream::Stdout, *line),
                };
                LogLine {
                    run,
                    seq: (first + i) as u64,
                    stream,
                    at_ms: 0,
                    text: text.to_string(),
                }
            })
            .collect()
    }

    /// Opens the run's log file (append) and starts its ring. A file that cannot be opened is
    /// reported and the run goes on with the ring alone.
    pub fn open(&self, run: RunId, path: &Path) -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        let (file, result) = match file {
            Ok(f) => (Some(BufWriter::new(f)), Ok(())),
            Err(e) => (None, Err(e)),
        };
        let log = RunLog {
            ring: VecDeque::new(),
            next_seq: 0,
            file,
            last_output_ms: super::now_ms(),
            bytes: 0,
        };
        lock(&self.runs).insert(run, Arc::new(Mutex::new(log)));
        result
    }

    fn push(&self, run: RunId, stream: Stream, text: String, at_ms: i64, flush: bool) {
        let Some(log) = lock(&self.runs).get(&run).cloned() else {
            return;
        };
        let mut log = lock(&log);
        if let Some(file) = log.file.as_mut() {
            let marker = if stream == Stream::Stderr { "E " } else { "O " };
            let ok = file
                .write_all(marker.as_bytes())
                .and_then(|_| file.write_all(text.as_bytes()))
                .and_then(|_| file.write_all(b"\n"))
                .and_then(|_| if flush { file.flush() } else { Ok(()) });
            if let Err(e) = ok {
                log::warn!("run {run}: log file write failed, keeping output in memory only: {e}");
                log.file = None;
            }
        }
        log.last_output_ms = at_ms;
        log.bytes += text.len() as u64 + 1;
        let line = LogLine {
            run,
            seq: log.next_seq,
            stream,
            at_ms,
            text,
        };
        log.next_seq += 1;
        if log.ring.len() >= self.ring_lines {
            log.ring.pop_front();
        }
        log.ring.push_back(line.clone());
        drop(log);
        self.announce(Event::Log(line));
    }

    /// Milliseconds since the run last printed anything (or since it started), at `now_ms`.
    pub fn quiet_for(&self, run: RunId, now_ms: i64) -> u64 {
        lock(&self.runs)
            .get(&run)
            .map_or(0, |log| (now_ms - lock(log).last_output_ms).max(0) as u64)
    }

    /// Bytes of output the run has printed so far.
    pub fn bytes(&self, run: RunId) -> u64 {
        lock(&self.runs).get(&run).map_or(0, |log| lock(log).bytes)
    }

    /// Adds a line of corral's own about the run (shown on the stderr side), e.g. why it
    /// could not start.
    pub fn note(&self, run: RunId, text: &str) {
        self.push(run, Stream::Stderr, text.to_string(), super::now_ms(), true);
    }

    /// Flushes and closes the run's file; the ring stays for display.
    pub fn close(&self, run: RunId) {
        if let Some(log) = lock(&self.runs).get(&run).cloned() {
            let mut log = lock(&log);
            if let Some(mut file) = log.file.take() {
                let _ = file.flush();
            }
        }
    }

    /// Reads `pipe` to its end, one line at a time. Always drains, whatever the readers do.
    pub async fn pump<R: AsyncRead + Unpin>(
        self,
        run: RunId,
        stream: Stream,
        pipe: R,
        clock: fn() -> i64,
    ) {
        let mut reader = BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf).await {
                Ok(0) => break,
                Ok(_) => {
                    while matches!(buf.last(), Some(b'\n' | b'\r')) {
                        buf.pop();
                    }
                    buf.truncate(MAX_LINE_BYTES);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    // Flush when caught up; while the agent floods, writes batch in the buffer.
                    let caught_up = reader.buffer().is_empty();
                    self.push(run, stream, text, clock(), caught_up);
                }
                Err(e) => {
                    log::warn!("run {run}: reading {stream:?} failed: {e}");
                    break;
                }
            }
        }
    }
}
