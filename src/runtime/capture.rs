//! Per-run output: a bounded ring in memory, a log file on disk, and a broadcast to subscribers.

use crate::api::{Event, LogLine, RunId, Stream, Usage};
use crate::core::lines::{Line, cut_marker};
use crate::core::partial_line::shown_partial;
use crate::core::steps::{Step, StepBuilder, StepState};
use crate::core::usage::UsageScanner;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::io::AsyncRead;
use tokio::sync::broadcast;

/// Lines kept in memory per run when corral.toml does not say (`[logs] ring_lines`).
pub use crate::config::DEFAULT_RING_LINES;
/// Bytes read from a pipe at once: a full pipe buffer, so a flood costs one read per 64 KiB.
const READ_CHUNK: usize = 64 * 1024;
/// Events kept for a subscriber that has not read them yet. A dashboard further behind is
/// told how many it missed and takes the tail from the ring again; with [`BATCH_LINES`] this
/// bounds what a slow reader holds in memory (a flood once piled up hundreds of MB here).
const EVENTS_HELD: usize = 64;
/// Most lines sent as one event.
const BATCH_LINES: usize = 1024;
/// Longest time written lines may wait in memory before they reach the log file.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How long an agent must stay quiet before the line it has not finished (a question waiting
/// on stdin) is shown.
pub const PARTIAL_AFTER: Duration = Duration::from_millis(200);

/// What every line's text passes through before it is kept, written or sent (redaction).
/// Returning the input borrowed means "unchanged" and costs nothing.
pub type LineFilter = Arc<dyn Fn(&str) -> Cow<'_, str> + Send + Sync>;

/// Where in a chunk of many lines the filter may change something (see
/// [`crate::core::redact::Redactor::candidates`]): pushes the offsets of candidates and returns
/// true, or returns false when it cannot tell. Lines without a candidate skip the filter.
pub type ChunkGate = Arc<dyn Fn(&[u8], &mut Vec<usize>) -> bool + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind; keep using it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct RunLog {
    run: RunId,
    ring: ring::Ring,
    next_seq: u64,
    file: Option<BufWriter<File>>,
    /// When the file was last flushed, so a flood still reaches the disk every second.
    last_flush: Instant,
    /// When the latest output arrived (or the log was opened), for the silence watchdog.
    last_output_ms: i64,
    /// Bytes of output captured.
    bytes: u64,
    /// Tokens and cost the agent reported in its output.
    usage: UsageScanner,
    /// What the agent did, read from its event stream as the lines come (see
    /// [`crate::core::steps`]).
    steps: StepBuilder,
    /// The unfinished line on show (see [`PARTIAL_AFTER`]): not in the ring nor the file. It
    /// carries the seq its line will get, so the finished line replaces it on every screen.
    partial: Option<LogLine>,
    /// The log file, to write again after a failed write.
    path: Option<PathBuf>,
    /// Bytes of whole lines known to be in the file (as of the last good flush).
    good_len: u64,
    /// Bytes handed to the writer since the last good flush.
    pending_len: u64,
    /// The first line not yet flushed.
    flushed_seq: u64,
    /// Set while the file is behind its lines (see `gap`).
    gap: Option<gap::Gap>,
    /// The hub's count of files behind, shared by every run.
    behind: Arc<gap::Behind>,
}

