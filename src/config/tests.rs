use std::fs;
use std::time::Duration;

use super::*;

fn parse_err(text: &str) -> String {
    match Config::parse(text, "corral.toml") {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(err) => err.to_string(),
    }
}

fn profile(command: &str) -> String {
    format!("[profiles.coding]\nrole = \"coding\"\ncommand = {command}\n")
}

#[test]
fn default_template_parses() {
    let config = Config::parse(DEFAULT_CONFIG, "corral.toml").unwrap();
    assert_eq!(config.scheduler.max_agents, 2);
    assert_eq!(config.scheduler.coding_profile.as_deref(), Some("coding"));
    assert_eq!(config.profiles.len(), 1);
    let coding = config.coding_profile().unwrap();
    assert_eq!(coding.name, "coding");
    assert_eq!(coding.role, Role::Coding);
    assert_eq!(
        coding.command,
        ["corral", "demo-agent", "--feature", "{feature_id}"]
    );
    assert_eq!(coding.timeout, Some(Duration::from_secs(30 * 60)));
    assert_eq!(coding.grace, Duration::from_secs(5));
    assert!(coding.enabled);
    assert!(coding.env.is_empty());
    assert!(config.sources.is_empty());
}

#[test]
fn defaults_and_empty_documents() {
    let config = Config::parse("", "corral.toml").unwrap();
    assert_eq!(
        config.scheduler,
        SchedulerConfig {
            max_agents: 2,
            ..SchedulerConfig::default()
        }
    );
    assert!(config.profiles.is_empty());
    assert!(config.coding_profile().is_none());

    let config = Config::parse("[scheduler]\nmax_agents = 0\n", "x").unwrap();
    assert_eq!(config.scheduler.max_agents, 0);

    let text = format!(
        "{}env = {{ A = \"1\", B = \"x y\" }}\n",
        profile("[\"agent\"]")
    );
    let p = &Config::parse(&text, "x").unwrap().profiles["coding"];
    assert_eq!(p.timeout, None);
    assert_eq!(p.grace, DEFAULT_GRACE);
    assert!(p.enabled);
    assert_eq!(p.env["A"], "1");
    assert_eq!(p.env["B"], "x y");
}

