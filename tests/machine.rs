//! Failures of the machine, through the real binary: a full disk and immutable state files.
//! Each needs root (to mount a small tmpfs, to `chattr +i`); without it the test says so and
//! passes without checking anything.

mod common;

use common::wait_for;
use corral::runtime::store::{NewFeature, Store};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { nix::libc::geteuid() == 0 }
}

/// A tmpfs of `size` mounted on a fresh directory; unmounted (lazily) when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// `corral run --headless` in `project`, stdout to `out`, its XDG dirs under `home` (off the
/// file system under test); TERM then KILL when dropped.
struct Corral {
    child: Child,
    out: PathBuf,
}

impl Corral {
    fn start(project: &Path, home: &Path) -> Corral {
        let out = home.join("headless.out");
        let child = Command::new(env!("CARGO_BIN_EXE_corral"))
            .current_dir(project)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env_remove("CORRAL_RUN_ID")
            .args(["run", "--headless"])
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Corral { child, out }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Still running (a crash would have ended it).
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Corral {
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

fn feature(id: i64) -> NewFeature {
    NewFeature {
        id: Some(id),
        category: "T".into(),
        name: format!("feature {id}"),
        description: String::new(),
        steps: vec![],
        priority: -id,
        dependencies: vec![],
    }
}

/// Features' statuses as the database has them, read without writing anything.
fn statuses(project: &Path) -> Vec<(i64, String)> {
    let Ok(conn) = rusqlite::Connection::open_with_flags(
        project.join(".corral/corral.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    ) else {
        return Vec::new();
    };
    let Ok(mut stmt) = conn.prepare("SELECT id, status FROM features ORDER BY id") else {
        return Vec::new();
    };
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

/// A coding agent that notes its start and end in `journal` (off the full disk), prints
/// `lines` lines (to its log, on the full disk), and exits 0. The third agent to start waits
/// for a file `go` beside the journal before it prints.
fn setup(project: &Path, journal: &Path, lines: u32, features: i64) {
    let script = format!(
        "echo \"start $CORRAL_FEATURE_ID\" >> {j}\n\
         if [ \"$(grep -c start {j})\" = 3 ]; then while [ ! -e {go} ]; do sleep 0.05; done; fi\n\
         i=0; while [ $i -lt {lines} ]; do echo \"feature $CORRAL_FEATURE_ID line $i: some output to fill the log with\"; i=$((i+1)); done\n\
         sleep 0.3\n\
         echo \"end $CORRAL_FEATURE_ID\" >> {j}\n",
        j = journal.display(),
        go = journal.with_file_name("go").display(),
    );
    std::fs::write(project.join("code.sh"), script).unwrap();
    std::fs::write(
        project.join("corral.toml"),
        "[scheduler]\nmax_agents = 1\nmax_attempts = 1\n\n\
         [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/code.sh\"]\n",
    )
    .unwrap();
    let backlog: Vec<NewFeature> = (1..=features).map(feature).collect();
    Store::open(project)
        .unwrap()
        .add_features(&backlog, 0)
        .unwrap();
}

fn journal_count(journal: &Path, word: &str, feature: i64) -> usize {
    std::fs::read_to_string(journal)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == format!("{word} {feature}"))
        .count()
}

/// Writes zeros to `path` until the file system is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    // The last partial chunk may have left a few bytes; take them too.
    while f.write_all(&[0u8]).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn a_full_disk_holds_the_scheduler_and_fails_nothing_and_runs_nothing_twice() {
    if !is_root() {
        eprintln!("SKIPPED: mounting a 2 MB tmpfs needs root");
        return;
    }
    let Some(fs) = Tmpfs::mount("2m") else {
        eprintln!("SKIPPED: mount -t tmpfs failed");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let project = fs.path();
    let journal = home.path().join("journal");
    const N: i64 = 8;
    setup(project, &journal, 300, N);
    let mut corral = Corral::start(project, home.path());
    let no_failure = |project: &Path| {
        let s = statuses(project);
        assert!(
            s.iter().all(|(_, st)| st != "failed"),
            "a feature was marked failed: {s:?}"
        );
    };
    wait_for("the third agent to start", Duration::from_secs(30), || {
        no_failure(project);
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        (text.lines().filter(|l| l.starts_with("start")).count() == 3).then_some(())
    });
    // The disk fills up while the fleet works; then the third agent prints its lines.
    fill(&project.join("filler"));
    std::fs::write(home.path().join("go"), "").unwrap();
    let held = wait_for(
        "corral to say the disk is full",
        Duration::from_secs(30),
        || {
            no_failure(project);
            let out = corral.output();
            out.lines()
                .find(|l| l.contains("scheduler held") && l.contains("disk full"))
                .map(str::to_string)
        },
    );
    assert!(held.contains("/.corral/"), "says what is full: {held}");
    assert!(corral.alive(), "corral is still running");
    // Held: whatever runs may end, nothing new starts.
    let started = |j: &Path| {
        std::fs::read_to_string(j)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("start"))
            .count()
    };
    let before = started(&journal);
    wait_for("the running agent to end", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        let ends = text.lines().filter(|l| l.starts_with("end")).count();
        (ends == before).then_some(())
    });
    no_failure(project);
    assert_eq!(started(&journal), before, "nothing started while held");

    // Space comes back: everything passes, each feature ran exactly once.
    std::fs::remove_file(project.join("filler")).unwrap();
    wait_for("every feature to pass", Duration::from_secs(60), || {
        no_failure(project);
        let s = statuses(project);
        (s.len() == N as usize && s.iter().all(|(_, st)| st == "passing")).then_some(())
    });
    for id in 1..=N {
        assert_eq!(
            journal_count(&journal, "start", id),
            1,
            "feature {id} ran once\n{}",
            corral.output()
        );
    }
    let out = wait_for("corral to say it goes on", Duration::from_secs(10), || {
        let out = corral.output();
        out.contains("scheduler goes on").then_some(out)
    });
    assert!(!out.contains(": failed"), "{out}");
    // Every run's log is whole: no line cut in the middle by the full disk, none missing.
    let logs: Vec<_> = std::fs::read_dir(project.join(".corral/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(logs.len(), N as usize, "one log per run: {logs:?}");
    for path in logs {
        let text = std::fs::read_to_string(&path).unwrap();
        let agent_lines = text.lines().filter(|l| l.starts_with("O ")).count();
        assert_eq!(agent_lines, 300, "{}:\n{text}", path.display());
        for line in text.lines() {
            assert!(
                line.starts_with("O feature ")
                    && line.ends_with("some output to fill the log with")
                    || line.starts_with("E corral: "),
                "a cut or stray line in a run log: {line:?}"
            );
        }
    }
}

/// Sets or clears the immutable flag on `paths`; false when the file system does not allow it.
fn chattr(flag: &str, paths: &[PathBuf]) -> bool {
    Command::new("chattr")
        .arg(flag)
        .args(paths)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The database's files as they are now (the database and any journal beside it).
fn db_files(project: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(project.join(".corral"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("corral.db"))
        })
        .collect()
}

/// Clears the immutable flag again however the test ends, so the directory can be removed.
struct Mutable(Vec<PathBuf>);

impl Drop for Mutable {
    fn drop(&mut self) {
        chattr("-i", &self.0);
    }
}

#[test]
fn an_immutable_database_is_an_error_that_holds_the_scheduler_not_a_crash() {
    if !is_root() {
        eprintln!("SKIPPED: chattr +i needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let project = dir.path();
    let journal = home.path().join("journal");
    const N: i64 = 5;
    setup(project, &journal, 20, N);
    let probe = project.join("probe");
    std::fs::write(&probe, "").unwrap();
    if !chattr("+i", std::slice::from_ref(&probe)) {
        eprintln!(
            "SKIPPED: chattr +i is not supported on {}",
            project.display()
        );
        return;
    }
    chattr("-i", std::slice::from_ref(&probe));
    let mut corral = Corral::start(project, home.path());
    wait_for("the third agent to start", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        (text.lines().filter(|l| l.starts_with("start")).count() == 3).then_some(())
    });
    // The database itself, and whatever journal is beside it this instant (a rollback journal
    // comes and goes with each transaction).
    let db = project.join(".corral/corral.db");
    let guard = Mutable(db_files(project));
    assert!(
        chattr("+i", std::slice::from_ref(&db)),
        "chattr +i {}",
        db.display()
    );
    for other in guard.0.iter().filter(|f| **f != db) {
        chattr("+i", std::slice::from_ref(other));
    }
    // The running agent ends: its end cannot be written.
    std::fs::write(home.path().join("go"), "").unwrap();
    let held = wait_for(
        "corral to hold the scheduler",
        Duration::from_secs(30),
        || {
            assert!(corral.alive(), "corral died:\n{}", corral.output());
            corral
                .output()
                .lines()
                .find(|l| l.contains("scheduler held"))
                .map(str::to_string)
        },
    );
    assert!(held.contains("corral.db"), "names the file: {held}");
    // Still alive and supervising after a few probes, nothing started meanwhile.
    let started = |j: &Path| {
        std::fs::read_to_string(j)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("start"))
            .count()
    };
    // Several probes' worth of time (one every 2 s); a lasting hold is said again in the log
    // once a minute, not at every probe.
    let watched = std::time::Instant::now();
    while watched.elapsed() < Duration::from_secs(7) {
        assert!(corral.alive(), "corral died:\n{}", corral.output());
        std::thread::sleep(Duration::from_millis(100));
    }
    let log =
        std::fs::read_to_string(home.path().join("data/corral/corral.log")).unwrap_or_default();
    assert!(
        log.matches("store still refuses writes").count() <= 1,
        "{log}"
    );
    let out = corral.output();
    assert_eq!(
        out.lines().filter(|l| l.contains("scheduler held")).count(),
        1,
        "held once:\n{out}"
    );
    assert!(!out.contains("scheduler goes on"), "{out}");
    assert_eq!(started(&journal), 3, "nothing started while held");
    drop(guard);
    wait_for("every feature to pass", Duration::from_secs(60), || {
        assert!(corral.alive(), "corral died:\n{}", corral.output());
        let s = statuses(project);
        assert!(s.iter().all(|(_, st)| st != "failed"), "{s:?}");
        (s.len() == N as usize && s.iter().all(|(_, st)| st == "passing")).then_some(())
    });
    for id in 1..=N {
        assert_eq!(
            journal_count(&journal, "start", id),
            1,
            "feature {id} ran once"
        );
    }
    // It stops cleanly: no SIGBUS (exit 135), no signal at all.
    use nix::sys::signal::{Signal, kill};
    kill(
        nix::unistd::Pid::from_raw(corral.child.id() as i32),
        Signal::SIGTERM,
    )
    .unwrap();
    let status = wait_for("corral to exit", Duration::from_secs(30), || {
        corral.child.try_wait().unwrap()
    });
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), None, "{status:?}");
}

#[test]
fn a_deleted_state_directory_is_noticed_and_made_again_and_no_second_corral_starts() {
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let project = dir.path();
    let journal = home.path().join("journal");
    const N: i64 = 4;
    setup(project, &journal, 20, N);
    let mut corral = Corral::start(project, home.path());
    wait_for("the third agent to start", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&journal).unwrap_or_default();
        (text.lines().filter(|l| l.starts_with("start")).count() == 3).then_some(())
    });
    std::fs::remove_dir_all(project.join(".corral")).unwrap();
    let said = wait_for("corral to notice", Duration::from_secs(30), || {
        assert!(corral.alive(), "corral died:\n{}", corral.output());
        corral
            .output()
            .lines()
            .find(|l| l.contains("went missing"))
            .map(str::to_string)
    });
    assert!(said.contains("corral.db"), "{said}");
    // Made again: the lock names this corral, the database has the backlog, the live run's
    // log is back.
    let pid = corral.child.id().to_string();
    let lock = std::fs::read_to_string(project.join(".corral/lock")).unwrap();
    assert!(lock.starts_with(&pid), "{lock}");
    assert_eq!(statuses(project).len(), N as usize);
    assert!(
        project.join(".corral/control.sock").exists(),
        "listening again"
    );
    wait_for(
        "the live run's log to be back",
        Duration::from_secs(10),
        || {
            std::fs::read_dir(project.join(".corral/runs"))
                .ok()
                .and_then(|mut d| d.next())
                .map(|_| ())
        },
    );
    // A second corral is refused, with the owner's pid.
    let second = common::cli::corral(project)
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("already running") && err.contains(&pid),
        "{err}"
    );
    // The work goes on, into the database at its path.
    std::fs::write(home.path().join("go"), "").unwrap();
    wait_for("every feature to pass", Duration::from_secs(60), || {
        assert!(corral.alive(), "corral died:\n{}", corral.output());
        let s = statuses(project);
        (s.len() == N as usize && s.iter().all(|(_, st)| st == "passing")).then_some(())
    });
    for id in 1..=N {
        assert_eq!(
            journal_count(&journal, "start", id),
            1,
            "feature {id} ran once"
        );
    }
    let logs = std::fs::read_dir(project.join(".corral/runs"))
        .unwrap()
        .count();
    assert!(
        logs >= 2,
        "the live run's log and the next runs' logs: {logs}"
    );
}
