//! corral's own log: the `log` facade into tui-logger (the `L` view) and a file.

use std::path::PathBuf;

/// Where corral writes its own log: `<platform data dir>/corral.log`.
pub fn log_file_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "corral").map(|d| d.data_dir().join("corral.log"))
}

/// Installs the logger. Call once per process. Returns the log file in use, if one could be opened;
/// without one corral still runs and keeps its log in memory for the `L` view.
pub fn init() -> Option<PathBuf> {
    if tui_logger::init_logger(log::LevelFilter::Info).is_err() {
        return None; // already installed
    }
    tui_logger::set_default_level(log::LevelFilter::Info);
    let path = log_file_path()?;
    let dir = path.parent()?;
    std::fs::create_dir_all(dir).ok()?;
    // TuiLoggerFile panics when it cannot open the file: prove it opens first.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let name = path.to_str()?;
    tui_logger::set_log_file(
        tui_logger::TuiLoggerFile::new(name)
            .output_file(false)
            .output_line(false)
            .output_target(false)
            .output_separator(' ')
            .output_timestamp(Some("%Y-%m-%d %H:%M:%S".into())),
    );
    Some(path)
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
