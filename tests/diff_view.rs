//! The diff view (`d` on a feature: files with their line counts, then the patch, `n`/`N`
//! from file to file, `m` merge, `r` reject) and the in-process runtime around worktrees: a
//! slow setup runs off the supervisor's loop. Diffs come from real repositories whose feature
//! branches real corral runs made.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use common::write_script;
use corral::api::*;
use corral::ui::app::{App, Pane, View};
use corral::ui::render;
use corral::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

fn screen(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| render::draw(f, app, &Theme::default()))
        .unwrap();
    term
}

fn press(app: &mut App, c: char) -> corral::ui::app::Outcome {
    app.key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn d_opens_the_features_diff_and_n_jumps_to_the_next_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "--quiet", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    std::fs::write(repo.join("a.txt"), "one\ntwo\nthree\n").unwrap();
    std::fs::write(repo.join(".gitignore"), "corral.toml\n.corral/\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "start"]);
    let agent = dir.path().join("agent.sh");
    write_script(
        &agent,
        "printf 'one\\nTWO\\nthree\\n' > a.txt\nprintf 'new\\nfile\\n' > b.txt\n",
    );
    std::fs::write(
        repo.join("corral.toml"),
        format!(
            "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"null\"\n\n\
             [git]\nworktrees = true\nmerge = \"none\"\n",
            agent.display()
        ),
    )
    .unwrap();
    corral::runtime::store::Store::open(&repo)
        .unwrap()
        .add_features(&[common::feature(1, &[])], 0)
        .unwrap();
    let out = cargo_bin_cmd!("corral")
        .current_dir(&repo)
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .env("XDG_DATA_HOME", dir.path().join("xdg"))
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let snapshot = Snapshot {
        features: vec![FeatureView {
            id: FeatureId(1),
            category: "Test".into(),
            name: "feature 1".into(),
            priority: 0,
            status: FeatureStatus::Passing,
            dependencies: vec![],
            blocked_by: vec![],
            attempts: 1,
            usage: Default::default(),
            merge: None,
        }],
        ..Snapshot::default()
    };
    let mut app = App::new(snapshot);
    app.focus = Pane::Features;
    app.selected_feature = Some(FeatureId(1));
    let outcome = press(&mut app, 'd');
    assert_eq!(outcome.want_diff, Some(FeatureId(1)));
    assert!(matches!(app.view, View::Diff(_)));
    let diff = corral::runtime::git::diff::feature_diff(&repo, FeatureId(1)).unwrap();
    app.set_diff(FeatureId(1), Some(diff));
    insta::assert_snapshot!(screen(&app, 80, 24).backend());

    // Smaller, the patch scrolls: n and N put a file's first line at the top.
    let top = |app: &App| {
        let text = screen(app, 80, 12).backend().to_string();
        text.lines().nth(2).unwrap().to_string()
    };
    assert!(top(&app).contains("2 files +3 -1"));
    press(&mut app, 'n');
    assert!(
        top(&app).contains("diff --git a/a.txt b/a.txt"),
        "{}",
        top(&app)
    );
    press(&mut app, 'n');
    assert!(
        top(&app).contains("diff --git a/b.txt b/b.txt"),
        "{}",
        top(&app)
    );
    press(&mut app, 'N');
    assert!(top(&app).contains("diff --git a/a.txt"), "{}", top(&app));
    // esc goes back to the dashboard.
    app.key(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    assert_eq!(app.view, View::Dashboard);
}

#[test]
fn the_features_pane_shows_where_a_passing_features_merge_stands() {
    let feature = |id: i64, merge: Option<&str>| FeatureView {
        id: FeatureId(id),
        category: "Cart".into(),
        name: format!("feature {id}"),
        priority: 0,
        status: FeatureStatus::Passing,
        dependencies: vec![FeatureId(1)],
        blocked_by: vec![],
        attempts: 1,
        usage: Default::default(),
        merge: merge.map(String::from),
    };
    let snapshot = Snapshot {
        features: vec![
            feature(1, None),
            feature(2, Some("waiting: waiting for a clean checkout")),
        ],
        ..Snapshot::default()
    };
    let text = screen(&App::new(snapshot), 120, 30).backend().to_string();
    assert!(text.contains("merge waiting"), "{text}");
}

/// Worktrees of the in-process runtimes go under one data directory for this test binary.
fn data_home() {
    static HOME: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    HOME.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // SAFETY: once, before any runtime of this binary reads it; every test wants the
        // same value.
        unsafe { std::env::set_var("XDG_DATA_HOME", dir.path()) };
        dir
    });
}

