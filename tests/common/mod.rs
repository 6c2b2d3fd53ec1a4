//! Helpers shared by the integration tests: polling with a deadline and reading /proc.
#![allow(dead_code)] // each test binary uses a different subset

pub mod cli;
pub mod daemon;
pub mod demo;
pub mod tmux;

use std::path::Path;
use std::time::{Duration, Instant};

/// Polls `check` every 20 ms until it returns Some or `limit` passes.
pub fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Async twin of [`wait_for`] for tests running on tokio.
pub async fn wait_for_async<T>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (pid, state letter) of every process whose process group is `pgid`, zombies left out:
/// a zombie has ended and only waits to be reaped by whoever is its parent now.
pub fn group_members(pgid: u32) -> Vec<(u32, char)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After the name: [0] state (field 3), [1] ppid, [2] pgrp (field 5).
        let (Some(state), Some(pgrp)) = (fields.first(), fields.get(2)) else {
            continue;
        };
        let state = state.chars().next().unwrap_or('?');
        if pgrp.parse::<u32>().ok() == Some(pgid) && state != 'Z' {
            out.push((pid, state));
        }
    }
    out
}

/// Writes an executable shell script (the test's stand-in for an agent).
pub fn write_script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod script");
}

/// A feature for a test backlog, named `feature <id>`.
pub fn feature(id: i64, deps: &[i64]) -> corral::runtime::store::NewFeature {
    corral::runtime::store::NewFeature {
        id: Some(id),
        category: "Test".into(),
        name: format!("feature {id}"),
        description: String::new(),
        steps: vec![],
        priority: 0,
        dependencies: deps.to_vec(),
    }
}

/// Writes `corral.toml`, stores `features` and starts the runtime on `dir` (inside tokio),
/// stopped when the returned [`Running`] is dropped.
pub fn start_project(
    dir: &Path,
    toml: &str,
    features: &[corral::runtime::store::NewFeature],
) -> (corral::runtime::RuntimeHandle, Running) {
    std::fs::write(dir.join("corral.toml"), toml).expect("write corral.toml");
    let mut store = corral::runtime::store::Store::open(dir).expect("store");
    store.add_features(features, 0).expect("features");
    let config = corral::config::Config::load_with_user(dir, None).expect("config loads");
    guarded(
        corral::runtime::start(corral::runtime::RuntimeOptions {
            project: dir.to_path_buf(),
            ring_lines: config.logs.ring_lines,
            config,
        })
        .expect("runtime starts"),
    )
}

/// The supervisor task of a runtime a test started. Dropped (at the end of the test, or while
/// an assertion unwinds), it stops the runtime the way quitting does and waits for it: every
/// agent stopped and every run's cgroup removed, so no test leaves a process or a
/// `corral-*` cgroup behind. `.await` on it waits for the task instead (a test that stops
/// the runtime itself).
pub struct Running {
    handle: corral::runtime::RuntimeHandle,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Running {
    pub fn new(
        handle: &corral::runtime::RuntimeHandle,
        task: tokio::task::JoinHandle<()>,
    ) -> Running {
        Running {
            handle: handle.clone(),
            task: Some(task),
        }
    }
}

/// [`corral::runtime::start`]'s answer with its task guarded (see [`Running`]).
pub fn guarded(
    started: (corral::runtime::RuntimeHandle, tokio::task::JoinHandle<()>),
) -> (corral::runtime::RuntimeHandle, Running) {
    let running = Running::new(&started.0, started.1);
    (started.0, running)
}

impl std::future::IntoFuture for Running {
    type Output = Result<(), tokio::task::JoinError>;
    type IntoFuture = tokio::task::JoinHandle<()>;

    fn into_future(mut self) -> Self::IntoFuture {
        self.task.take().expect("the task is there until awaited")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let Some(task) = self.task.take() else {
            return;
        };
        if task.is_finished() {
            return;
        }
        self.handle.send(corral::api::Command::Shutdown);
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Waiting needs a runtime that can block one of its workers (every test runtime here
        // is multi-threaded); the grace periods of the test profiles are short.
        if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| {
                rt.block_on(async {
                    let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
                })
            });
        }
    }
}
