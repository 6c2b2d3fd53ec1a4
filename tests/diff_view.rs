//! `d` on a feature opens its diff against its base: files with their line counts, then the
//! patch, with `n`/`N` jumping from file to file. The diff is read from a real repository
//! whose feature branch a real corral run made.

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
