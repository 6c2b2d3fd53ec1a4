//! Agents outlive the terminal, driven end to end through the real binary: a dashboard in tmux
//! whose session is killed, two dashboards attached at once, and a dashboard over a real SSH
//! login whose client is killed. Each test starts a terminal, a daemon and agent process
//! trees: they run one at a time, and every daemon they start is stopped when they end.

mod common;

use common::cli::ok;
use common::daemon::StopsDaemon;
use common::tmux::{Tmux, shell_quote};
use common::{group_members, wait_for};
use corral::runtime::process::process_start_time;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

/// Several seconds: terminals, a daemon and agent trees on a loaded 2-core machine.
const LIMIT: Duration = Duration::from_secs(20);

const TREE: &str = "[scheduler]\nmax_agents = 2\n\n[profiles.coding]\nrole = \"coding\"\n\
                    command = [\"sh\", \"-c\", \"echo tree up; sleep 600 & sleep 601 & wait\"]\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corral.toml"), TREE).unwrap();
    drop(corral::runtime::store::Store::open(dir.path()).unwrap());
    for i in 0..2 {
        ok(
            dir.path(),
            &["feature", "add", "--name", &format!("tree {i}")],
        );
    }
    dir
}

/// The dashboard's command line in `dir`, as a person would type it (the test's XDG dirs).
fn dashboard_line(dir: &Path, flags: &str) -> String {
    format!(
        "cd {} && XDG_CONFIG_HOME=.xdg-config XDG_DATA_HOME=.xdg-data {} {flags}",
        shell_quote(&dir.display().to_string()),
        shell_quote(env!("CARGO_BIN_EXE_corral"))
    )
}

/// (pid, start time) of every process of the runs recorded running, once both agents are
/// up with their two sleeps each.
fn agent_processes(dir: &Path) -> Vec<(u32, u64)> {
    wait_for("two agents with their process trees", LIMIT, || {
        let pgids = running_pids(dir);
        let members: Vec<Vec<(u32, char)>> = pgids.iter().map(|p| group_members(*p)).collect();
        (pgids.len() == 2 && members.iter().all(|m| m.len() == 3)).then(|| {
            members
                .iter()
                .flatten()
                .filter_map(|(pid, _)| Some((*pid, process_start_time(*pid)?)))
                .collect()
        })
    })
}

