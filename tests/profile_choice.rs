//! A user who copies all four ready-made profiles into corral.toml: corral says at start which
//! profile each role uses and which programs are not installed (headless output, `corral
//! status`, the dashboard's notice), `[scheduler] coding_profile` picks the one that runs, and
//! `corral init` writes that setting.

mod common;

use common::cli::{corral, ok, stdout};
use corral::runtime::store::Store;
use std::path::Path;
use std::time::Duration;

/// The four ready-made profiles after `scheduler`, as corral.toml of `p`; a PATH holding only
/// a stand-in `claude`.
fn copy_all_four(p: &Path, scheduler: &str) -> std::ffi::OsString {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/profiles");
    let mut text = format!("[scheduler]\n{scheduler}\n");
    for file in [
        "aider.toml",
        "claude-code.toml",
        "codex.toml",
        "gemini.toml",
    ] {
        text.push_str(&std::fs::read_to_string(dir.join(file)).unwrap());
        text.push('\n');
    }
    std::fs::write(p.join("corral.toml"), text).unwrap();
    let bin = p.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    common::write_script(&bin.join("claude"), "echo 'claude ran'; exit 1");
    Store::open(p)
        .unwrap()
        .add_features(&[common::feature(1, &[])], 0)
        .unwrap();
    // The system's directories for `sh` and friends, and the stand-in; none of the agents.
    std::env::join_paths([bin.as_path(), Path::new("/nonexistent-agents")]).unwrap()
}

const CLAUDE_USED: &str = "coding uses profile claude, the first by name of aider, claude, claude-ask, codex, gemini whose program is installed; set coding_profile = \"NAME\" under [scheduler] in corral.toml to choose";
const AIDER_MISSING: &str = "profile aider: program `aider` is not installed (not found on PATH): its runs will fail to start (install it, or set enabled = false)";

#[test]
fn status_and_headless_say_which_profile_runs_and_which_programs_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let path = copy_all_four(p, "max_agents = 0");
    let out = corral(p).env("PATH", &path).arg("status").output().unwrap();
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("warning: {CLAUDE_USED}")), "{text}");
    assert!(
        text.contains(&format!("warning: {AIDER_MISSING}")),
        "{text}"
    );
    assert!(
        !text.contains("profile claude:"),
        "claude is installed: {text}"
    );
    let json = corral(p)
        .env("PATH", &path)
        .args(["status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == CLAUDE_USED),
        "{v}"
    );

    // Headless prints them at start, before anything runs.
    let headless = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .current_dir(p)
        .env("PATH", &path)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .env("XDG_DATA_HOME", p.join(".xdg"))
        .args(["run", "--headless"])
        .stdout(std::fs::File::create(p.join("headless.out")).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let guard = Guard(headless);
    let printed = common::wait_for("the start report", Duration::from_secs(20), || {
        let text = std::fs::read_to_string(p.join("headless.out")).unwrap_or_default();
        text.contains(AIDER_MISSING).then_some(text)
    });
    assert!(
        printed.contains(&format!("corral: {CLAUDE_USED}")),
        "{printed}"
    );
    drop(guard);

    // And the runs use it: Aider, first by name but not installed, fails nothing.
    let toml = std::fs::read_to_string(p.join("corral.toml")).unwrap();
    std::fs::write(
        p.join("corral.toml"),
        toml.replacen("max_agents = 0", "max_agents = 1\nmax_attempts = 1", 1),
    )
    .unwrap();
    let out = corral(p)
        .env("PATH", &path)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("run 1 started: coding (claude) #1"), "{text}");
    assert!(!text.contains("(aider)"), "{text}");
}

/// Stops the background corral (TERM) when the test ends, also on a failed assertion.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.0.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.0.wait();
    }
}

#[test]
fn the_named_coding_profile_runs_and_nothing_is_said_about_the_choice() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let path = copy_all_four(
        p,
        "max_agents = 1\nmax_attempts = 1\ncoding_profile = \"claude\"",
    );
    let out = corral(p)
        .env("PATH", &path)
        .env("XDG_CONFIG_HOME", p.join(".xdg"))
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("run 1 started: coding (claude) #1"), "{text}");
    assert!(!text.contains("coding uses profile"), "{text}");
    // The profiles not used are still reported as not installed.
    assert!(text.contains(AIDER_MISSING), "{text}");
}

#[test]
fn a_profile_named_for_the_wrong_role_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    copy_all_four(p, "coding_profile = \"claude-tester\"");
    let run = corral(p)
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let run_err = common::cli::stderr(&run);
    assert_ne!(run.status.code(), Some(0));
    assert!(
        run_err.contains(
            "corral.toml:2: scheduler.coding_profile: profile \"claude-tester\" has role = \"testing\", not \"coding\""
        ),
        "{run_err}"
    );
}

#[test]
fn init_names_the_coding_profile_and_the_dashboard_notice_carries_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init"]);
    let config = corral::config::Config::load_with_user(p, None).unwrap();
    assert_eq!(config.scheduler.coding_profile.as_deref(), Some("coding"));

    // The dashboard shows the snapshot's notice: the runtime sets it at start.
    let other = tempfile::tempdir().unwrap();
    let q = other.path();
    let text = "[scheduler]\nmax_agents = 0\n\n\
                [profiles.a]\nrole = \"coding\"\ncommand = [\"no-such-agent-program\"]\n\n\
                [profiles.b]\nrole = \"coding\"\ncommand = [\"sh\"]\n";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (handle, task) = common::start_project(q, text, &[]);
        // One notice per line of the report, shown in turn.
        let notice: Vec<String> = handle
            .snapshots()
            .borrow()
            .notices
            .iter()
            .map(|n| n.text.clone())
            .collect();
        let notice = notice.join("\n");
        assert!(
            notice.contains(
                "coding uses profile b, the first by name of a, b whose program is installed; set coding_profile"
            ),
            "{notice}"
        );
        assert!(
            notice.contains("profile a: program `no-such-agent-program` is not installed"),
            "{notice}"
        );
        handle.send(corral::api::Command::Shutdown);
        let _ = task.await;
    });
}
