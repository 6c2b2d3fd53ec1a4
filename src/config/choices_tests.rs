use super::*;
use std::ffi::OsString;

/// The four ready-made profiles, as a user who copies them all has them.
fn all_four(scheduler: &str) -> String {
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
    text
}

fn err(text: &str) -> String {
    match Config::parse(text, "corral.toml") {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_named_profile_serves_its_role_instead_of_the_first_by_name() {
    let config = Config::parse(&all_four(""), "corral.toml").unwrap();
    assert_eq!(
        config.coding_profile().unwrap().name,
        "aider",
        "first by name"
    );
    let text = all_four("coding_profile = \"claude\"\ntesting_profile = \"codex-tester\"");
    let config = Config::parse(&text, "corral.toml").unwrap();
    assert_eq!(config.coding_profile().unwrap().name, "claude");
    assert_eq!(
        config.profile_for(Role::Testing).unwrap().name,
        "codex-tester"
    );
    // Turned off (the Profiles view does that): the role falls back until it is on again.
    let off = text.replacen(
        "[profiles.claude]\nrole = \"coding\"\n",
        "[profiles.claude]\nrole = \"coding\"\nenabled = false\n",
        1,
    );
    let config = Config::parse(&off, "corral.toml").unwrap();
    assert_eq!(config.coding_profile().unwrap().name, "aider");
}

#[test]
fn an_unknown_or_wrong_role_profile_is_a_config_error_naming_the_key_and_line() {
    let text = all_four("coding_profile = \"claud\"");
    assert_eq!(
        err(&text),
        "corral.toml:2: scheduler.coding_profile: no profile named \"claud\" ([profiles.claud] \
         is not defined); profiles with role = \"coding\": \"aider\", \"claude\", \"claude-ask\", \"codex\", \"gemini\""
    );
    let text = all_four("max_agents = 1\ntesting_profile = \"claude\"");
    assert_eq!(
        err(&text),
        "corral.toml:3: scheduler.testing_profile: profile \"claude\" has role = \"coding\", not \"testing\""
    );
    assert_eq!(
        err("[scheduler]\ninitializer_profile = \"x\"\n"),
        "corral.toml:2: scheduler.initializer_profile: no profile named \"x\" ([profiles.x] is not \
         defined); there is no profile with role = \"initializer\""
    );
    let wrong_type = err("[scheduler]\ncoding_profile = 3\n");
    assert!(
        wrong_type.starts_with("corral.toml:2: scheduler.coding_profile:"),
        "{wrong_type}"
    );
}

#[test]
fn the_user_file_may_name_a_profile_the_project_file_defines() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("corral.toml"), all_four("")).unwrap();
    let user = dir.path().join("user.toml");
    std::fs::write(&user, "[scheduler]\ncoding_profile = \"gemini\"\n").unwrap();
    let config = Config::load_with_user(dir.path(), Some(&user)).unwrap();
    assert_eq!(config.coding_profile().unwrap().name, "gemini");
    std::fs::write(&user, "[scheduler]\ncoding_profile = \"nope\"\n").unwrap();
    let e = Config::load_with_user(dir.path(), Some(&user))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!(
            "{}:2: scheduler.coding_profile: no profile named \"nope\"",
            user.display()
        )),
        "{e}"
    );
}

#[test]
fn at_start_corral_says_which_profile_a_role_uses_and_which_programs_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // Only `claude` is installed here.
    let claude = bin.join("claude");
    std::fs::write(&claude, "#!/bin/sh\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&claude, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = OsString::from(bin.as_os_str());
    let config = Config::parse(&all_four(""), "corral.toml").unwrap();
    let report = start_report(&config, dir.path(), Some(&path));
    assert_eq!(
        report,
        [
            "coding uses profile claude, the first by name of aider, claude, claude-ask, codex, gemini whose \
             program is installed; set coding_profile = \"NAME\" under [scheduler] in corral.toml \
             to choose",
            "testing uses profile claude-tester, the first by name of claude-tester, codex-tester, \
             gemini-tester; set testing_profile = \"NAME\" under [scheduler] in corral.toml to choose",
            "profile aider: program `aider` is not installed (not found on PATH): its runs will fail \
             to start (install it, or set enabled = false)",
            "profile codex: program `codex` is not installed (not found on PATH): its runs will fail \
             to start (install it, or set enabled = false)",
            "profile codex-tester: program `codex` is not installed (not found on PATH): its runs \
             will fail to start (install it, or set enabled = false)",
            "profile gemini: program `gemini` is not installed (not found on PATH): its runs will \
             fail to start (install it, or set enabled = false)",
            "profile gemini-tester: program `gemini` is not installed (not found on PATH): its runs \
             will fail to start (install it, or set enabled = false)",
        ]
    );
    // The profile the runs use is the one the report names.
    let used = runnable_profile_for(&config, Role::Coding, dir.path(), Some(&path));
    assert_eq!(used.unwrap().name, "claude");
    // With nothing installed, the first by name stays (and is reported missing).
    let none = OsString::from("/nonexistent");
    let used = runnable_profile_for(&config, Role::Coding, dir.path(), Some(&none));
    assert_eq!(used.unwrap().name, "aider");
    // A named profile is used even when its program is missing: a person chose it.
    let named = Config::parse(&all_four("coding_profile = \"codex\""), "corral.toml").unwrap();
    let used = runnable_profile_for(&named, Role::Coding, dir.path(), Some(&path));
    assert_eq!(used.unwrap().name, "codex");
    // Named roles and installed programs leave nothing to say.
    let text = all_four("coding_profile = \"claude\"\ntesting_profile = \"claude-tester\"");
    let mut config = Config::parse(&text, "corral.toml").unwrap();
    config.profiles.retain(|name, _| name.starts_with("claude"));
    assert!(start_report(&config, dir.path(), Some(&path)).is_empty());
    // A script of the project that is not executable, and one that is missing.
    std::fs::write(dir.path().join("agent.sh"), "echo hi\n").unwrap();
    let text = "[profiles.a]\nrole = \"coding\"\ncommand = [\"{project}/agent.sh\"]\n\
                [profiles.b]\nrole = \"custom\"\ncommand = [\"./gone.sh\"]\n";
    let config = Config::parse(text, "corral.toml").unwrap();
    let report = start_report(&config, dir.path(), Some(&path));
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(report[0].starts_with("profile a: program `"), "{report:?}");
    assert!(
        report[0].contains("agent.sh` is not executable"),
        "{report:?}"
    );
    assert!(
        report[1].starts_with("profile b: program `./gone.sh` does not exist"),
        "{report:?}"
    );
}