/// The pids of the runs `corral status --json` lists as running.
fn running_pids(dir: &Path) -> Vec<u32> {
    let v: serde_json::Value = serde_json::from_str(&ok(dir, &["status", "--json"])).unwrap();
    v["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "running")
        .filter_map(|r| r["pid"].as_u64().map(|p| p as u32))
        .collect()
}

/// Watches the processes for `period`: each must stay alive as the same process all along.
fn all_live_for(procs: &[(u32, u64)], period: Duration) {
    let until = Instant::now() + period;
    while Instant::now() < until {
        for (pid, start) in procs {
            assert_eq!(
                process_start_time(*pid),
                Some(*start),
                "agent process {pid} died"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn agents_live_on_when_the_terminal_is_killed_and_a_new_one_shows_them() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project();
    let p = dir.path();
    let Some(tmux) = Tmux::start(&dashboard_line(p, ""), 120, 30) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let _daemon = StopsDaemon::new(p);
    tmux.wait_for_screen("the fleet", LIMIT, |s| s.contains("2 live"));
    let procs = agent_processes(p);
    assert_eq!(procs.len(), 6);
    tmux.close_terminal();
    drop(tmux);
    all_live_for(&procs, Duration::from_secs(10));
    let live = running_pids(p);
    assert_eq!(live.len(), 2, "status --json lists both runs running");

    let Some(again) = Tmux::start(&dashboard_line(p, ""), 120, 30) else {
        return;
    };
    again.wait_for_screen("the same fleet, live, with its output", LIMIT, |s| {
        s.contains("2 live")
            && s.contains("tree up")
            && live.iter().all(|pid| s.contains(&pid.to_string()))
    });
}

#[test]
fn a_pause_in_one_dashboard_shows_in_another() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project();
    let p = dir.path();
    let Some(first) = Tmux::start(&dashboard_line(p, ""), 120, 30) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let _daemon = StopsDaemon::new(p);
    agent_processes(p);
    let second = Tmux::start(&dashboard_line(p, ""), 100, 30).expect("tmux");
    for t in [&first, &second] {
        t.wait_for_screen("the fleet", LIMIT, |s| s.contains("2 live"));
    }
    first.press("p");
    let started = Instant::now();
    second.wait_for_screen("the run paused in the other dashboard", LIMIT, |s| {
        s.contains("(1 paused)")
    });
    let took = started.elapsed();
    let paused = wait_for("the paused run", LIMIT, || {
        let v: serde_json::Value =
            serde_json::from_str(&ok(p, &["agent", "list", "--json"])).unwrap();
        v.as_array()?
            .iter()
            .find(|r| r["state"]["state"] == "paused")
            .and_then(|r| r["pid"].as_u64())
    });
    let members = group_members(paused as u32);
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(members.iter().all(|(_, s)| *s == 'T'), "{members:?}");
    eprintln!("the other dashboard showed the pause after {took:.2?}");
}

/// A temporary sshd on 127.0.0.1 that lets this user in with a key of its own; killed on drop.
struct Sshd {
    child: std::process::Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Sshd {
    /// `None` (with the reason printed) where no sshd is installed.
    fn start() -> Option<Sshd> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            eprintln!("/usr/sbin/sshd is not installed (openssh-server): skipped");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (key, kind) in [("host", "ed25519"), ("id", "ed25519")] {
            let made = std::process::Command::new("ssh-keygen")
                .args(["-q", "-t", kind, "-N", "", "-f"])
                .arg(d.join(key))
                .status()
                .unwrap();
            assert!(made.success(), "ssh-keygen");
        }
        std::fs::copy(d.join("id.pub"), d.join("authorized_keys")).unwrap();
        // A free port: the kernel picks one, which is given back for sshd to take.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {pid}\n\
             AuthorizedKeysFile {keys}\nUsePAM no\nStrictModes no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n\
             PermitUserEnvironment no\n",
            host = d.join("host").display(),
            pid = d.join("sshd.pid").display(),
            keys = d.join("authorized_keys").display(),
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        // As root, sshd wants its privilege separation directory.
        if nix::unistd::geteuid().is_root() {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let child = std::process::Command::new(sshd)
            .arg("-f")
            .arg(d.join("sshd_config"))
            .args(["-D", "-e"])
            .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
            .spawn()
            .unwrap();
        let mut sshd = Sshd { child, port, dir };
        wait_for("sshd to listen", LIMIT, || {
            if let Ok(Some(status)) = sshd.child.try_wait() {
                panic!(
                    "sshd exited ({status}): {}",
                    std::fs::read_to_string(sshd.dir.path().join("sshd.log")).unwrap_or_default()
                );
            }
            std::net::TcpStream::connect(("127.0.0.1", sshd.port)).ok()
        });
        Some(sshd)
    }

    /// `ssh -tt` to this server running `command`, as a shell command line.
    fn ssh_line(&self, command: &str) -> String {
        let d = self.dir.path();
        format!(
            "ssh -tt -p {} -i {} -o BatchMode=yes -o StrictHostKeyChecking=no \
             -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR 127.0.0.1 {}",
            self.port,
            shell_quote(&d.join("id").display().to_string()),
            shell_quote(command)
        )
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A child of `parent` whose command is `name`.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let close = stat.rfind(')')?;
        let ppid: u32 = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
        let comm = std::fs::read_to_string(e.path().join("comm")).ok()?;
        (ppid == parent && comm.trim() == name).then_some(pid)
    })
}

#[test]
fn agents_live_on_when_the_ssh_client_is_killed_and_a_second_login_attaches() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(sshd) = Sshd::start() else {
        return;
    };
    let dir = project();
    let p = dir.path();
    let line = sshd.ssh_line(&format!(
        "TERM=xterm-256color; export TERM; {}",
        dashboard_line(p, "")
    ));
    let Some(first) = Tmux::start(
        &format!("{line}; echo \"ssh exited $?\"; sleep 60"),
        120,
        30,
    ) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    let _daemon = StopsDaemon::new(p);
    first.wait_for_screen("the fleet over ssh", LIMIT, |s| s.contains("2 live"));
    let procs = agent_processes(p);
    // The ssh client dies outright, as when a laptop's link drops.
    let shell = first.pane_pid();
    let ssh = wait_for("the ssh client", LIMIT, || child_named(shell, "ssh"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(ssh as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    first.wait_for_screen("the ssh client gone", LIMIT, |s| s.contains("ssh exited"));
    all_live_for(&procs, Duration::from_secs(5));
    assert_eq!(running_pids(p).len(), 2);

    let Some(second) = Tmux::start(&format!("{line}; sleep 60"), 120, 30) else {
        return;
    };
    second.wait_for_screen("a second login attached to the same fleet", LIMIT, |s| {
        s.contains("2 live") && s.contains("tree up")
    });
    all_live_for(&procs, Duration::from_millis(500));
    let v: serde_json::Value =
        serde_json::from_str(&ok(p, &["daemon", "status", "--json"])).unwrap();
    // The dashboard over ssh, and this status request.
    assert_eq!(v["daemon"]["clients"], 2, "{v}");
}

#[test]
fn a_read_only_dashboard_watches_and_changes_nothing() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = project();
    let p = dir.path();
    // With no daemon to watch it says so, and starts none.
    let out = common::cli::corral(p).arg("--read-only").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);
    agent_processes(p);
    let Some(tmux) = Tmux::start(&dashboard_line(p, "--read-only"), 120, 30) else {
        eprintln!("tmux is not installed: skipped");
        return;
    };
    tmux.wait_for_screen("the fleet", LIMIT, |s| s.contains("2 live"));
    tmux.press("p");
    tmux.wait_for_screen("the refusal", LIMIT, |s| s.contains("read-only"));
    tmux.press(" ");
    let screen = tmux.wait_for_screen("the refusal again", LIMIT, |s| s.contains("read-only"));
    assert!(!screen.contains("paused"), "{screen}");
    for pid in running_pids(p) {
        assert!(
            group_members(pid).iter().all(|(_, s)| *s != 'T'),
            "run {pid} was paused"
        );
    }
    let agents = ok(p, &["agent", "list"]);
    assert!(!agents.contains("paused"), "{agents}");
}

#[test]
fn reload_takes_a_good_config_keeps_the_old_one_on_a_bad_one_and_restart_waits() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let good = "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"-c\", \"sleep 4\"]\n";
    std::fs::write(p.join("corral.toml"), good).unwrap();
    drop(corral::runtime::store::Store::open(p).unwrap());
    ok(p, &["daemon", "start"]);
    let _daemon = StopsDaemon::new(p);

    // A broken file, noticed by the daemon itself: the old config stays, the error shows.
    std::fs::write(p.join("corral.toml"), format!("{good}bogus = 1\n")).unwrap();
    let said = wait_for("the daemon to refuse the new file", LIMIT, || {
        let said = ok(p, &["daemon", "status"]);
        said.contains("corral.toml not applied").then_some(said)
    });
    assert!(said.contains("bogus"), "{said}");
    let out = common::cli::corral(p)
        .args(["daemon", "reload"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("keeps the config it had"));
    std::fs::write(p.join("corral.toml"), good).unwrap();
    assert!(ok(p, &["daemon", "reload"]).contains("reloaded"));
    assert!(!ok(p, &["daemon", "status"]).contains("not applied"));

    // Restart waits for the running agent to finish, then starts a new daemon.
    ok(p, &["feature", "add", "--name", "short"]);
    let before = corral::runtime::daemon::running(p).unwrap().pid;
    wait_for("the agent running", LIMIT, || {
        (running_pids(p).len() == 1).then_some(())
    });
    let said = ok(p, &["daemon", "restart"]);
    assert!(said.contains("waiting for 1 running agent(s)"), "{said}");
    let after = corral::runtime::daemon::running(p).unwrap().pid;
    assert_ne!(before, after);
    let v: serde_json::Value = serde_json::from_str(&ok(p, &["status", "--json"])).unwrap();
    assert_eq!(
        v["runs"][0]["status"], "exited",
        "it finished, not killed: {v}"
    );
    // --now does not wait.
    let said = ok(p, &["daemon", "restart", "--now"]);
    assert!(!said.contains("waiting"), "{said}");
}