impl RunLog {
    fn write(&mut self, stream: Stream, parts: &[&str]) {
        // The line is in the ring already: a gap filled now includes it.
        self.retry_gap(false);
        if self.gap.is_some() {
            return;
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let marker: &[u8] = if stream == Stream::Stderr {
            b"E "
        } else {
            b"O "
        };
        let mut len = 3;
        let mut ok = file.write_all(marker);
        for part in parts {
            ok = ok.and_then(|_| file.write_all(part.as_bytes()));
            len += part.len() as u64;
        }
        match ok.and_then(|_| file.write_all(b"\n")) {
            Ok(()) => self.pending_len += len,
            Err(e) => self.fell_behind(e),
        }
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        self.retry_gap(false);
        match self.file.as_mut().map(Write::flush) {
            Some(Err(e)) => self.fell_behind(e),
            Some(Ok(())) => {
                self.good_len += self.pending_len;
                self.pending_len = 0;
                self.flushed_seq = self.next_seq;
            }
            None => {}
        }
    }
}

/// What the lines of one read share.
#[derive(Clone, Copy)]
struct Out {
    stream: Stream,
    at_ms: i64,
    announce: bool,
    /// The agent printed these lines (corral's notes are not scanned for usage reports).
    agent: bool,
}

/// Every run's output. Cloned handles share the same rings.
#[derive(Clone)]
pub struct LogHub {
    runs: Arc<Mutex<HashMap<RunId, Arc<Mutex<RunLog>>>>>,
    tx: broadcast::Sender<Event>,
    ring_lines: usize,
    /// Where `<run_id>.log` files live, to read back runs this corral did not start.
    runs_dir: PathBuf,
    filter: Option<LineFilter>,
    gate: Option<ChunkGate>,
    /// The same events without the lines, for those who do not show output (headless): they
    /// do not make the pump copy every line for them.
    quiet_tx: broadcast::Sender<Event>,
    /// Told when someone subscribes to the lines: the sampler measures only while someone
    /// looks (see [`LogHub::watched`]).
    looking: Arc<tokio::sync::Notify>,
    /// Set by a runtime nobody may look at (headless): see [`LogHub::watched`].
    on_demand: Arc<std::sync::atomic::AtomicBool>,
    /// Which runs' files are behind their lines (see `gap`).
    behind: Arc<gap::Behind>,
}

impl LogHub {
    /// A hub keeping `ring_lines` lines per run in memory (at least 1); `runs_dir` is where
    /// log files of earlier runs are read back from.
    pub fn new(ring_lines: usize, runs_dir: PathBuf) -> LogHub {
        let (tx, _) = broadcast::channel(EVENTS_HELD);
        let (quiet_tx, _) = broadcast::channel(1024);
        LogHub {
            runs: Default::default(),
            tx,
            ring_lines: ring_lines.max(1),
            runs_dir,
            filter: None,
            gate: None,
            quiet_tx,
            looking: Default::default(),
            on_demand: Default::default(),
            behind: Default::default(),
        }
    }

    /// Passes every line's text (after `\r` handling and the cut of long lines, before the cut
    /// marker) through `filter` before it reaches the ring, the file or a subscriber.
    pub fn with_filter(mut self, filter: LineFilter) -> LogHub {
        self.filter = Some(filter);
        self
    }

    /// Lets whole lines of a chunk that `gate` clears skip the filter: it must clear only
    /// lines the filter would return unchanged.
    pub fn with_chunk_gate(mut self, gate: ChunkGate) -> LogHub {
        self.gate = Some(gate);
        self
    }

    /// `text` through the hub's filter (redaction), for texts about runs that are stored or
    /// shown elsewhere (a job's last error quoting the agent).
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.filter {
            Some(filter) => filter(text),
            None => Cow::Borrowed(text),
        }
    }

