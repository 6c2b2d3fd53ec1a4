//! What capturing agent output costs: corral's real runtime reading 4 flooding agents, compared
//! with `cat` copying the same output to a file, and corral's memory over 5 million lines.
//! Run with `cargo bench --bench capture`.

use corral::api::{Event, RunState};
use corral::config::Config;
use corral::runtime::store::{NewFeature, Store};
use corral::runtime::{self, RuntimeHandle, RuntimeOptions};
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const AGENTS: usize = 4;
const LINES_PER_AGENT: u64 = 250_000;
/// Bytes of each generated line, newline included.
const LINE_BYTES: u64 = 100;
const FLAT_LINES: u64 = 5_000_000;
const FLAT_SAMPLE_AFTER: u64 = 100_000;
const RING_LINES: usize = corral::runtime::capture::DEFAULT_RING_LINES;
/// However slow the machine, a run of the benchmark ends.
const LIMIT: Duration = Duration::from_secs(600);

fn main() -> Result<()> {
    // `cargo bench --bench capture -- corral` runs one part (corral, cat, subscribed, memory), e.g. to
    // profile it; cargo's own `--bench` flag is not a part.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    // The dashboard's runtime: two workers.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let million = (AGENTS as u64 * LINES_PER_AGENT) as f64 / 1e6;
    println!(
        "capture: {AGENTS} agents x {LINES_PER_AGENT} lines of {LINE_BYTES} bytes, ring {RING_LINES} lines"
    );
    let mut corral_per = None;
    if wants("corral") {
        let c = corral_floods(rt.handle(), false)?;
        corral_per = Some(c.report("corral", million));
    }
    if wants("cat") {
        let (user, sys) = cat_floods()?;
        let per = (user + sys) / million;
        println!(
            "  cat      CPU {per:6.3} s per million lines  (user {:.3}, system {:.3})",
            user / million,
            sys / million
        );
        if let Some(corral) = corral_per {
            println!(
                "  ratio    {:.2}x cat's CPU                 (goal: within 3x)",
                corral / per
            );
        }
    }
    if wants("subscribed") {
        // The figure includes the subscriber's own work: it takes (clones) every line it can.
        println!("the same with a subscriber taking every event, as the dashboard does:");
        corral_floods(rt.handle(), true)?.report("corral", million);
    }
    if wants("memory") {
        let (captured, at_start, at_end) = flat_memory(rt.handle())?;
        println!("memory: 1 agent x {FLAT_LINES} lines");
        println!("  VmRSS after {captured:7} lines  {at_start:6.1} MB");
        println!("  VmRSS at the end          {at_end:6.1} MB");
        println!(
            "  difference                {:+6.1} MB   (goal: within 10 MB)",
            at_end - at_start
        );
    }
    Ok(())
}

struct CorralFigures {
    /// (user, system)
    cpu_s: (f64, f64),
    wall_s: f64,
    lines_on_disk: u64,
    lost: i64,
    peak_rss_mb: f64,
    /// Log events a subscriber received and missed (it lagged), when there was one.
    events: Option<(u64, u64)>,
}

impl CorralFigures {
    /// Prints the figures; returns CPU seconds per million lines.
    fn report(&self, name: &str, million: f64) -> f64 {
        let per = (self.cpu_s.0 + self.cpu_s.1) / million;
        println!(
            "  {name:8} CPU {per:6.3} s per million lines  (user {:.3}, system {:.3}; wall {:.2} s)",
            self.cpu_s.0 / million,
            self.cpu_s.1 / million,
            self.wall_s
        );
        println!(
            "  lines    {} in the log files, {} lost     (goal: 0 lost)",
            self.lines_on_disk, self.lost
        );
        if let Some((received, lagged)) = self.events {
            println!("  events   {received} lines received, {lagged} missed by lagging");
        }
        println!(
            "  peak RSS {:.1} MB (VmHWM)                  (goal: under 40 MB)",
            self.peak_rss_mb
        );
        per
    }
}

/// A shell script printing `lines` lines of [`LINE_BYTES`] bytes as fast as it can.
fn write_generator(dir: &Path, lines: u64) -> Result<PathBuf> {
    let path = dir.join("gen.sh");
    let zeros = LINE_BYTES - 1;
    std::fs::write(
        &path,
        format!("#!/bin/sh\nyes \"$(printf '%0{zeros}d' 0)\" | head -n {lines}\n"),
    )?;
    Ok(path)
}

