//! The ready-made profiles in `assets/profiles/` against the real agent CLIs: every flag of
//! every shipped command appears in the installed tool's `--help` (for its subcommand), and
//! each shipped profile, copied into a project and run by corral with the real tool and no
//! credentials, starts (no refused flag), does not wait on stdin or lose `--yolo`, and is held
//! for a login with the tool's own words as the job's last error. Codex talks to a scripted
//! stand-in for the API on 127.0.0.1 that refuses it, as the real API does without a key.
//!
//! The CLIs come from npm (`.ci/run` installs the pinned versions: Claude Code 2.1.197, Codex
//! CLI 0.171.0, Gemini CLI 0.61.0). A tool that is not on PATH is skipped with a note, except
//! under `CI=true`, where a missing npm CLI fails the test. Aider (from PyPI) is checked only
//! when it is installed. Each tool runs with a throwaway `HOME` and no credentials.

mod common;

use corral::config::{Config, Profile};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The real CLIs are heavy (Node start-up): one at a time, on 2 cores shared with other tests.
static SERIAL: Mutex<()> = Mutex::new(());

const PROFILE_FILES: [&str; 4] = [
    "claude-code.toml",
    "codex.toml",
    "gemini.toml",
    "aider.toml",
];

/// Programs installed by `.ci/run`, which must be present under CI.
const FROM_NPM: [&str; 3] = ["claude", "codex", "gemini"];

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/profiles")
}

fn shipped_profiles() -> Vec<Profile> {
    let mut all = Vec::new();
    for file in PROFILE_FILES {
        let text = std::fs::read_to_string(assets().join(file)).unwrap();
        let config = Config::parse(&text, file).unwrap_or_else(|e| panic!("{e}"));
        all.extend(config.profiles.into_values());
    }
    all
}

/// Where `program` is on PATH, if anywhere.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Whether the tool is there; under CI an npm tool must be.
fn installed(program: &str) -> bool {
    if on_path(program).is_some() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !(ci && FROM_NPM.contains(&program)),
        "`{program}` is not on PATH under CI: .ci/run installs it from npm"
    );
    eprintln!("skipped: `{program}` is not installed");
    false
}

/// Runs `argv` in `cwd` with a throwaway HOME, stdin empty, for at most `limit`; returns
/// (exit code, stdout + stderr, how long it took). Killed when over time.
fn run_tool(
    argv: &[String],
    cwd: &Path,
    home: &Path,
    limit: Duration,
) -> (Option<i32>, String, Duration) {
    let out_path = home.join("tool.out");
    let err_path = home.join("tool.err");
    let started = Instant::now();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .env("HOME", home)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default()
        + &std::fs::read_to_string(&err_path).unwrap_or_default();
    (code, text, started.elapsed())
}

/// The subcommand words of a command template (`codex exec`): the arguments after the program
/// up to the first flag or placeholder.
fn subcommand(command: &[String]) -> Vec<String> {
    command[1..]
        .iter()
        .take_while(|a| !a.starts_with('-') && !a.contains('{'))
        .cloned()
        .collect()
}

/// Every flag a command template passes (`--sandbox`, `-m`), without any `=value`.
fn flags(command: &[String]) -> Vec<String> {
    command[1..]
        .iter()
        .filter(|a| a.starts_with('-') && a.len() > 1)
        .map(|a| a.split('=').next().unwrap_or(a).to_string())
        .collect()
}

/// Whether `help` lists `flag` as a flag of its own (`-m, --model`, `--sandbox <MODE>`), not
/// merely a text that starts with it.
fn lists_flag(help: &str, flag: &str) -> bool {
    let re = Regex::new(&format!(
        r"(?m)(?:^|[\s,\[(|]){}(?:[\s,=<\[\])|]|$)",
        regex::escape(flag)
    ))
    .unwrap();
    re.is_match(help)
}

