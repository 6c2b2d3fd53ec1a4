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