/// A project whose `features` coding agents each run `gen.sh`, all at once.
fn project(dir: &Path, features: i64, lines: u64) -> Result<Config> {
    write_generator(dir, lines)?;
    let toml = format!(
        "[scheduler]\nmax_agents = {features}\n\n[profiles.coding]\nrole = \"coding\"\n\
         command = [\"sh\", \"{{project}}/gen.sh\"]\n"
    );
    std::fs::write(dir.join("corral.toml"), toml)?;
    let items: Vec<NewFeature> = (1..=features)
        .map(|id| NewFeature {
            id: Some(id),
            category: "Bench".into(),
            name: format!("flood {id}"),
            description: String::new(),
            steps: vec![],
            priority: 0,
            dependencies: vec![],
        })
        .collect();
    Store::open(dir)?.add_features(&items, 0)?;
    Ok(Config::load_with_user(dir, None)?)
}

fn start(rt: &tokio::runtime::Handle, dir: &Path, config: Config) -> Result<RuntimeHandle> {
    let _in_runtime = rt.enter();
    let (handle, _task) = runtime::start(RuntimeOptions {
        project: dir.to_path_buf(),
        config,
        ring_lines: RING_LINES,
    })?;
    Ok(handle)
}

/// Polls every 20 ms until `check` holds, or fails after [`LIMIT`].
fn wait_until(what: &str, check: impl FnMut() -> bool) -> Result<()> {
    wait_until_every(what, Duration::from_millis(20), check)
}

fn wait_until_every(what: &str, every: Duration, mut check: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + LIMIT;
    while !check() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(every);
    }
    Ok(())
}

fn all_ended(h: &RuntimeHandle, runs: usize) -> bool {
    let snap = h.snapshots().borrow().clone();
    snap.runs.len() == runs && snap.runs.iter().all(|r| !r.state.is_live())
}

/// Stops the runtime and waits until it has let go of the project.
fn stop(h: RuntimeHandle) -> Result<()> {
    h.send(corral::api::Command::Shutdown);
    wait_until("the runtime to shut down", || {
        h.snapshots().borrow().shut_down
    })
}

/// CPU seconds of `who` so far: (user, system).
fn cpu_seconds(who: UsageWho) -> Result<(f64, f64)> {
    let usage = getrusage(who)?;
    let secs = |t: nix::sys::time::TimeVal| t.num_microseconds() as f64 / 1e6;
    Ok((secs(usage.user_time()), secs(usage.system_time())))
}

/// CPU seconds (user, system) of `who` from `before` until now.
fn cpu_since(who: UsageWho, before: (f64, f64)) -> Result<(f64, f64)> {
    let now = cpu_seconds(who)?;
    Ok((now.0 - before.0, now.1 - before.1))
}

/// Lines in a file, read in pieces: reading a whole log at once would raise the RSS measured
/// after it.
fn count_lines(path: &Path) -> Result<u64> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0; 64 * 1024];
    let mut lines = 0;
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(lines),
            n => lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
        }
    }
}

/// Counts what a subscriber gets until aborted: (log lines received, events missed).
async fn drain(
    mut rx: tokio::sync::broadcast::Receiver<Event>,
    received: Arc<AtomicU64>,
    lagged: Arc<AtomicU64>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(Event::Log(lines)) => {
                received.fetch_add(lines.len() as u64, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(n)) => {
                lagged.fetch_add(n, Ordering::Relaxed);
            }
            Err(RecvError::Closed) => return,
        }
    }
}

