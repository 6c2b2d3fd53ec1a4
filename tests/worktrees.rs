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
/// agent scripts, markers and corral's data directory. `[git] worktrees` is left out: on by
/// default in a git repository.
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
         [git]\n{git_toml}\n",
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
        let path = format!(
            "{}:{}",
            self.outside.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = cargo_bin_cmd!("corral")
            .env("PATH", path)
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

    /// `run --headless --until-done` where some features may wait for a person.
    fn until_done_or_stuck(&self) -> String {
        self.corral(&["run", "--headless", "--until-done"]).1
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
cp "$CORRAL_PROMPT_FILE" "$MARKS/../prompt$CORRAL_FEATURE_ID"
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
        let prompt = std::fs::read_to_string(f.outside.join(format!("prompt{id}"))).unwrap();
        assert!(
            prompt.contains(&format!("for the project at `{}`", m[0]))
                && prompt.contains("## Where you work")
                && prompt.contains(&format!(
                    "Do not edit the main checkout at `{}`",
                    f.repo.display()
                )),
            "{prompt}"
        );
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
    assert!(subjects.contains(&"feature 1: feature 1"), "{log}");
    assert!(subjects.contains(&"feature 2: feature 2"), "{log}");
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

/// Both features change the same line of `shared.txt`. A resolve run (its prompt names the
/// file) rebases, keeps both lines and commits.
const CONFLICTING_AGENT: &str = r#"
mkdir -p "$MARKS"
if grep -q 'Merge conflict' "$CORRAL_PROMPT_FILE"; then
  cp "$CORRAL_PROMPT_FILE" "$MARKS/resolve-prompt-$CORRAL_FEATURE_ID"
  git rebase --quiet main >/dev/null 2>&1
  printf 'one\ntwo by 1\ntwo by 2\nthree\n' > shared.txt
  git add shared.txt
  GIT_EDITOR=true git rebase --continue >/dev/null 2>&1
  exit 0
fi
touch "$MARKS/$CORRAL_FEATURE_ID"
i=0
while [ $(ls "$MARKS" | wc -l) -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
sed -i "s/^two\$/two by $CORRAL_FEATURE_ID/" shared.txt
git commit --quiet -am "agent: $CORRAL_FEATURE_ID"
"#;

#[test]
fn a_conflict_gets_a_resolve_job_naming_the_file_and_then_lands() {
    let f = fixture(
        "",
        CONFLICTING_AGENT,
        &[common::feature(1, &[]), common::feature(2, &[])],
    );
    let text = f.until_done();
    assert_eq!(
        f.statuses(),
        vec![(1, "passing".into()), (2, "passing".into())],
        "{text}"
    );
    let resolved: Vec<_> = std::fs::read_dir(f.outside.join("marks"))
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("resolve-prompt-")
        })
        .collect();
    assert_eq!(
        resolved.len(),
        1,
        "exactly the second feature needed resolving"
    );
    let prompt = std::fs::read_to_string(resolved[0].path()).unwrap();
    assert!(prompt.contains("- shared.txt"), "{prompt}");
    assert_eq!(
        std::fs::read_to_string(f.repo.join("shared.txt")).unwrap(),
        "one\ntwo by 1\ntwo by 2\nthree\n"
    );
    assert!(f.worktrees().iter().all(|w| w.merge_state == "merged"));
}

#[test]
fn a_dirty_checkout_makes_the_merge_wait_and_changes_nothing_in_it() {
    let agent = "echo new > new.txt\n";
    let f = fixture("", agent, &[common::feature(1, &[])]);
    std::fs::write(f.repo.join("shared.txt"), "my own edit\n").unwrap();
    let before = git(&f.repo, &["rev-parse", "main"]);
    f.until_done();
    // Passing, but waiting: nothing in the checkout changed, main did not move.
    assert_eq!(f.statuses(), vec![(1, "passing".into())]);
    let w = &f.worktrees()[0];
    assert_eq!(w.merge_state, "waiting");
    assert!(
        w.merge_note.contains("uncommitted changes (shared.txt)"),
        "{w:?}"
    );
    let (_, shown) = f.corral(&["feature", "show", "1"]);
    assert!(
        shown.contains("merge:        waiting: waiting for a clean checkout"),
        "the feature says why: {shown}"
    );
    assert_eq!(
        std::fs::read_to_string(f.repo.join("shared.txt")).unwrap(),
        "my own edit\n"
    );
    assert!(!f.repo.join("new.txt").exists());
    assert_eq!(git(&f.repo, &["rev-parse", "main"]), before);
    // Once it is clean, the merge goes through.
    git(&f.repo, &["checkout", "--quiet", "--", "shared.txt"]);
    let (code, text) = f.corral(&["feature", "merge", "1"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(f.worktrees()[0].merge_state, "merged");
    assert_eq!(
        std::fs::read_to_string(f.repo.join("new.txt")).unwrap(),
        "new\n"
    );
}

#[test]
fn copy_and_setup_prepare_a_new_worktree() {
    let agent = r#"mkdir -p "$MARKS"; cat .env > "$MARKS/env"; cat node_modules/done > "$MARKS/setup"; echo x > x.txt"#;
    let f = fixture(
        "copy = [\".env\", \"missing.txt\"]\nsetup = [\"sh\", \"-c\", \"mkdir -p node_modules && echo installed > node_modules/done\"]\n",
        agent,
        &[common::feature(1, &[])],
    );
    std::fs::write(f.repo.join(".env"), "SECRET=1\n").unwrap();
    f.until_done();
    assert_eq!(
        std::fs::read_to_string(f.outside.join("marks/env")).unwrap(),
        "SECRET=1\n"
    );
    assert_eq!(
        std::fs::read_to_string(f.outside.join("marks/setup")).unwrap(),
        "installed\n"
    );
    // The copied .env never reaches a commit.
    let files = git(&f.repo, &["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        !files.contains(".env\n") && !files.ends_with(".env"),
        "{files}"
    );
    assert!(files.contains("x.txt"));
}

#[test]
fn a_failing_setup_fails_the_run_with_a_clear_error() {
    let f = fixture(
        "setup = [\"sh\", \"-c\", \"echo cannot install >&2; exit 3\"]\n",
        "echo never > never.txt\n",
        &[common::feature(1, &[])],
    );
    let (_, text) = f.corral(&["run", "--headless", "--until-done"]);
    assert_eq!(f.statuses()[0].1, "failed", "{text}");
    let (_, status) = f.corral(&["feature", "show", "1"]);
    assert!(status.contains("[git] setup"), "{status}");
    // The broken worktree is gone, so the next try starts fresh.
    let list = git(&f.repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 1, "{list}");
}

#[test]
fn rebase_strategy_keeps_the_agents_commits_on_a_linear_main() {
    let agent = r#"echo "$CORRAL_FEATURE_ID" > "f$CORRAL_FEATURE_ID.txt"; git add -A; git commit --quiet -m "agent commit $CORRAL_FEATURE_ID""#;
    let f = fixture(
        "merge = \"rebase\"\n",
        agent,
        &[common::feature(1, &[]), common::feature(2, &[1])],
    );
    f.until_done();
    let log = git(&f.repo, &["log", "--format=%s", "main"]);
    assert_eq!(log, "agent commit 2\nagent commit 1\nstart");
}

#[test]
fn prune_removes_squash_merged_work_and_keeps_a_branch_with_an_unmerged_commit() {
    let agent = r#"echo "$CORRAL_FEATURE_ID" > "f$CORRAL_FEATURE_ID.txt"; git add -A; git commit --quiet -m "agent $CORRAL_FEATURE_ID""#;
    let f = fixture(
        "",
        agent,
        &[common::feature(1, &[]), common::feature(2, &[])],
    );
    f.until_done();
    let ws = f.worktrees();
    assert_eq!(ws.len(), 2);
    // A person adds a commit on feature 2's branch after its squash merge: not on main.
    let w2 = Path::new(&ws[1].path);
    std::fs::write(w2.join("later.txt"), "later\n").unwrap();
    git(w2, &["add", "later.txt"]);
    git(
        w2,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@e",
            "commit",
            "--quiet",
            "-m",
            "later",
        ],
    );
    let (code, dry) = f.corral(&["worktree", "prune", "--dry-run"]);
    assert_eq!(code, Some(0), "{dry}");
    assert!(dry.contains("would remove corral/1-feature-1"), "{dry}");
    assert!(
        dry.contains("kept corral/2-feature-2") && dry.contains("1 commit not on the base"),
        "{dry}"
    );
    assert!(Path::new(&ws[0].path).exists(), "a dry run removes nothing");
    let (code, out) = f.corral(&["worktree", "prune"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!Path::new(&ws[0].path).exists());
    let branches = git(&f.repo, &["branch", "--format=%(refname:short)"]);
    assert_eq!(branches, "corral/2-feature-2\nmain", "{out}");
    assert!(w2.join("later.txt").exists());
    let (_, list) = f.corral(&["worktree", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(rows[0]["feature_id"], 2);
    assert_eq!(rows[0]["removable"], false);
}

#[test]
fn feature_diff_stat_matches_git() {
    let agent = r#"printf 'one\nTWO\nthree\nfour\n' > shared.txt; echo hi > new.txt; git add -A; git commit --quiet -m work"#;
    let f = fixture("merge = \"none\"\n", agent, &[common::feature(1, &[])]);
    f.until_done();
    assert_eq!(f.worktrees()[0].merge_state, "left");
    let (code, ours) = f.corral(&["feature", "diff", "1", "--stat"]);
    assert_eq!(code, Some(0), "{ours}");
    let theirs = git(&f.repo, &["diff", "--stat", "main...corral/1-feature-1"]);
    assert_eq!(ours.trim_end(), theirs);
    assert!(
        theirs.contains("2 files changed, 3 insertions(+), 1 deletion(-)"),
        "{theirs}"
    );
    let (_, patch) = f.corral(&["feature", "diff", "1"]);
    assert!(patch.contains("+TWO") && patch.contains("-two"), "{patch}");
    // `none` left main alone; merging by hand lands it.
    assert!(!f.repo.join("new.txt").exists());
    let (code, out) = f.corral(&["feature", "merge", "1"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(f.repo.join("new.txt").exists());
}

#[test]
fn review_rejects_with_feedback_for_the_next_run_then_merges() {
    let agent = r#"mkdir -p "$MARKS"; n=$(ls "$MARKS" | wc -l); cp "$CORRAL_PROMPT_FILE" "$MARKS/prompt$n"; echo "try $n" > work.txt; git add -A; git commit --quiet -m "try $n""#;
    let f = fixture(
        "merge = \"review\"\n",
        agent,
        &[common::feature(1, &[]), common::feature(2, &[1])],
    );
    let before = git(&f.repo, &["rev-parse", "main"]);
    f.until_done_or_stuck();
    let w = &f.worktrees()[0];
    assert_eq!((w.merge_state.as_str(), w.feature_id), ("review", 1));
    assert_eq!(
        git(&f.repo, &["rev-parse", "main"]),
        before,
        "review leaves main alone"
    );
    assert_eq!(
        f.worktrees().len(),
        1,
        "feature 2 waits for feature 1's merge"
    );
    let (code, out) = f.corral(&[
        "feature",
        "reject",
        "1",
        "--reason",
        "Say hello in work.txt",
    ]);
    assert_eq!(code, Some(0), "{out}");
    f.until_done_or_stuck();
    let second = std::fs::read_to_string(f.outside.join("marks/prompt1")).unwrap();
    assert!(
        second.contains("## Review feedback") && second.contains("Say hello in work.txt"),
        "{second}"
    );
    assert!(
        !std::fs::read_to_string(f.outside.join("marks/prompt0"))
            .unwrap()
            .contains("Review feedback")
    );
    assert_eq!(f.worktrees()[0].merge_state, "review");
    let (code, out) = f.corral(&["feature", "merge", "1"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        std::fs::read_to_string(f.repo.join("work.txt")).unwrap(),
        "try 1\n"
    );
    assert_eq!(f.worktrees()[0].merge_state, "merged");
}

#[test]
fn pr_pushes_the_branch_and_opens_a_pull_request_with_gh() {
    let agent = r#"echo pr > pr.txt; git add -A; git commit --quiet -m pr"#;
    let f = fixture("merge = \"pr\"\n", agent, &[common::feature(1, &[])]);
    let remote = f.outside.join("remote.git");
    git(
        &f.outside,
        &["init", "--quiet", "--bare", remote.to_str().unwrap()],
    );
    git(
        &f.repo,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git(&f.repo, &["push", "--quiet", "origin", "main"]);
    std::fs::create_dir_all(f.outside.join("bin")).unwrap();
    write_script(
        &f.outside.join("bin/gh"),
        &format!(
            "if [ \"$1 $2\" = 'pr view' ]; then\n  if [ -e '{merged}' ]; then echo MERGED; else echo OPEN; fi\n  exit 0\nfi\nprintf '%s\\n' \"$@\" > '{}'\necho 'https://example.invalid/shop/pull/7'",
            f.outside.join("gh-args").display(),
            merged = f.outside.join("pr-merged").display()
        ),
    );
    f.until_done();
    let pushed = git(&remote, &["rev-parse", "corral/1-feature-1"]);
    assert_eq!(pushed, git(&f.repo, &["rev-parse", "corral/1-feature-1"]));
    let args = std::fs::read_to_string(f.outside.join("gh-args")).unwrap();
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "pr",
            "create",
            "--head",
            "corral/1-feature-1",
            "--base",
            "main",
            "--title",
            "feature 1: feature 1",
            "--body",
            "Feature 1 (feature 1), implemented by a corral agent on branch `corral/1-feature-1`."
        ]
    );
    let w = &f.worktrees()[0];
    assert_eq!(
        (w.merge_state.as_str(), w.merge_note.as_str()),
        ("pr", "https://example.invalid/shop/pull/7")
    );
    assert_eq!(f.statuses(), vec![(1, "passing".into())]);
    assert!(!f.repo.join("pr.txt").exists(), "main waits for the PR");
    // While the PR is open, prune keeps the branch.
    let (_, out) = f.corral(&["worktree", "prune"]);
    assert!(out.contains("kept corral/1-feature-1"), "{out}");
    // Someone merges the PR upstream (fast-forward of origin's main).
    git(
        &f.repo,
        &["push", "--quiet", "origin", "corral/1-feature-1:main"],
    );
    std::fs::write(f.outside.join("pr-merged"), "").unwrap();
    let (code, out) = f.corral(&["worktree", "prune"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("removed corral/1-feature-1") && out.contains("pull request is merged"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(f.repo.join("pr.txt")).unwrap(),
        "pr\n",
        "main followed origin"
    );
    assert_eq!(
        git(&f.repo, &["branch", "--format=%(refname:short)"]),
        "main"
    );
}

#[test]
fn after_kill_9_the_restart_finds_the_worktree_again_and_loses_nothing() {
    // The first run leaves half its work uncommitted and hangs; the second finishes it.
    let agent = r#"mkdir -p "$MARKS"
if [ ! -e "$MARKS/first" ]; then
  echo half > half.txt
  echo "$PWD" > "$MARKS/first"
  sleep 60
fi
echo "$PWD" > "$MARKS/second"
echo rest > rest.txt
"#;
    let f = fixture("", agent, &[common::feature(1, &[])]);
    let mut corral = Command::new(env!("CARGO_BIN_EXE_corral"))
        .current_dir(&f.repo)
        .env("XDG_CONFIG_HOME", f.outside.join("xdg"))
        .env("XDG_DATA_HOME", f.outside.join("xdg"))
        .env("MARKS", f.outside.join("marks"))
        .args(["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = common::wait_for("the first run", Duration::from_secs(30), || {
        std::fs::read_to_string(f.outside.join("marks/first")).ok()
    });
    corral.kill().unwrap(); // SIGKILL
    corral.wait().unwrap();
    // A script goes on after a crash without waiting for a person.
    let toml = std::fs::read_to_string(f.repo.join("corral.toml")).unwrap();
    let toml = toml.replacen(
        "[scheduler]\n",
        "[scheduler]\nresume_after_crash = true\n",
        1,
    );
    std::fs::write(f.repo.join("corral.toml"), toml).unwrap();
    let text = f.until_done();
    let second = std::fs::read_to_string(f.outside.join("marks/second")).unwrap();
    assert_eq!(first, second, "the restart reuses the worktree: {text}");
    assert_eq!(
        std::fs::read_to_string(f.repo.join("half.txt")).unwrap(),
        "half\n"
    );
    assert_eq!(
        std::fs::read_to_string(f.repo.join("rest.txt")).unwrap(),
        "rest\n"
    );
    let list = git(&f.repo, &["worktree", "list", "--porcelain"]);
    assert!(!list.contains("locked"), "unlocked after the run: {list}");
}

#[test]
fn a_merged_feature_is_rechecked_in_a_fresh_worktree_of_the_base() {
    let agent = r#"mkdir -p "$MARKS"
if [ "$CORRAL_ROLE" = testing ]; then
  printf '%s\n%s\n' "$PWD" "$CORRAL_BRANCH" > "$MARKS/check.tmp"
  cat f1.txt >> "$MARKS/check.tmp"
  mv "$MARKS/check.tmp" "$MARKS/check"
  exit 0
fi
echo one > f1.txt
"#;
    let f = fixture("", agent, &[common::feature(1, &[])]);
    let toml = std::fs::read_to_string(f.repo.join("corral.toml")).unwrap();
    let toml = toml.replace(
        "max_attempts = 3\n",
        "max_attempts = 3\ntesting_agents = 1\n",
    ) + &format!(
        "\n[profiles.checker]\nrole = \"testing\"\ncommand = [\"{}\"]\nstdin = \"null\"\n",
        f.outside.join("agent.sh").display()
    );
    std::fs::write(f.repo.join("corral.toml"), toml).unwrap();
    let mut corral = Command::new(env!("CARGO_BIN_EXE_corral"))
        .current_dir(&f.repo)
        .env("XDG_CONFIG_HOME", f.outside.join("xdg"))
        .env("XDG_DATA_HOME", f.outside.join("xdg"))
        .env("MARKS", f.outside.join("marks"))
        .args(["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let check = common::wait_for("the re-check", Duration::from_secs(30), || {
        std::fs::read_to_string(f.outside.join("marks/check")).ok()
    });
    let lines: Vec<&str> = check.lines().collect();
    assert!(lines[0].contains("/check-1-"), "{check}");
    assert!(!Path::new(lines[0]).starts_with(&f.repo));
    assert_eq!(lines[1], "main");
    assert_eq!(lines[2], "one", "the base has the merged work");
    // The throwaway worktree goes when the re-check ends.
    common::wait_for(
        "the re-check's worktree to go",
        Duration::from_secs(30),
        || (!git(&f.repo, &["worktree", "list"]).contains("check-1-")).then_some(()),
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(corral.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    corral.wait().unwrap();
}

#[test]
fn worktree_list_names_worktrees_no_feature_owns() {
    let f = fixture("", "echo x > x.txt\n", &[common::feature(1, &[])]);
    f.until_done();
    let folder =
        corral::runtime::git::project_folder(&f.outside.join("xdg/corral/worktrees"), &f.repo);
    let stray = folder.join("stray");
    git(
        &f.repo,
        &[
            "worktree",
            "add",
            "--quiet",
            "-b",
            "stray",
            stray.to_str().unwrap(),
        ],
    );
    let (_, list) = f.corral(&["worktree", "list"]);
    assert!(list.contains("stray") && list.contains("kept"), "{list}");
    let (_, json) = f.corral(&["worktree", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["branch"] == "stray")
        .unwrap();
    assert_eq!(row["feature_id"], serde_json::Value::Null);
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("no feature owns it")
    );
    let (_, pruned) = f.corral(&["worktree", "prune"]);
    assert!(
        stray.exists(),
        "prune never removes what no feature owns: {pruned}"
    );
}

#[test]
fn a_conflict_nobody_resolves_fails_the_feature_after_max_attempts_naming_the_file() {
    // The resolve runs do nothing: every merge meets the same conflict.
    let agent = CONFLICTING_AGENT.replace(
        "  git rebase --quiet main",
        "  exit 0\n  git rebase --quiet main",
    );
    let f = fixture(
        "",
        &agent,
        &[common::feature(1, &[]), common::feature(2, &[])],
    );
    let toml = std::fs::read_to_string(f.repo.join("corral.toml")).unwrap();
    std::fs::write(
        f.repo.join("corral.toml"),
        toml.replace("max_attempts = 3", "max_attempts = 2"),
    )
    .unwrap();
    let (code, text) = f.corral(&["run", "--headless", "--until-done"]);
    assert_eq!(
        code,
        Some(1),
        "a failed feature ends --until-done with 1: {text}"
    );
    let statuses = f.statuses();
    let failed: Vec<_> = statuses.iter().filter(|(_, s)| s == "failed").collect();
    assert_eq!(failed.len(), 1, "{statuses:?}");
    let (_, shown) = f.corral(&["feature", "show", &failed[0].0.to_string()]);
    assert!(
        shown.contains("conflicts in shared.txt (2 attempts"),
        "{shown}"
    );
    // The repository is as the first merge left it: one feature's change, no half merge.
    assert!(git(&f.repo, &["status", "--porcelain", "--untracked-files=no"]).is_empty());
    assert_eq!(
        git(&f.repo, &["rev-list", "--count", "main"]),
        "2",
        "start + one squash"
    );
    let shared = std::fs::read_to_string(f.repo.join("shared.txt")).unwrap();
    assert!(
        shared == "one\ntwo by 1\nthree\n" || shared == "one\ntwo by 2\nthree\n",
        "{shared}"
    );
}

#[test]
fn a_repository_without_a_commit_works_in_the_main_checkout() {
    let f = fixture("", "echo x > x.txt\n", &[common::feature(1, &[])]);
    // Start over as a fresh `git init`: no commit to branch from.
    std::fs::remove_dir_all(f.repo.join(".git")).unwrap();
    git(&f.repo, &["init", "--quiet", "-b", "main"]);
    f.until_done();
    assert!(f.repo.join("x.txt").exists());
    assert!(f.worktrees().is_empty());
}

#[test]
fn worktrees_false_keeps_agents_in_the_main_checkout() {
    let agent =
        r#"mkdir -p "$MARKS"; echo "$PWD|$CORRAL_WORKTREE" > "$MARKS/where"; echo x > x.txt"#;
    let f = fixture("worktrees = false\n", agent, &[common::feature(1, &[])]);
    f.until_done();
    let at = std::fs::read_to_string(f.outside.join("marks/where")).unwrap();
    assert_eq!(
        at.trim_end(),
        format!("{}|", f.repo.canonicalize().unwrap().display())
    );
    assert!(f.repo.join("x.txt").exists());
    assert!(f.worktrees().is_empty());
}