    /// Every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        let rx = self.tx.subscribe();
        self.looking.notify_one();
        rx
    }

    /// Whether someone may show what runs do. Always, unless [`LogHub::watch_on_demand`] was
    /// called: then only while someone (a dashboard, here or attached to a daemon) subscribes
    /// to every event, lines included.
    pub fn watched(&self) -> bool {
        !self.on_demand.load(std::sync::atomic::Ordering::Relaxed) || self.tx.receiver_count() > 0
    }

    /// From now on, runs are watched only while someone subscribes to their lines (see
    /// [`LogHub::watched`]): for a runtime without a screen of its own.
    pub fn watch_on_demand(&self) {
        self.on_demand
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits until someone may have started watching (a new subscriber since the last call).
    pub async fn someone_looks(&self) {
        self.looking.notified().await;
    }

    /// Every event from now on except lines of output ([`Event::Log`]).
    pub fn subscribe_without_logs(&self) -> broadcast::Receiver<Event> {
        self.quiet_tx.subscribe()
    }

    /// Sends an event to every subscriber; nobody listening is fine.
    pub fn announce(&self, event: Event) {
        if self.quiet_tx.receiver_count() > 0 && !matches!(event, Event::Log(_)) {
            let _ = self.quiet_tx.send(event.clone());
        }
        let _ = self.tx.send(event);
    }

    /// Up to `max` most recent lines of a run, oldest first: from memory, or for a run from
    /// an earlier session, read back from its log file.
    pub fn tail(&self, run: RunId, max: usize) -> Vec<LogLine> {
        let Some(log) = self.log_of(run) else {
            return self.tail_from_file(run, max);
        };
        let log = lock(&log);
        let partial = log.partial.iter().take(max.min(1));
        let skip = (log.ring.len() + partial.len()).saturating_sub(max);
        let kept = log.ring.iter().skip(skip).map(|k| k.to_line(run));
        kept.chain(partial.cloned()).collect()
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

    fn log_of(&self, run: RunId) -> Option<Arc<Mutex<RunLog>>> {
        lock(&self.runs).get(&run).cloned()
    }

    /// Opens the run's log file (append) and starts its ring. A file that cannot be opened is
    /// reported and the run goes on with the ring alone.
    pub fn open(&self, run: RunId, path: &Path) -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        let good_len = file
            .as_ref()
            .ok()
            .and_then(|f| f.metadata().ok())
            .map_or(0, |m| m.len());
        let (file, result) = match file {
            // As big as a read: a flood is written with about one write per read.
            Ok(f) => (Some(BufWriter::with_capacity(READ_CHUNK, f)), Ok(())),
            Err(e) => (None, Err(e)),
        };
        let path = result.is_ok().then(|| path.to_path_buf());
        let log = RunLog {
            run,
            ring: ring::Ring::new(self.ring_lines),
            next_seq: 0,
            file,
            last_flush: Instant::now(),
            last_output_ms: super::now_ms(),
            bytes: 0,
            usage: UsageScanner::default(),
            steps: StepBuilder::default(),
            partial: None,
            path,
            good_len,
            pending_len: 0,
            flushed_seq: 0,
            gap: None,
            behind: self.behind.clone(),
        };
        lock(&self.runs).insert(run, Arc::new(Mutex::new(log)));
        result
    }

    /// Filters, marks a cut, writes and keeps one line, and sends it when `announce` (there
    /// are subscribers: copying the line for nobody would be the biggest cost of a flood).
    fn push(&self, log: &mut RunLog, out: Out, text: &str, cut: u64, sent: &mut Vec<LogLine>) {
        let filtered = match &self.filter {
            Some(filter) => filter(text),
            None => Cow::Borrowed(text),
        };
        self.push_filtered(log, out, filtered, cut, sent);
    }

    fn push_filtered(
        &self,
        log: &mut RunLog,
        out: Out,
        filtered: Cow<'_, str>,
        cut: u64,
        sent: &mut Vec<LogLine>,
    ) {
        // After redaction, as everything else sees the line; a cut line is no whole report.
        if out.agent && cut == 0 {
            log.usage.line(&filtered);
        }
        // Empty (and not allocated) for a whole line.
        let marker = if cut > 0 {
            cut_marker(cut)
        } else {
            String::new()
        };
        let parts = [filtered.as_ref(), marker.as_str()];
        let seq = log.next_seq;
        if out.agent {
            // A cut line is no whole event: it is kept as printed.
            let stderr = out.stream == Stream::Stderr || cut > 0;
            if cut > 0 {
                log.steps.line(seq, out.at_ms, &parts.concat(), stderr);
            } else {
                log.steps.line(seq, out.at_ms, &filtered, stderr);
            }
        }
        log.write(out.stream, &parts);
        log.ring.push(seq, out.stream, out.at_ms, &parts);
        log.next_seq += 1;
        if out.announce {
            sent.push(LogLine {
                run: log.run,
                seq,
                stream: out.stream,
                at_ms: out.at_ms,
                text: parts.concat(),
            });
        }
        // This line took the seq the unfinished one was shown with: the stream's own line
        // finishes it; another stream's moves it after this line.
        if let Some(mut partial) = log.partial.take()
            && partial.stream != out.stream
        {
            partial.seq = log.next_seq;
            if out.announce {
                sent.push(partial.clone());
            }
            log.partial = Some(partial);
        }
    }

    /// Shows what the agent printed of a line it has not finished, through the filter and
    /// without the fragment that may be the start of a secret (see
    /// [`crate::core::partial_line`]).
    fn push_partial(&self, log: &mut RunLog, out: Out, line: Line<'_>, sent: &mut Vec<LogLine>) {
        let raw = line.text();
        let shown = match &self.filter {
            Some(filter) => shown_partial(&raw, &|t| filter(t)),
            None => shown_partial(&raw, &|t| Cow::Borrowed(t)),
        };
        let Some(mut text) = shown else {
            return;
        };
        if line.cut > 0 {
            text.push_str(&cut_marker(line.cut));
        }
        if log.partial.as_ref().is_some_and(|p| p.text == text) {
            return;
        }
        let partial = LogLine {
            run: log.run,
            seq: log.next_seq,
            stream: out.stream,
            at_ms: out.at_ms,
            text,
        };
        if out.announce {
            sent.push(partial.clone());
        }
        log.partial = Some(partial);
    }

    /// Keeps a finished line; `cleared`: the chunk gate found nothing the filter would change.
    fn push_line(
        &self,
        log: &mut RunLog,
        out: Out,
        line: Line<'_>,
        cleared: bool,
        sent: &mut Vec<LogLine>,
    ) {
        match &self.filter {
            Some(filter) if !line.after.is_empty() => {
                let (text, cut) = pump::filter_cut(filter, line);
                self.push_filtered(log, out, Cow::Owned(text), cut, sent);
            }
            Some(_) if cleared => self.push_filtered(log, out, line.text(), line.cut, sent),
            _ => self.push(log, out, &line.text(), line.cut, sent),
        }
    }

    /// Sends the lines one read produced as one event (after the run's lock is released).
    fn send_lines(&self, mut sent: Vec<LogLine>) {
        // In events of at most BATCH_LINES, so what waits for a slow reader stays bounded
        // however short the lines are.
        while sent.len() > BATCH_LINES {
            let rest = sent.split_off(BATCH_LINES);
            self.announce(Event::Log(std::mem::replace(&mut sent, rest)));
        }
        if !sent.is_empty() {
            self.announce(Event::Log(sent));
        }
    }

    /// How lines read now are stamped and whether they are sent. Asking the channel for its
    /// receivers takes its lock, so this is asked once per read, not per line.
    fn out(&self, stream: Stream, at_ms: i64) -> Out {
        Out {
            stream,
            at_ms,
            announce: self.tx.receiver_count() > 0,
            agent: true,
        }
    }

    /// Milliseconds since the run last printed anything (or since it started), at `now_ms`.
    pub fn quiet_for(&self, run: RunId, now_ms: i64) -> u64 {
        self.log_of(run)
            .map_or(0, |log| (now_ms - lock(&log).last_output_ms).max(0) as u64)
    }

    /// Bytes of output the run has printed so far.
    pub fn bytes(&self, run: RunId) -> u64 {
        self.log_of(run).map_or(0, |log| lock(&log).bytes)
    }

    /// Tokens and cost the run's agent reported in its output so far (see [`UsageScanner`]
    /// for what is recognised); `None` when it reported nothing, or when the run is not in
    /// memory (a run of an earlier session: its log file is not scanned again).
    pub fn usage(&self, run: RunId) -> Option<Usage> {
        self.log_of(run).and_then(|log| lock(&log).usage.usage())
    }

    /// The steps of the run's agent held in memory, oldest first (empty for a plain-text
    /// agent, or a run not in memory).
    pub fn steps(&self, run: RunId) -> Vec<Step> {
        self.log_of(run)
            .map(|log| lock(&log).steps.steps().iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Reads the run's steps in place (no copy); `None` for a run not in memory.
    pub fn with_steps<R>(&self, run: RunId, f: impl FnOnce(&StepBuilder) -> R) -> Option<R> {
        self.log_of(run).map(|log| f(&lock(&log).steps))
    }

    /// The unfinished line on show (an agent waiting on stdin after a prompt), if any.
    pub fn partial_text(&self, run: RunId) -> Option<String> {
        self.log_of(run)
            .and_then(|log| lock(&log).partial.as_ref().map(|p| p.text.clone()))
    }

    /// What the run's agent is doing as its steps tell it (`Unknown` for a plain-text agent).
    pub fn step_state(&self, run: RunId) -> StepState {
        self.log_of(run)
            .map_or(StepState::Unknown, |log| lock(&log).steps.state())
    }

    /// Adds a line of corral's own about the run (shown on the stderr side), e.g. why it
    /// could not start.
    pub fn note(&self, run: RunId, text: &str) {
        let Some(log) = self.log_of(run) else {
            return;
        };
        let mut log = lock(&log);
        let now = super::now_ms();
        log.last_output_ms = now;
        log.bytes += text.len() as u64 + 1;
        let mut sent = Vec::new();
        let out = Out {
            agent: false,
            ..self.out(Stream::Stderr, now)
        };
        self.push(&mut log, out, text, 0, &mut sent);
        log.flush();
        drop(log);
        self.send_lines(sent);
    }

    /// Flushes and closes the run's file; the ring stays for display. A file still behind
    /// (see [`LogHub::caught_up`]) keeps what it needs to be written later.
    pub fn close(&self, run: RunId) {
        if let Some(log) = self.log_of(run) {
            let mut log = lock(&log);
            log.flush();
            log.file = None;
        }
    }

    /// Writes what the run's log file is missing, if it fell behind; `Err` says why it still
    /// cannot be written. Everything the run printed is in its file once this is `Ok`.
    pub fn caught_up(&self, run: RunId) -> Result<(), String> {
        let Some(log) = self.log_of(run) else {
            return Ok(());
        };
        let mut log = lock(&log);
        log.flush();
        log.retry_gap(true);
        match log.behind() {
            Some(e) => Err(e.to_string()),
            None => Ok(()),
        }
    }

    /// Reads `pipe` to its end, splitting it into lines (see
    /// [`crate::core::lines::LineSplitter`]). Always drains, whatever the readers do. The file
    /// is flushed whenever the pipe has nothing more to read and at least every
    /// [`FLUSH_EVERY`] while the agent floods.
    pub async fn pump<R: AsyncRead + Unpin>(
        self,
        run: RunId,
        stream: Stream,
        pipe: R,
        clock: fn() -> i64,
    ) {
        self.pump_chunks(run, stream, pipe, clock).await
    }
}

mod gap;
mod pump;
mod ring;
#[cfg(test)]
mod tests;