#[test]
fn the_help_reader_tells_a_listed_flag_from_a_prefix_or_a_missing_one() {
    let help = "Options:\n  -m, --model <MODEL>\n  --sandbox <SANDBOX_MODE>\n  --full-autopilot\n  -p, --print  Print\n";
    assert!(lists_flag(help, "--model"));
    assert!(lists_flag(help, "-m"));
    assert!(lists_flag(help, "--sandbox"));
    assert!(lists_flag(help, "-p"));
    assert!(!lists_flag(help, "--full-auto"), "a prefix of another flag");
    assert!(!lists_flag(help, "--yolo"));
    let codex: Vec<String> = [
        "codex",
        "exec",
        "--sandbox",
        "workspace-write",
        "-c",
        "x={effort}",
        "{prompt}",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(subcommand(&codex), ["exec"]);
    assert_eq!(flags(&codex), ["--sandbox", "-c"]);
}

/// Flags a tool takes but leaves out of its `--help`: Claude Code's stdio permission prompt
/// (the one the Agent SDKs use). `tests/steps_e2e.rs` runs the real CLI with it instead.
const HIDDEN: &[(&str, &str)] = &[("claude", "--permission-prompt-tool")];

#[test]
fn every_flag_of_every_shipped_profile_is_in_the_installed_tools_help() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let profiles = shipped_profiles();
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    for expected in [
        "claude",
        "claude-tester",
        "codex",
        "codex-tester",
        "gemini",
        "gemini-tester",
        "aider",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let semver = Regex::new(r"\d+\.\d+\.\d+").unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for profile in &profiles {
        let program = &profile.command[0];
        if !installed(program) {
            continue;
        }
        let home = tempfile::tempdir().unwrap();
        let mut argv = vec![program.clone()];
        argv.extend(subcommand(&profile.command));
        argv.push("--help".into());
        let (code, help, _) = run_tool(&argv, home.path(), home.path(), Duration::from_secs(60));
        assert_eq!(code, Some(0), "{argv:?} failed:\n{help}");
        let (_, version, _) = run_tool(
            &[program.clone(), "--version".into()],
            home.path(),
            home.path(),
            Duration::from_secs(60),
        );
        let version = version
            .lines()
            .find(|l| semver.is_match(l) && !l.contains("WARNING"))
            .unwrap_or("")
            .trim()
            .to_string();
        for flag in flags(&profile.command) {
            if !lists_flag(&help, &flag) && !HIDDEN.contains(&(program.as_str(), flag.as_str())) {
                missing.push(format!(
                    "profiles.{}: `{}` has no {flag} ({version})",
                    profile.name,
                    argv[..argv.len() - 1].join(" ")
                ));
            }
        }
        checked += 1;
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    eprintln!("checked {checked} profiles against the installed tools");
}

/// Runs `corral run --headless --until-done` in `project` with `home` as HOME (for the agent
/// CLIs it starts), at most `limit`; returns (exit code, stdout + stderr).
fn corral_until_done(project: &Path, home: &Path, limit: Duration) -> (Option<i32>, String) {
    let out = assert_cmd::cargo::cargo_bin_cmd!("corral")
        .current_dir(project)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY")
        .args(["run", "--headless", "--until-done"])
        .timeout(limit)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

/// The shipped Claude Code and Gemini profiles, copied as they are into a new project and run
/// by corral with the real CLIs and no credentials: Claude Code does not wait on stdin, Gemini
/// keeps `--yolo` in a folder it was never told to trust, both are held for a login with
/// their own words as the job's last error, and `--until-done` stops saying so.
#[test]
fn the_shipped_profiles_run_the_real_clis_and_a_missing_login_is_reported_in_their_words() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cases = [
        (
            "claude",
            "claude-code.toml",
            "Not logged in · Please run /login",
            "no stdin data received",
        ),
        (
            "gemini",
            "gemini.toml",
            "Please set an Auth method in your ",
            "Approval mode overridden",
        ),
    ];
    for (program, file, words, never) in cases {
        if !installed(program) {
            continue;
        }
        let project = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        let p = project.path();
        let profiles = std::fs::read_to_string(assets().join(file)).unwrap();
        std::fs::write(
            p.join("corral.toml"),
            format!("[scheduler]\nmax_agents = 1\ncoding_profile = \"{program}\"\n\n{profiles}"),
        )
        .unwrap();
        corral::runtime::store::Store::open(p)
            .unwrap()
            .add_features(&[common::feature(1, &[])], 0)
            .unwrap();
        let (code, out) = corral_until_done(p, home.path(), Duration::from_secs(120));
        assert_eq!(code, Some(1), "{program}:\n{out}");
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("job 1 coding #1: queued: {words}"))
                    && l.contains(" — credentials refused, exit ")),
            "{program}: held, in the tool's own words:\n{out}"
        );
        assert!(
            out.contains(&format!(
                "corral: nothing more can run without you: feature 1 waits for a login on account {program}"
            )),
            "{program}:\n{out}"
        );
        let log = std::fs::read_to_string(p.join(".corral/runs/1.log")).unwrap();
        assert!(
            !log.contains(never),
            "{program}: {never:?} in its log:\n{log}"
        );
    }
}

/// A stand-in for OpenAI's API on 127.0.0.1: every request gets the 401 the API gives without a
/// key. Returns its base URL; the thread ends with the test process.
fn unauthorized_api() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(n) = lower.strip_prefix("content-length:") {
                        length = n.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let answer = r#"{"error":{"message":"Missing bearer or basic authentication in header","type":"invalid_request_error","param":null,"code":null}}"#;
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
            });
        }
    });
    format!("http://127.0.0.1:{port}/v1")
}

/// The shipped Codex profile, copied as it is, run by corral with the real Codex CLI against a
/// stand-in API that refuses it: Codex accepts every flag (0.171.0 refused `--full-auto` with
/// exit 2), and the refusal holds the job for a login in Codex's own words.
#[test]
fn the_shipped_codex_profile_runs_the_real_cli_and_a_refused_key_waits_for_a_login() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !installed("codex") {
        return;
    }
    let project = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let p = project.path();
    // Codex reads its API address from its own config, in the throwaway HOME.
    std::fs::create_dir(home.path().join(".codex")).unwrap();
    std::fs::write(
        home.path().join(".codex/config.toml"),
        format!("openai_base_url = \"{}\"\n", unauthorized_api()),
    )
    .unwrap();
    let profiles = std::fs::read_to_string(assets().join("codex.toml")).unwrap();
    std::fs::write(
        p.join("corral.toml"),
        format!("[scheduler]\nmax_agents = 1\ncoding_profile = \"codex\"\n\n{profiles}"),
    )
    .unwrap();
    corral::runtime::store::Store::open(p)
        .unwrap()
        .add_features(&[common::feature(1, &[])], 0)
        .unwrap();
    let (code, out) = corral_until_done(p, home.path(), Duration::from_secs(180));
    assert_eq!(code, Some(1), "{out}");
    let log = std::fs::read_to_string(p.join(".corral/runs/1.log")).unwrap();
    assert!(!log.contains("unexpected argument"), "{log}");
    assert!(
        out.lines().any(|l| l.contains("job 1 coding #1: queued: ")
            && l.contains("unexpected status 401 Unauthorized")
            && l.contains(" — credentials refused, exit ")),
        "held in Codex's own words:\n{out}\n{log}"
    );
    assert!(
        out.contains("corral: nothing more can run without you: feature 1 waits for a login on account codex: run `codex login`"),
        "{out}"
    );
}