#[test]
fn coding_profile_is_first_enabled_coding_by_name() {
    let text = "
[profiles.c]
role = \"coding\"
command = [\"c\"]
[profiles.b]
role = \"coding\"
command = [\"b\"]
enabled = false
[profiles.a]
role = \"testing\"
command = [\"a\"]
";
    let config = Config::parse(text, "x").unwrap();
    assert_eq!(config.coding_profile().unwrap().name, "c");
}

#[test]
fn syntax_error_names_label_and_line() {
    assert_eq!(
        parse_err("[scheduler]\nmax_agents = 2\nmax_agents = 3\n"),
        "corral.toml:3: duplicate key"
    );
    assert_eq!(
        parse_err("# hi\n[scheduler\n"),
        "corral.toml:2: unclosed table, expected `]`"
    );
}

#[test]
fn type_errors_name_key_and_line() {
    assert_eq!(
        parse_err("\n[scheduler]\nmax_agents = \"two\"\n"),
        "corral.toml:3: scheduler.max_agents: invalid type: string \"two\", expected an integer from 0 to 64"
    );
    assert_eq!(
        parse_err("[scheduler]\nmax_agents = 65\n"),
        "corral.toml:2: scheduler.max_agents: must be between 0 and 64, got 65"
    );
    assert_eq!(
        parse_err("[scheduler]\nmax_agents = -1\n"),
        "corral.toml:2: scheduler.max_agents: must be between 0 and 64, got -1"
    );
    assert_eq!(
        parse_err(&format!("{}enabled = \"yes\"\n", profile("[\"a\"]"))),
        "corral.toml:4: profiles.coding.enabled: invalid type: string \"yes\", expected a boolean"
    );
    assert_eq!(
        parse_err("[profiles.coding]\nrole = \"coder\"\ncommand = [\"a\"]\n"),
        "corral.toml:2: profiles.coding.role: unknown variant `coder`, \
         expected one of `initializer`, `coding`, `testing`, `custom`"
    );
    assert_eq!(
        parse_err("[profiles]\ncoding = 3\n"),
        "corral.toml:2: profiles.coding: invalid type: integer `3`, expected a profile table"
    );
}

#[test]
fn bad_durations_name_key_and_line() {
    let text = "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"a\"]\ntimeout = \"30 minutes\"\n";
    assert_eq!(
        parse_err(text),
        "corral.toml:7: profiles.coding.timeout: expected a duration like \"30m\""
    );
    assert_eq!(
        parse_err(&format!("{}grace = \"5\"\n", profile("[\"a\"]"))),
        "corral.toml:4: profiles.coding.grace: expected a duration like \"30m\""
    );
    assert_eq!(
        parse_err(&format!("{}timeout = 30\n", profile("[\"a\"]"))),
        "corral.toml:4: profiles.coding.timeout: invalid type: integer `30`, \
         expected a duration like \"30m\""
    );
}

#[test]
fn values_that_would_fail_every_run_at_once_are_refused() {
    assert_eq!(
        parse_err(&format!("{}timeout = \"0s\"\n", profile("[\"a\"]"))),
        "corral.toml:4: profiles.coding.timeout: must be longer than zero"
    );
    assert_eq!(
        parse_err(&format!("{}\nsilence = \"0ms\"\n", profile("[\"a\"]"))),
        "corral.toml:5: profiles.coding.silence: must be longer than zero"
    );
    assert_eq!(
        parse_err("[scheduler]\nmax_attempts = 0\n"),
        "corral.toml:2: scheduler.max_attempts: must be at least 1, got 0"
    );
    assert_eq!(
        parse_err("[scheduler]\ntesting_claim_timeout = \"0s\"\n"),
        "corral.toml:2: scheduler.testing_claim_timeout: must be longer than zero"
    );
    // Zero grace is fine: kill at once.
    let text = format!("{}grace = \"0s\"\n", profile("[\"a\"]"));
    assert_eq!(
        Config::parse(&text, "x").unwrap().profiles["coding"].grace,
        Duration::ZERO
    );
}

#[test]
fn a_project_without_any_profile_is_refused() {
    let project = tempfile::tempdir().unwrap();
    let file = project.path().join("corral.toml");
    for text in ["", "[scheduler]\nmax_agents = 1\n"] {
        fs::write(&file, text).unwrap();
        let err = Config::load_with_user(project.path(), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: profiles: no profile, so corral has no agent to run: add a \
                 [profiles.NAME] table with a role and a command",
                file.display()
            )
        );
    }
    // A profile from the user file is enough.
    let user_dir = tempfile::tempdir().unwrap();
    let user = user_dir.path().join("config.toml");
    fs::write(&user, profile("[\"a\"]")).unwrap();
    assert!(Config::load_with_user(project.path(), Some(&user)).is_ok());
}

#[test]
fn missing_required_keys_name_the_profile() {
    assert_eq!(
        parse_err("\n[profiles.coding]\ncommand = [\"a\"]\n"),
        "corral.toml:2: profiles.coding: missing field `role`"
    );
    assert_eq!(
        parse_err("[profiles.tester]\nrole = \"testing\"\n"),
        "corral.toml:1: profiles.tester: missing field `command`"
    );
}

#[test]
fn unknown_keys_are_named() {
    assert_eq!(
        parse_err("[scheduler]\nmax_agent = 3\n"),
        "corral.toml:2: scheduler.max_agent: unknown key, expected one of `max_agents`, \
         `testing_agents`, `max_attempts`, `max_dependencies`, `testing_claim_timeout`, `coding_profile`, `testing_profile`, `initializer_profile`, `resume_after_crash`"
    );
    assert_eq!(
        parse_err(&format!("{}\ntimout = \"5m\"\n", profile("[\"a\"]"))),
        "corral.toml:5: profiles.coding.timout: unknown key, expected one of \
         `role`, `command`, `env`, `timeout`, `silence`, `deny_after`, `grace`, `enabled`, `success`, \
         `verify`, `prompt`, `model`, `effort`, `efforts`, `env_file`, `max_parallel`, `stdin`, \
         `account`, `transient_patterns`"
    );
    assert_eq!(
        parse_err("agents = 1\n"),
        "corral.toml:1: agents: unknown key, expected one of `scheduler`, `profiles`, \
         `defaults`, `logs`, `redact`, `retry`, `breaker`, `budget`, `keys`, `git`, `notify`"
    );
}

#[test]
fn keys_are_read_and_their_mistakes_name_the_entry() {
    let config = Config::parse(
        "[keys]\npause = \"z\"\nkill = [\"K\", \"delete\"]\n[keys.queue]\ncancel_job = \"d\"\n",
        "corral.toml",
    )
    .unwrap();
    let got: Vec<(Option<&str>, &str, Vec<&str>)> = config
        .keys
        .iter()
        .map(|k| {
            let keys = k.keys.iter().map(String::as_str).collect();
            (k.context.as_deref(), k.action.as_str(), keys)
        })
        .collect();
    assert_eq!(
        got,
        [
            (None, "kill", vec!["K", "delete"]),
            (None, "pause", vec!["z"]),
            (Some("queue"), "cancel_job", vec!["d"]),
        ]
    );
    assert!(
        parse_err("[keys]\npauze = \"z\"\n").starts_with("corral.toml: keys.pauze: unknown action")
    );
    assert!(
        parse_err("[keys]\npause = \"ctrl-\"\n")
            .starts_with("corral.toml: keys.pause: \"ctrl-\" is not a key")
    );
    assert!(parse_err("[keys]\npause = \"x\"\n").contains("`x` would mean both"),);
    assert!(parse_err("[keys]\npause = 3\n").contains("keys.pause"));
}

#[test]
fn bad_commands_name_key_and_line() {
    assert_eq!(
        parse_err(&profile("[\n  \"agent\",\n  \"--id={feature}\",\n]")),
        "corral.toml:5: profiles.coding.command[1]: unknown placeholder {feature}; \
         known placeholders are {prompt}, {prompt_file}, {model}, {effort}, {feature_id}, \
         {feature_name}, {project}, {run_id}, {session_id}"
    );
    assert_eq!(
        parse_err(&profile("[]")),
        "corral.toml:3: profiles.coding.command: must not be empty: give the program \
         and its arguments, e.g. [\"my-agent\", \"{feature_id}\"]"
    );
    assert_eq!(
        parse_err(&profile("[\"\", \"x\"]")),
        "corral.toml:3: profiles.coding.command: the program (first element) must not be empty"
    );
    assert_eq!(
        parse_err(&profile("\"agent --feature {feature_id}\"")),
        "corral.toml:3: profiles.coding.command: expected a list of arguments, not a string \
         (corral never runs a shell): write [\"agent\", \"--feature\", \"{feature_id}\"]"
    );
    // Braces that are not `{word}` are ordinary text (e.g. JSON arguments).
    let ok = profile(r#"["agent", "{\"id\": \"{feature_id}\"}", "{}", "{a b}"]"#);
    assert!(Config::parse(&ok, "x").is_ok());
}

#[test]
fn bad_env_names_key_and_line() {
    assert_eq!(
        parse_err(&format!(
            "{}env = {{ \"A=B\" = \"x\" }}\n",
            profile("[\"a\"]")
        )),
        "corral.toml:4: profiles.coding.env.A=B: invalid environment variable name \"A=B\": \
         must be non-empty, without '=' or NUL"
    );
    assert_eq!(
        parse_err(&format!("{}env = {{ A = 1 }}\n", profile("[\"a\"]"))),
        "corral.toml:4: profiles.coding.env.A: invalid type: integer `1`, expected a string"
    );
}

#[test]
fn missing_project_file_suggests_init() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::load_with_user(dir.path(), None).unwrap_err();
    assert!(matches!(err, ConfigError::Missing { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "no corral.toml in {}: run `corral init` to create one",
            dir.path().display()
        )
    );
}

const USER: &str = "
[scheduler]
max_agents = 7

[profiles.coding]
role = \"coding\"
command = [\"user-agent\"]
timeout = \"1h\"
env = { FROM = \"user\" }

[profiles.extra]
role = \"custom\"
command = [\"extra\"]
";

const PROJECT: &str = "
[profiles.coding]
role = \"coding\"
command = [\"project-agent\", \"{feature_id}\"]
";

#[test]
fn project_overrides_user() {
    let user_dir = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let user = user_dir.path().join("config.toml");
    fs::write(&user, USER).unwrap();
    fs::write(project.path().join("corral.toml"), PROJECT).unwrap();

    let config = Config::load_with_user(project.path(), Some(&user)).unwrap();
    // The project file does not set max_agents, so the user's value stands.
    assert_eq!(config.scheduler.max_agents, 7);
    // The project's coding profile replaces the user's whole: no timeout or env leak through.
    let coding = &config.profiles["coding"];
    assert_eq!(coding.command, ["project-agent", "{feature_id}"]);
    assert_eq!(coding.timeout, None);
    assert!(coding.env.is_empty());
    // User-only profiles survive.
    assert_eq!(config.profiles["extra"].command, ["extra"]);
    assert_eq!(
        config.sources,
        [user.clone(), project.path().join("corral.toml")]
    );

    // A scheduler field set in the project file wins.
    let text = format!("[scheduler]\nmax_agents = 0\n{PROJECT}");
    fs::write(project.path().join("corral.toml"), text).unwrap();
    let config = Config::load_with_user(project.path(), Some(&user)).unwrap();
    assert_eq!(config.scheduler.max_agents, 0);
}

#[test]
fn absent_user_file_is_skipped() {
    let project = tempfile::tempdir().unwrap();
    fs::write(project.path().join("corral.toml"), PROJECT).unwrap();
    let absent = project.path().join("no-such-user-config.toml");
    let config = Config::load_with_user(project.path(), Some(&absent)).unwrap();
    assert_eq!(config.scheduler.max_agents, 2);
    assert_eq!(config.sources, [project.path().join("corral.toml")]);
}

#[test]
fn errors_name_the_file_they_are_in() {
    let user_dir = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let user = user_dir.path().join("config.toml");
    let project_file = project.path().join("corral.toml");
    fs::write(&user, "[scheduler]\n\nmax_agents = 100\n").unwrap();
    fs::write(&project_file, PROJECT).unwrap();
    let err = Config::load_with_user(project.path(), Some(&user)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: scheduler.max_agents: must be between 0 and 64, got 100",
            user.display()
        )
    );

    fs::write(&user, USER).unwrap();
    fs::write(&project_file, "\n\n[profiles.x]\nrole = \"coding\"\n").unwrap();
    let err = Config::load_with_user(project.path(), Some(&user)).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: profiles.x: missing field `command`",
            project_file.display()
        )
    );
}

#[test]
fn user_config_path_is_corral_config_toml() {
    if let Some(path) = user_config_path() {
        assert!(path.ends_with("corral/config.toml"), "{}", path.display());
    }
}

#[test]
fn logs_redact_and_silence_keys_parse_and_errors_name_the_key() {
    let text = "[logs]\nring_lines = 500\nkeep_days = 3\nkeep_files = 20\nkeep_bytes = \"64MiB\"\n\n\
                [redact]\npatterns = [\"tok_[a-z0-9]{8}\"]\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"a\"]\nsilence = \"10m\"\n";
    let c = Config::parse(text, "corral.toml").unwrap();
    assert_eq!(c.logs.ring_lines, 500);
    assert_eq!(
        (c.logs.keep_days, c.logs.keep_files, c.logs.keep_bytes),
        (3, 20, 64 << 20)
    );
    assert_eq!(c.redact.patterns, vec!["tok_[a-z0-9]{8}".to_string()]);
    assert_eq!(
        c.profiles["coding"].silence,
        Some(std::time::Duration::from_secs(600))
    );
    let defaults = Config::parse("", "corral.toml").unwrap();
    assert_eq!(defaults.logs.ring_lines, 10_000);
    assert_eq!(defaults.logs.keep_bytes, 2_000_000_000);

    let bad = |t: &str| Config::parse(t, "corral.toml").unwrap_err().to_string();
    assert_eq!(
        bad("[logs]\nring_lines = 0\n"),
        "corral.toml:2: logs.ring_lines: must be between 1 and 10000000, got 0"
    );
    assert!(
        bad("[logs]\nkeep_bytes = \"lots\"\n")
            .starts_with("corral.toml:2: logs.keep_bytes: expected a size")
    );
    assert_eq!(
        bad("[redact]\npatterns = [\"ok\", \"(unclosed\"]\n"),
        "corral.toml:2: redact.patterns[1]: not a valid regular expression \"(unclosed\": \
         unclosed group"
    );
    let err = bad("[profiles.c]\nrole = \"coding\"\ncommand = [\"a\"]\nsilence = \"quiet\"\n");
    assert_eq!(
        err,
        "corral.toml:4: profiles.c.silence: expected a duration like \"30m\""
    );
}

#[test]
fn redaction_patterns_from_both_files_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("user.toml");
    std::fs::write(
        &user,
        "[redact]\npatterns = [\"user_secret\"]\n[logs]\nkeep_days = 1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("corral.toml"),
        format!(
            "[redact]\npatterns = [\"proj_secret\"]\n{}",
            profile("[\"a\"]")
        ),
    )
    .unwrap();
    let c = Config::load_with_user(dir.path(), Some(&user)).unwrap();
    assert_eq!(
        c.redact.patterns,
        vec!["user_secret".to_string(), "proj_secret".to_string()]
    );
    assert_eq!(c.logs.keep_days, 1);
}

#[test]
fn stream_json_stdin_deny_after_and_notify_parse() {
    let text = format!(
        "{}stdin = \"stream-json\"\ndeny_after = \"30m\"\n\n[notify]\nterminal = \"osc777\"\n\
         command = [\"notify-send\", \"corral\"]\n",
        profile("[\"claude\"]")
    );
    let c = Config::parse(&text, "corral.toml").unwrap();
    let p = &c.profiles["coding"];
    assert_eq!(p.stdin, crate::config::StdinMode::StreamJson);
    assert_eq!(p.deny_after, Some(std::time::Duration::from_secs(1800)));
    assert_eq!(c.notify.terminal, crate::config::TerminalNotify::Osc777);
    assert_eq!(
        c.notify.command,
        Some(vec!["notify-send".to_string(), "corral".to_string()])
    );
    let err = parse_err("[notify]\nterminal = \"osc8\"\n");
    assert!(err.starts_with("corral.toml:2: notify.terminal: "), "{err}");
}
