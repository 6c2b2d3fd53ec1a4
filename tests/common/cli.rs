//! Driving the real binary: one-shot commands with their exit codes, and a headless corral in
//! the background that never outlives its test.

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The binary with no user config and a private data dir, run in `dir`.
pub fn corral(dir: &Path) -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("corral");
    cmd.current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".xdg-config"))
        .env("XDG_DATA_HOME", dir.join(".xdg-data"))
        .env_remove("CORRAL_RUN_ID");
    cmd
}

pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `args` in `dir`, asserts success and returns stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = corral(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "corral {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Runs `args` in `dir`, asserts exit code 2 and returns stderr.
pub fn refused(dir: &Path, args: &[&str]) -> String {
    let out = corral(dir).args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "corral {args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stderr(&out)
}

/// Runs `args` in `dir`, asserts success and parses stdout as JSON.
pub fn json_of(dir: &Path, args: &[&str]) -> Value {
    let text = ok(dir, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The database as bytes (and its WAL, if one is left), to prove a refusal wrote nothing.
pub fn db_bytes(dir: &Path) -> Vec<Option<Vec<u8>>> {
    let db = dir.join(".corral/corral.db");
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    vec![std::fs::read(&db).ok(), std::fs::read(wal).ok()]
}

/// `corral run --headless` in the background, its stdout in a file; stopped with TERM (then
/// KILL after 10 s) when dropped, also when an assertion fails.
pub struct Headless {
    child: std::process::Child,
    out: PathBuf,
}

impl Headless {
    /// Starts it in `dir`, writing its stdout to `dir/out_name`.
    pub fn start(dir: &Path, out_name: &str) -> Headless {
        Headless::start_with_env(dir, out_name, &[])
    }

    /// [`Headless::start`] with extra environment variables (`PATH`, say).
    pub fn start_with_env(dir: &Path, out_name: &str, env: &[(&str, &str)]) -> Headless {
        let out = dir.join(out_name);
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
            .current_dir(dir)
            .env("XDG_CONFIG_HOME", dir.join(".xdg-config"))
            .env("XDG_DATA_HOME", dir.join(".xdg-data"))
            .envs(env.iter().copied())
            .args(["run", "--headless"])
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Headless { child, out }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, Signal::SIGTERM);
        for _ in 0..500 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
