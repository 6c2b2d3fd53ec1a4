//! One cgroup (v2) per run, where the system lets corral make them: membership, freezing,
//! killing and CPU time then cover every process the agent started, whatever it did to its
//! session or process group (`setsid`, double forks). Where it does not (no v2 hierarchy, no
//! write access to corral's own cgroup), runs have no cgroup and the process layer falls back
//! on process groups, the subreaper and tree tracking.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Set to `1` to run without cgroups even where they work (the fallback's tests use it).
pub const DISABLE_ENV: &str = "CORRAL_NO_CGROUP";

/// Prefix of every run cgroup's directory name; the reaper recognises adopted zombies by it.
pub const NAME_PREFIX: &str = "corral-";

/// Where run cgroups go (the v2 mount point plus corral's own cgroup), or why there are
/// none; probed once, the outcome logged once.
fn state() -> &'static Result<PathBuf, String> {
    static STATE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    STATE.get_or_init(|| {
        let found = probe();
        match &found {
            Ok(dir) => log::info!("run cgroups go under {}", dir.display()),
            Err(why) => log::info!(
                "no run cgroups ({why}): processes are tracked by process group and subreaper"
            ),
        }
        found
    })
}

/// Where run cgroups go; `Err` says why runs get none here.
pub fn availability() -> Result<&'static Path, &'static str> {
    match state() {
        Ok(p) => Ok(p.as_path()),
        Err(why) => Err(why.as_str()),
    }
}

/// Finds the v2 mount (from mountinfo: hybrid systems mount it at `/sys/fs/cgroup/unified`,
/// pure v2 ones at `/sys/fs/cgroup`) and corral's own cgroup in it, then checks that a child
/// cgroup can be made there and has `cgroup.kill` (Linux 5.14) and `cgroup.freeze` (5.2).
fn probe() -> Result<PathBuf, String> {
    if std::env::var(DISABLE_ENV).is_ok_and(|v| v == "1") {
        return Err(format!("{DISABLE_ENV}=1"));
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("/proc/self/mountinfo: {e}"))?;
    let mount = v2_mount(&mountinfo).ok_or("no cgroup2 file system is mounted")?;
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .map_err(|e| format!("/proc/self/cgroup: {e}"))?;
    let own = own_v2_path(&own).ok_or("corral's own v2 cgroup is unknown")?;
    let base = mount.join(own.trim_start_matches('/'));
    let test = base.join(format!("{NAME_PREFIX}{}-probe", std::process::id()));
    std::fs::create_dir(&test).map_err(|e| format!("cannot create {}: {e}", test.display()))?;
    let complete = test.join("cgroup.kill").exists() && test.join("cgroup.freeze").exists();
    let _ = std::fs::remove_dir(&test);
    if !complete {
        return Err("the kernel's cgroups lack cgroup.kill or cgroup.freeze".into());
    }
    Ok(base)
}

/// The mount point of the `cgroup2` file system in a mountinfo text (see proc(5)): the fifth
/// field, with the type after the ` - ` separator.
pub fn v2_mount(mountinfo: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        if right.split_whitespace().next()? != "cgroup2" {
            return None;
        }
        let point = left.split_whitespace().nth(4)?;
        // Mount points escape spaces and the like as octal (`\040`).
        Some(PathBuf::from(unescape_octal(point)))
    })
}

