//! corral's own log: the `log` facade into a file and the `L` view's buffer.
//!
//! tui-logger's `init_logger` starts a thread that wakes every 10 ms to move records into the
//! view's buffer (and write its file) even when nothing is logged and nothing is shown. corral
//! installs its own logger instead: it writes the file itself as each record comes, hands the
//! record to tui-logger's buffer, and the records are moved into the view only when the view is
//! drawn ([`show_pending`]). Nothing wakes when nothing is logged.

use log::{LevelFilter, Log, Metadata, Record};
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// Records at this level or more urgent are kept.
const LEVEL: LevelFilter = LevelFilter::Info;

/// Where corral writes its own log: `<platform data dir>/corral.log`.
pub fn log_file_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "corral").map(|d| d.data_dir().join("corral.log"))
}

struct CorralLogger {
    file: Option<Mutex<File>>,
}

impl Log for CorralLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= LEVEL
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        if let Some(file) = &self.file {
            let at = jiff::Zoned::now().strftime("%Y-%m-%d %H:%M:%S");
            let level = match record.level() {
                log::Level::Error => "ERROR",
                log::Level::Warn => "WARN ",
                log::Level::Info => "INFO ",
                log::Level::Debug => "DEBUG",
                log::Level::Trace => "TRACE",
            };
            let line = format!("{at} {level} {}\n", record.args());
            // One write per record: lines of several threads do not interleave. A failed
            // write (a full disk) must not stop corral; the view still has the record.
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            let _ = file.write_all(line.as_bytes());
        }
        tui_logger::Drain::new().log(record);
    }

    fn flush(&self) {}
}

/// Moves the records logged since the last call into the `L` view's buffer: called when the
/// view is drawn, so nothing runs for them while it is not shown.
pub fn show_pending() {
    tui_logger::move_events();
}

/// Installs the logger. Call once per process. Returns the log file in use, if one could be opened;
/// without one corral still runs and keeps its log in memory for the `L` view.
pub fn init() -> Option<PathBuf> {
    let path = log_file_path();
    let file = path.as_ref().and_then(|path| {
        std::fs::create_dir_all(path.parent()?).ok()?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
    });
    let opened = file.is_some();
    let logger = CorralLogger {
        file: file.map(Mutex::new),
    };
    if log::set_boxed_logger(Box::new(logger)).is_err() {
        return None; // already installed
    }
    log::set_max_level(LEVEL);
    tui_logger::set_default_level(LEVEL);
    path.filter(|_| opened)
}

/// How many of its own log lines a headless corral (the daemon) keeps for attached dashboards.
const RECENT_LINES: usize = 1000;

/// The headless corral's latest log lines, oldest first.
static RECENT: std::sync::Mutex<std::collections::VecDeque<String>> =
    std::sync::Mutex::new(std::collections::VecDeque::new());

/// Up to `lines` of this process's latest log lines, oldest first: what an attached
/// dashboard's `L` view shows of the daemon. Empty in a process whose log is tui-logger's
/// (a dashboard), which shows its own.
pub fn recent(lines: usize) -> Vec<String> {
    let kept = RECENT.lock().unwrap_or_else(|p| p.into_inner());
    kept.iter()
        .skip(kept.len().saturating_sub(lines))
        .cloned()
        .collect()
}

/// The logger of a corral without a terminal (`corral run --headless`, the daemon): each
/// record goes to the log file and to the ring [`recent`] reads. (tui-logger, the
/// dashboard's logger, keeps its lines where only its widget reads them.)
struct Headless {
    file: std::sync::Mutex<Option<std::fs::File>>,
}

impl log::Log for Headless {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record) {
        use std::io::Write;
        if !self.enabled(record.metadata()) {
            return;
        }
        let now = jiff::Zoned::now().strftime("%Y-%m-%d %H:%M:%S").to_string();
        let line = format!("{now} {} {}", record.level(), record.args());
        if let Some(file) = self.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            let _ = writeln!(file, "{line}");
        }
        let mut kept = RECENT.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() == RECENT_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }

    fn flush(&self) {}
}

/// Installs the headless logger. Call once per process, instead of [`init`]. Returns the
/// log file in use, if one could be opened; without one the lines are still kept in memory.
pub fn init_headless() -> Option<PathBuf> {
    let path = log_file_path();
    let file = path.as_ref().and_then(|p| {
        std::fs::create_dir_all(p.parent()?).ok()?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .ok()
    });
    let opened = file.is_some();
    let logger = Headless {
        file: std::sync::Mutex::new(file),
    };
    if log::set_boxed_logger(Box::new(logger)).is_err() {
        return None; // already installed
    }
    log::set_max_level(log::LevelFilter::Info);
    path.filter(|_| opened)
}