/// Polls (on a blocking-friendly loop) until `check` holds, for several seconds.
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn merge_state(repo: &Path) -> String {
    corral::runtime::store::Store::open(repo)
        .unwrap()
        .worktree(1)
        .unwrap()
        .map(|w| w.merge_state)
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_from_the_diff_view_rejects_with_feedback_then_merges() {
    let dir = tempfile::tempdir().unwrap();
    data_home();
    let repo = dir.path().join("shop");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "--quiet", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    std::fs::write(repo.join(".gitignore"), "corral.toml\n.corral/\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "start"]);
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).unwrap();
    let agent = dir.path().join("agent.sh");
    write_script(
        &agent,
        &format!(
            "n=$(ls '{m}' | wc -l)\ncp \"$CORRAL_PROMPT_FILE\" '{m}'/prompt$n\necho \"try $n\" > work.txt",
            m = marks.display()
        ),
    );
    let toml = format!(
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"null\"\n\n\
         [git]\nworktrees = true\nmerge = \"review\"\n",
        agent.display()
    );
    let (handle, task) = common::start_project(&repo, &toml, &[common::feature(1, &[])]);
    until("the first run's review", || merge_state(&repo) == "review").await;

    let snapshot = handle.snapshots().borrow().clone();
    let mut app = App::new(snapshot);
    app.focus = Pane::Features;
    app.selected_feature = Some(FeatureId(1));
    press(&mut app, 'd');
    // Reject: the prompt asks why; Enter sends it.
    press(&mut app, 'r');
    for c in "Say hello".chars() {
        press(&mut app, c);
    }
    let out = app.key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(
        out.commands,
        vec![corral::api::Command::RejectFeature {
            feature: FeatureId(1),
            reason: "Say hello".into()
        }]
    );
    for c in out.commands {
        handle.send(c);
    }
    until("the second run", || marks.join("prompt1").exists()).await;
    let prompt = std::fs::read_to_string(marks.join("prompt1")).unwrap();
    assert!(
        prompt.contains("## Review feedback") && prompt.contains("Say hello"),
        "{prompt}"
    );
    until("the second review", || merge_state(&repo) == "review").await;

    // Merge from the diff view lands it.
    press(&mut app, 'd');
    let out = press(&mut app, 'm');
    assert_eq!(
        out.commands,
        vec![corral::api::Command::MergeFeature {
            feature: FeatureId(1)
        }]
    );
    for c in out.commands {
        handle.send(c);
    }
    until("the merge", || merge_state(&repo) == "merged").await;
    assert_eq!(
        std::fs::read_to_string(repo.join("work.txt")).unwrap(),
        "try 1\n"
    );
    handle.send(corral::api::Command::Shutdown);
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_setup_runs_off_the_supervisor_loop_and_its_output_reaches_the_runs_log() {
    let dir = tempfile::tempdir().unwrap();
    data_home();
    let repo = dir.path().join("shop");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "--quiet", "-b", "main"]);
    git(&repo, &["config", "user.name", "Test"]);
    git(&repo, &["config", "user.email", "test@example.com"]);
    std::fs::write(repo.join(".gitignore"), "corral.toml\n.corral/\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "start"]);
    let gate = dir.path().join("gate");
    let agent = dir.path().join("agent.sh");
    write_script(&agent, "echo done > done.txt");
    let toml = format!(
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"null\"\n\n\
         [git]\nworktrees = true\nsetup = [\"sh\", \"-c\", \"echo installing; while [ ! -e '{}' ]; do sleep 0.02; done; echo installed\"]\n",
        agent.display(),
        gate.display()
    );
    let (handle, task) = common::start_project(&repo, &toml, &[common::feature(1, &[])]);
    let mut snapshots = handle.snapshots();
    // The setup waits for the gate; the supervisor still takes commands meanwhile.
    until("the setup to start", || {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["worktree", "list"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).lines().count() == 2
    })
    .await;
    handle.send(corral::api::Command::SetMaxAgents { max_agents: 7 });
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if snapshots.borrow_and_update().max_agents == 7 {
                break;
            }
            snapshots.changed().await.unwrap();
        }
    })
    .await
    .expect("the supervisor answers while setup runs");
    assert!(
        handle.snapshots().borrow().runs.is_empty(),
        "no run before the worktree is ready"
    );
    std::fs::write(&gate, "").unwrap();
    until("feature 1 passing and merged", || {
        merge_state(&repo) == "merged"
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(repo.join("done.txt")).unwrap(),
        "done\n"
    );
    let log = std::fs::read_dir(repo.join(".corral/runs"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(
        log.contains("corral: setup: sh -c") && log.contains("installed"),
        "{log}"
    );
    handle.send(corral::api::Command::Shutdown);
    task.await.unwrap();
}
