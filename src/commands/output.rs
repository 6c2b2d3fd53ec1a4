//! The one way commands write to stdout and stderr: every text goes through
//! [`core::printable`](crate::core::printable), so no escape sequence, C1 control or bidi
//! override from a feature, an agent or a file reaches the terminal, whatever the command.
//!
//! Text output escapes them always, not only on a terminal: a headless log or a listing saved
//! to a file is read with `cat` or `tail -f` later. JSON output writes them as `\uXXXX`, which
//! is the same JSON value.

use crate::core::printable::{json_printable, printable};
use serde::Serialize;
use std::io::{self, Write};

/// Writes `text` and a newline to `out`, hostile characters escaped (newlines and tabs kept:
/// callers escape the newlines of single-line values themselves), and flushes.
fn write_line(mut out: impl Write, text: &str) -> io::Result<()> {
    out.write_all(printable(text, true).as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// A reader that went away (`| head`) is not an error.
fn quiet_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Prints `text` and a newline on stdout.
pub fn print_text(text: &str) -> io::Result<()> {
    quiet_pipe(write_line(io::stdout().lock(), text))
}

/// Prints `value` as pretty JSON and a newline on stdout.
pub fn print_json(value: &impl Serialize) -> io::Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    let mut out = io::stdout().lock();
    let written = out
        .write_all(json_printable(&json).as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    quiet_pipe(written)
}

/// Prints `text` and a newline on stderr; a stderr that is gone is ignored (this is how errors
/// are reported, there is nowhere else to say it).
pub fn print_error(text: &str) {
    let _ = write_line(io::stderr().lock(), text);
}
