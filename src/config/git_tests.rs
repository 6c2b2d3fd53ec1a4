//! `[git]`: defaults, merging and the errors a bad value gets.

use super::{Config, GitConfig, MergeStrategy};

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, "corral.toml").map_err(|e| e.to_string())
}

#[test]
fn defaults_turn_worktrees_on_in_a_repository_and_squash() {
    let c = parse("").unwrap();
    assert_eq!(c.git, GitConfig::default());
    assert!(c.git.worktrees_on(true));
    assert!(!c.git.worktrees_on(false), "never outside a repository");
    assert!(
        !parse("[git]\nworktrees = false\n")
            .unwrap()
            .git
            .worktrees_on(true)
    );
    assert_eq!(c.git.merge, MergeStrategy::Squash);
    assert_eq!(c.git.branch_prefix, "corral/");
}

#[test]
fn every_key_is_read() {
    let c = parse(
        r#"
[git]
worktrees = true
branch_prefix = "agents/"
base = "main"
copy = [".env", "config/local.toml"]
setup = ["npm", "ci"]
ports = [4000, 4099]
ports_per_run = 5
merge = "rebase"
"#,
    )
    .unwrap();
    assert!(c.git.worktrees_on(true));
    assert!(!c.git.worktrees_on(false), "never outside a repository");
    assert_eq!(c.git.branch_prefix, "agents/");
    assert_eq!(c.git.base.as_deref(), Some("main"));
    assert_eq!(c.git.copy, vec![".env", "config/local.toml"]);
    assert_eq!(c.git.setup, Some(vec!["npm".into(), "ci".into()]));
    assert_eq!(c.git.ports, (4000, 4099));
    assert_eq!(c.git.ports_per_run, 5);
    assert_eq!(c.git.merge, MergeStrategy::Rebase);
}

#[test]
fn bad_values_are_named_with_file_line_and_key() {
    let cases = [
        (
            "[git]\nbranch_prefix = \"a b/\"\n",
            "corral.toml:2: git.branch_prefix: \"a b/\" cannot start a git branch name",
        ),
        (
            "[git]\nbase = \"..main\"\n",
            "corral.toml:2: git.base: \"..main\" is not a git branch name",
        ),
        (
            "[git]\ncopy = [\"../secrets\"]\n",
            "corral.toml:2: git.copy[0]: \"../secrets\" must be relative",
        ),
        (
            "[git]\ncopy = [\"/etc/passwd\"]\n",
            "corral.toml:2: git.copy[0]:",
        ),
        (
            "[git]\nsetup = \"npm ci\"\n",
            "corral.toml:2: git.setup: expected a list of arguments",
        ),
        (
            "[git]\nsetup = []\n",
            "corral.toml:2: git.setup: must not be empty",
        ),
        (
            "[git]\nports = [80, 90]\n",
            "corral.toml:2: git.ports: ports must be between 1024 and 65535",
        ),
        (
            "[git]\nports = [5000, 4000]\n",
            "corral.toml:2: git.ports: the first port (5000) must not be above",
        ),
        (
            "[git]\nports = [5000]\n",
            "corral.toml:2: git.ports: expected two ports",
        ),
        (
            "[git]\nports_per_run = 0\n",
            "corral.toml:2: git.ports_per_run: must be between 1 and 1000",
        ),
        (
            "[git]\nmerge = \"yolo\"\n",
            "corral.toml:2: git.merge: unknown variant `yolo`",
        ),
        (
            "[git]\nworktree = true\n",
            "corral.toml:2: git.worktree: unknown key",
        ),
        (
            "[git]\nports = [5000, 5003]\n",
            "corral.toml: git.ports: the range 5000-5003 holds 4 ports, fewer than ports_per_run = 10",
        ),
    ];
    for (text, want) in cases {
        let err = parse(text).unwrap_err();
        assert!(err.starts_with(want), "{text:?}\n got: {err}\nwant: {want}");
    }
}