fn corral_floods(rt: &tokio::runtime::Handle, subscribe: bool) -> Result<CorralFigures> {
    let dir = tempfile::tempdir()?;
    let config = project(dir.path(), AGENTS as i64, LINES_PER_AGENT)?;
    let cpu_before = cpu_seconds(UsageWho::RUSAGE_SELF)?;
    let started = Instant::now();
    let h = start(rt, dir.path(), config)?;
    let (received, lagged) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let subscriber =
        subscribe.then(|| rt.spawn(drain(h.subscribe(), received.clone(), lagged.clone())));
    wait_until("every agent to end", || all_ended(&h, AGENTS))?;
    if let Some(task) = subscriber {
        task.abort();
    }
    let wall_s = started.elapsed().as_secs_f64();
    let cpu_s = cpu_since(UsageWho::RUSAGE_SELF, cpu_before)?;
    let peak_rss_mb = status_mb("VmHWM")?;
    let snap = h.snapshots().borrow().clone();
    if let Some(bad) = snap.runs.iter().find(|r| r.state != RunState::Exited) {
        return Err(format!("run {} ended {:?}", bad.id, bad.state).into());
    }
    stop(h)?;
    let mut lines_on_disk = 0;
    for run in &snap.runs {
        let log = dir
            .path()
            .join(".corral/runs")
            .join(format!("{}.log", run.id));
        lines_on_disk += count_lines(&log)?;
    }
    let printed = AGENTS as u64 * LINES_PER_AGENT;
    Ok(CorralFigures {
        cpu_s,
        wall_s,
        lines_on_disk,
        lost: printed as i64 - lines_on_disk as i64,
        peak_rss_mb,
        events: subscribe.then(|| {
            (
                received.load(Ordering::Relaxed),
                lagged.load(Ordering::Relaxed),
            )
        }),
    })
}

/// CPU seconds (user, system) the `cat`s took to copy [`AGENTS`] generators' output to files.
fn cat_floods() -> Result<(f64, f64)> {
    let dir = tempfile::tempdir()?;
    let generator = write_generator(dir.path(), LINES_PER_AGENT)?;
    let mut generators = Vec::new();
    let mut cats = Vec::new();
    // Children are counted in RUSAGE_CHILDREN when they are reaped: reap the cats alone.
    let before = cpu_seconds(UsageWho::RUSAGE_CHILDREN)?;
    for i in 0..AGENTS {
        let mut generator = Command::new("sh")
            .arg(&generator)
            .stdout(Stdio::piped())
            .spawn()?;
        let out = generator.stdout.take().ok_or("no generator pipe")?;
        let file = std::fs::File::create(dir.path().join(format!("cat-{i}.out")))?;
        cats.push(Command::new("cat").stdin(out).stdout(file).spawn()?);
        generators.push(generator);
    }
    for cat in &mut cats {
        cat.wait()?;
    }
    let cat_cpu = cpu_since(UsageWho::RUSAGE_CHILDREN, before)?;
    for generator in &mut generators {
        generator.wait()?;
    }
    for i in 0..AGENTS {
        let lines = count_lines(&dir.path().join(format!("cat-{i}.out")))?;
        if lines != LINES_PER_AGENT {
            return Err(format!("cat {i} copied {lines} lines").into());
        }
    }
    Ok(cat_cpu)
}

/// A memory figure of this process in MB from /proc/self/status: `VmRSS` (resident now) or
/// `VmHWM` (the most ever resident). `ru_maxrss` is no use here: Linux carries the peak of
/// the process image before exec over, so it reports cargo's memory.
fn status_mb(key: &str) -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/self/status"))?;
    Ok(kb / 1024.0)
}

/// VmRSS once the first [`FLAT_SAMPLE_AFTER`] lines are captured (and how many were by then),
/// and once all are.
fn flat_memory(rt: &tokio::runtime::Handle) -> Result<(u64, f64, f64)> {
    let dir = tempfile::tempdir()?;
    let config = project(dir.path(), 1, FLAT_LINES)?;
    let h = start(rt, dir.path(), config)?;
    let mut run = None;
    let mut captured = 0;
    // Polled often: the agent prints some 100,000 lines every 20 ms.
    wait_until_every("the first lines", Duration::from_millis(1), || {
        let snap = h.snapshots().borrow().clone();
        run = snap.runs.first().map(|r| r.id);
        captured = run
            .and_then(|id| h.log_tail(id, 1).pop())
            .map_or(0, |line| line.seq + 1);
        captured >= FLAT_SAMPLE_AFTER
    })?;
    let at_start = status_mb("VmRSS")?;
    wait_until("the agent to end", || all_ended(&h, 1))?;
    let at_end = status_mb("VmRSS")?;
    let run = run.ok_or("no run")?;
    let all = h.log_tail(run, 1).pop().map_or(0, |l| l.seq + 1);
    if all != FLAT_LINES {
        return Err(format!("captured {all} of {FLAT_LINES} lines").into());
    }
    stop(h)?;
    Ok((captured, at_start, at_end))
}
