//! Drives a program in a private tmux server, as a person at a terminal would.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A detached tmux session on a socket of its own, with no user config. Dropping it kills
/// the server, removes the socket file and SIGKILLs every process group handed to
/// [`Tmux::clean_up_group`], so a failing test leaks nothing.
pub struct Tmux {
    socket: String,
    socket_path: Option<PathBuf>,
    groups: std::cell::RefCell<Vec<u32>>,
}

/// Quotes `s` for the `sh -c` tmux runs a session command with.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

impl Tmux {
    /// Starts `command` (a shell command line) in a `width`x`height` session; `None` when tmux
    /// is not installed, except under `CI`, where a missing tmux fails the test: a CI run that
    /// skipped every terminal test would pass while testing none of them.
    pub fn start(command: &str, width: u16, height: u16) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
            assert!(
                !ci,
                "tmux is not installed, and CI is set: the terminal tests must run"
            );
            return None;
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mut tmux = Tmux {
            socket: format!("corral-test-{}-{nanos}", std::process::id()),
            socket_path: None,
            groups: Default::default(),
        };
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&["new-session", "-d", "-s", "t", "-x", &w, "-y", &h, command]);
        let path = tmux.run(&["display-message", "-p", "#{socket_path}"]);
        tmux.socket_path = Some(PathBuf::from(String::from_utf8_lossy(&path.stdout).trim()));
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned()
    }

    /// Types `keys` literally.
    pub fn press(&self, keys: &str) {
        self.run(&["send-keys", "-t", "t", "-l", keys]);
    }

    /// Polls the screen until `pred` holds; panics with the last screen after `limit`.
    pub fn wait_for_screen(
        &self,
        what: &str,
        limit: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {limit:?} waiting for {what}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the program the pane runs (the command line's shell, or what it exec'd).
    pub fn pane_pid(&self) -> u32 {
        let out = self.run(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("tmux names the pane's pid")
    }

    /// Closes the session's terminal, as a dropped SSH link or a closed window does.
    pub fn close_terminal(&self) {
        self.run(&["kill-session", "-t", "t"]);
    }

    /// SIGKILLs this process group when the guard drops (only matters when a test fails).
    pub fn clean_up_group(&self, pgid: u32) {
        self.groups.borrow_mut().push(pgid);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
        for &g in self.groups.borrow().iter() {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(g as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
