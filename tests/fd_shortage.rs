//! Running out of file descriptors while work is ready, against the real binary: the
//! descriptor limit of a running headless corral is lowered with `prlimit`, and the scheduler
//! must hold once, say so once, probe quietly, and go on once when the limit is raised.

mod common;

use common::cli::Headless;
use common::{wait_for, write_script};
use corral::runtime::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};

/// Sets the soft `RLIMIT_NOFILE` of another process, its hard limit kept (what
/// `prlimit --nofile=N:` does), so the test can raise it again without privileges.
fn set_nofile(pid: u32, n: u64) {
    use nix::libc::{RLIMIT_NOFILE, pid_t, prlimit, rlimit};
    let mut now = rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: the pointers are valid for each call; the first only reads the limit.
    let rc = unsafe { prlimit(pid as pid_t, RLIMIT_NOFILE, std::ptr::null(), &mut now) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    let limit = rlimit {
        rlim_cur: n.min(now.rlim_max),
        rlim_max: now.rlim_max,
    };
    // SAFETY: as above; the old limit is not asked for.
    let rc = unsafe { prlimit(pid as pid_t, RLIMIT_NOFILE, &limit, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
}

/// How many descriptors `pid` has open.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Lines of `out` about the scheduler being held, and about it going on.
fn holds_and_goes(out: &str) -> (Vec<&str>, Vec<&str>) {
    let held = out
        .lines()
        .filter(|l| l.contains("scheduler held") || l.contains("scheduler is held"))
        .collect();
    let goes = out
        .lines()
        .filter(|l| l.contains("scheduler goes on"))
        .collect();
    (held, goes)
}

/// A project with three ready features, one agent at a time: feature 1 waits for `go`.
fn project(dir: &Path) {
    write_script(
        &dir.join("agent.sh"),
        &format!(
            "if [ \"$CORRAL_FEATURE_ID\" = 1 ]; then\n\
             while [ ! -e {go} ]; do sleep 0.05; done\n\
             fi\nexit 0",
            go = dir.join("go").display()
        ),
    );
    std::fs::write(
        dir.join("corral.toml"),
        "[scheduler]\nmax_agents = 1\nmax_attempts = 1\n\n\
         [profiles.coding]\nrole = \"coding\"\nsuccess = \"exit\"\n\
         command = [\"sh\", \"{project}/agent.sh\"]\n",
    )
    .unwrap();
    let features: Vec<_> = (1..=3).map(|id| common::feature(id, &[])).collect();
    Store::open(dir)
        .unwrap()
        .add_features(&features, 0)
        .unwrap();
}

#[test]
fn a_descriptor_shortage_holds_once_probes_quietly_and_goes_on_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    project(p);
    let corral = Headless::start(p, "headless.out");
    let pid = corral.pid();
    wait_for("feature 1 to run", Duration::from_secs(30), || {
        corral.output().contains("run 1 started").then_some(())
    });
    // Fewer descriptors than a start needs spare, more than corral holds open.
    let limit = open_fds(pid) as u64 + 2;
    set_nofile(pid, limit);
    std::fs::write(p.join("go"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while holds_and_goes(&corral.output()).0.is_empty() {
        let fds = open_fds(pid);
        assert!(
            Instant::now() < deadline,
            "no hold at a limit of {limit} with {fds} open:\n{}",
            corral.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Several probes' worth of time (one every 2 s).
    let watched = Instant::now();
    while watched.elapsed() < Duration::from_secs(7) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = corral.output();
    let (held, goes) = holds_and_goes(&out);
    assert_eq!(held.len(), 1, "held once, said once:\n{out}");
    assert!(goes.is_empty(), "no going on while still short:\n{out}");
    assert!(
        held[0].contains("file descriptors"),
        "the hold names what is short: {}",
        held[0]
    );
    assert!(
        !out.contains("can write again"),
        "an fd shortage is no write trouble:\n{out}"
    );
    assert!(!out.contains("run 2 started"), "{out}");
    let log = std::fs::read_to_string(p.join(".xdg-data/corral/corral.log")).unwrap_or_default();
    let still = log.matches("still held").count();
    assert!(
        still <= 1,
        "the log says a lasting hold once a minute:\n{log}"
    );
    let lines_before = out.lines().count();

    // Descriptors back: it goes on once, in the words of what was short, and the work runs.
    set_nofile(pid, 1024);
    let out = wait_for("the rest to pass", Duration::from_secs(30), || {
        let out = corral.output();
        (out.contains("feature 2 feature 2: passing")
            && out.contains("feature 3 feature 3: passing"))
        .then_some(out)
    });
    let (held, goes) = holds_and_goes(&out);
    assert_eq!(held.len(), 1, "{out}");
    assert_eq!(goes.len(), 1, "goes on once:\n{out}");
    assert!(
        goes[0].contains("file descriptors available again"),
        "{}",
        goes[0]
    );
    assert!(
        out.lines().count() < lines_before + 20,
        "no flood after the hold:\n{out}"
    );
    assert!(out.contains("feature 1 feature 1: passing"), "{out}");
    assert!(!out.contains(": failed"), "{out}");
}
