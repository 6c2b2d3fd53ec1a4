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
