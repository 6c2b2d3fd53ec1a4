//! Feature worktrees with real git: agents (sh scripts) work in their own worktrees on their
//! own branches, the main checkout is untouched while they run, passing features are merged
//! into the base, conflicts get a resolve job, a dirty checkout makes the merge wait.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use common::write_script;
use corral::runtime::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// A repository on `main` with one commit holding `shared.txt`, plus a place outside it for
/// agent scripts, markers and corral's data directory.
struct Fixture {
    _dirs: (tempfile::TempDir, tempfile::TempDir),
    repo: PathBuf,
    outside: PathBuf,
}

fn fixture(
    git_toml: &str,
    agent: &str,
    features: &[corral::runtime::store::NewFeature],
) -> Fixture {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let repo = a.path().join("shop");
    std::fs::create_dir(&repo).unwrap();
    let outside = b.path().to_path_buf();
    git(&repo, &["init", "--quiet", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    std::fs::write(repo.join("shared.txt"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(
        repo.join(".gitignore"),
        "corral.toml\n.corral/\nnode_modules/\n",
    )
    .unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "start"]);
    let script = outside.join("agent.sh");
    write_script(&script, agent);
    let toml = format!(
        "[scheduler]\nmax_agents = 2\nmax_attempts = 3\n\n\
         [profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"null\"\n\n\
         [git]\nworktrees = true\n{git_toml}\n",
        script.display()
    );
    std::fs::write(repo.join("corral.toml"), toml).unwrap();
    Store::open(&repo)
        .unwrap()
        .add_features(features, 0)
        .unwrap();
    Fixture {
        _dirs: (a, b),
        repo,
        outside,
    }
}

impl Fixture {
    fn corral(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = cargo_bin_cmd!("corral")
            .current_dir(&self.repo)
            .env("XDG_CONFIG_HOME", self.outside.join("xdg"))
            .env("XDG_DATA_HOME", self.outside.join("xdg"))
            .env("MARKS", self.outside.join("marks"))
            .args(args)
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    }

    fn until_done(&self) -> String {
        let (code, text) = self.corral(&["run", "--headless", "--until-done"]);
        assert_eq!(code, Some(0), "{text}");
        text
    }

    fn statuses(&self) -> Vec<(i64, String)> {
        Store::open(&self.repo)
            .unwrap()
            .load_features()
            .unwrap()
            .iter()
            .map(|f| (f.id.0, f.status.as_str().to_string()))
            .collect()
    }

    fn worktrees(&self) -> Vec<corral::runtime::store::WorktreeRecord> {
        Store::open(&self.repo).unwrap().worktrees().unwrap()
    }
}

/// An agent that records where it ran, waits (bounded) until the other feature's agent is
/// running too, then writes its own file and commits half of its work.
const PARALLEL_AGENT: &str = r#"
mkdir -p "$MARKS"
printf '%s\n%s\n%s\n%s\n' "$PWD" "$CORRAL_WORKTREE" "$CORRAL_BRANCH" "$CORRAL_PORT_BASE" > "$MARKS/$CORRAL_FEATURE_ID"
i=0
while [ $(ls "$MARKS" | wc -l) -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo "feature $CORRAL_FEATURE_ID" > "f$CORRAL_FEATURE_ID.txt"
git add "f$CORRAL_FEATURE_ID.txt" && git commit --quiet -m "agent: f$CORRAL_FEATURE_ID"
echo "left over by $CORRAL_FEATURE_ID" > "extra$CORRAL_FEATURE_ID.txt"
"#;

#[test]
fn two_agents_work_in_their_own_worktrees_and_both_land_on_main() {
    let f = fixture(
        "",
        PARALLEL_AGENT,
        &[common::feature(1, &[]), common::feature(2, &[])],
    );
    let main_before = git(&f.repo, &["rev-parse", "main"]);
    f.until_done();
    assert_eq!(
        f.statuses(),
        vec![(1, "passing".into()), (2, "passing".into())]
    );
    let marks = f.outside.join("marks");
    let mut ports = Vec::new();
    for id in ["1", "2"] {
        let m: Vec<String> = std::fs::read_to_string(marks.join(id))
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(m[0], m[1], "the agent runs in CORRAL_WORKTREE");
        assert!(
            !Path::new(&m[0]).starts_with(&f.repo),
            "worktrees live outside the repository: {}",
            m[0]
        );
        assert!(m[0].starts_with(f.outside.join("xdg/corral/worktrees").to_str().unwrap()));
        assert_eq!(m[2], format!("corral/{id}-feature-{id}"));
        ports.push(m[3].parse::<u16>().unwrap());
    }
    assert_ne!(ports[0], ports[1], "two live runs get different port bases");
    // The main checkout never saw the agents' files; main now has both features, linear.
    assert!(git(&f.repo, &["status", "--porcelain", "--untracked-files=no"]).is_empty());
    for id in 1..=2 {
        assert_eq!(
            std::fs::read_to_string(f.repo.join(format!("f{id}.txt"))).unwrap(),
            format!("feature {id}\n")
        );
        assert!(
            f.repo.join(format!("extra{id}.txt")).exists(),
            "what was left uncommitted is committed"
        );
    }
    let log = git(
        &f.repo,
        &["log", "--format=%s", &format!("{main_before}..main")],
    );
    let subjects: Vec<&str> = log.lines().collect();
    assert_eq!(subjects.len(), 2, "one squash commit per feature: {log}");
    assert!(
        subjects.iter().any(|s| *s == "feature 1: feature 1"),
        "{log}"
    );
    assert!(
        subjects.iter().any(|s| *s == "feature 2: feature 2"),
        "{log}"
    );
    assert_eq!(
        git(&f.repo, &["rev-list", "--min-parents=2", "--count", "main"]),
        "0",
        "squash leaves a linear history"
    );
    for w in f.worktrees() {
        assert_eq!(w.merge_state, "merged", "{w:?}");
    }
    // The worktrees are unlocked once their runs ended.
    let list = git(&f.repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("\nworktree ").count() + 1, 3, "{list}");
    assert!(!list.contains("locked"), "{list}");
}