fn unescape_octal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 4);
        match code.and_then(|c| u8::from_str_radix(c, 8).ok()) {
            Some(b) => {
                out.push(b as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The v2 path (`0::<path>`) of a `/proc/<pid>/cgroup` text.
pub fn own_v2_path(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix("0::"))
}

/// A run's cgroup directory. Dropping it changes nothing: [`RunCgroup::remove`] removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCgroup {
    path: PathBuf,
}

impl RunCgroup {
    /// Makes the cgroup of `run`. Run ids are per project, and one process may run several
    /// projects (tests do; a daemon will): the name carries corral's pid and a sequence number
    /// as well. `None` where runs get no cgroups.
    pub fn create(run: i64) -> Option<RunCgroup> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let base = availability().ok()?;
        loop {
            let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = format!("{NAME_PREFIX}{}-{seq}-run-{run}", std::process::id());
            let path = base.join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => return Some(RunCgroup { path }),
                // Left by an earlier process with the same pid: never share it.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    log::warn!("run {run}: cannot create {}: {e}", path.display());
                    return None;
                }
            }
        }
    }

    /// A cgroup recorded earlier (by this or an earlier corral); `None` if it is gone or is
    /// not one of corral's.
    pub fn existing(path: &Path) -> Option<RunCgroup> {
        let named = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(NAME_PREFIX));
        (named && path.join("cgroup.procs").exists()).then(|| RunCgroup {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file a process writes `0` to in order to join.
    pub fn procs_file(&self) -> PathBuf {
        self.path.join("cgroup.procs")
    }

    /// Every process in it now (zombies are not listed).
    pub fn pids(&self) -> Vec<u32> {
        std::fs::read_to_string(self.procs_file())
            .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_default()
    }

    /// True while a live process is in it.
    pub fn populated(&self) -> bool {
        match std::fs::read_to_string(self.path.join("cgroup.events")) {
            Ok(text) => text.lines().any(|l| l == "populated 1"),
            Err(_) => false,
        }
    }

    /// True while a process in it has not ended. (Not `populated`: the kernel may clear that
    /// a moment after a process's parent has already collected its exit.)
    pub fn has_live_process(&self) -> bool {
        self.populated()
            && self
                .pids()
                .into_iter()
                .any(|pid| super::sampler::state_of(pid).is_some_and(|s| s != 'Z' && s != 'X'))
    }

    fn write(&self, file: &str, value: &str) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.path.join(file))?;
        f.write_all(value.as_bytes())
    }

    /// Freezes (or thaws) every process in it, including those forked meanwhile.
    pub fn freeze(&self, frozen: bool) -> std::io::Result<()> {
        self.write("cgroup.freeze", if frozen { "1" } else { "0" })
    }

    /// SIGKILLs every process in it at once; nothing forked meanwhile escapes.
    pub fn kill(&self) -> std::io::Result<()> {
        self.write("cgroup.kill", "1")
    }

    /// CPU time used by everything that ran in it, ended processes included, in µs.
    pub fn cpu_usec(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.path.join("cpu.stat")).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Removes the directory once nothing lives in it; an error (say, still busy) is returned
    /// for the caller to log or retry.
    pub fn remove(&self) -> std::io::Result<()> {
        // Thawed first: a frozen, empty cgroup is removable, but the flag would survive in a
        // cgroup that is not (still busy), and its processes would stay frozen.
        let _ = self.freeze(false);
        match std::fs::remove_dir(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// Whether `/proc/<pid>/cgroup` (also readable for a zombie) names a run cgroup of corral's.
pub fn in_run_cgroup(pid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
        return false;
    };
    own_v2_path(&text)
        .and_then(|p| p.rsplit('/').next())
        .is_some_and(|leaf| leaf.starts_with(NAME_PREFIX) && leaf.contains("-run-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v2_mount_is_found_in_hybrid_and_pure_layouts() {
        let hybrid = "35 25 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n\
                      42 35 0:39 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer";
        assert_eq!(
            v2_mount(hybrid),
            Some(PathBuf::from("/sys/fs/cgroup/unified"))
        );
        let pure = "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw";
        assert_eq!(v2_mount(pure), Some(PathBuf::from("/sys/fs/cgroup")));
        let spaced = "30 23 0:26 / /mnt/my\\040cg rw - cgroup2 none rw";
        assert_eq!(v2_mount(spaced), Some(PathBuf::from("/mnt/my cg")));
        assert_eq!(
            v2_mount("35 25 0:30 / /sys/fs/cgroup ro - tmpfs tmpfs ro"),
            None
        );
    }

    #[test]
    fn the_own_path_is_the_v2_line() {
        let text = "9:name=systemd:/\n4:memory:/x\n0::/user.slice/a.scope\n";
        assert_eq!(own_v2_path(text), Some("/user.slice/a.scope"));
        assert_eq!(own_v2_path("4:memory:/x\n"), None);
    }

    #[test]
    fn only_corrals_own_directories_are_taken_as_run_cgroups() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("system.slice");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("cgroup.procs"), "").unwrap();
        assert_eq!(RunCgroup::existing(&other), None);
        let ours = dir.path().join("corral-1-run-2");
        assert_eq!(RunCgroup::existing(&ours), None, "gone");
        std::fs::create_dir(&ours).unwrap();
        std::fs::write(ours.join("cgroup.procs"), "").unwrap();
        assert!(RunCgroup::existing(&ours).is_some());
    }
}
