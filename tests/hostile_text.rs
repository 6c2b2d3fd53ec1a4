//! Hostile text through the real binary on a real terminal (a pty): feature names, reasons and
//! agents' error lines full of escape sequences, C1 controls and bidi overrides never reach the
//! terminal raw from `corral status` or `corral run --headless`.

mod common;

use common::cli::{corral, ok};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Names that retitle the window, clear the screen, hide the cursor, start a C1 CSI/OSC and
/// reverse a row.
const NAMES: [&str; 5] = [
    "osc-title\x1b]0;PWNED-TITLE\x07-end",
    "\x1b[2J\x1b[H",
    "hide\x1b[?25l-cursor",
    "c1\u{9b}2J\u{9d}0;T\u{9c}-end",
    "abc\u{202e}fed\u{2066}x\u{2069}",
];

/// What would drive a terminal: ESC, BEL, C1 controls, bidi controls, and any other C0
/// control but the `\r\n` the pty writes for a newline and tabs.
fn hostile(output: &[u8]) -> Vec<(usize, char)> {
    String::from_utf8_lossy(output)
        .char_indices()
        .filter(|&(_, c)| {
            (c.is_control() && !matches!(c, '\r' | '\n' | '\t'))
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Runs `cmd` with stdout and stderr on a new pty; returns everything written there and the
/// exit code. Gives up after `limit`.
fn on_pty(mut cmd: Command, limit: Duration) -> (Vec<u8>, Option<i32>) {
    let pty = nix::pty::openpty(None, None).expect("openpty");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave));
    let mut child = cmd.spawn().expect("spawn corral");
    // Our copies of the slave must go, or the master never sees the end.
    drop(cmd);
    let mut master = std::fs::File::from(pty.master);
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the last slave descriptor is closed: that is the end.
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
        }
        bytes
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("corral did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (reader.join().unwrap(), status.code())
}

fn binary(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corral"));
    cmd.current_dir(dir)
        .env("XDG_CONFIG_HOME", dir.join(".xdg-config"))
        .env("XDG_DATA_HOME", dir.join(".xdg-data"))
        .env_remove("CORRAL_RUN_ID")
        .args(args);
    cmd
}

/// A project whose coding agent prints hostile error lines and fails, one attempt per feature,
/// with a feature per hostile name.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let out = corral(p).arg("init").output().unwrap();
    assert!(out.status.success());
    common::write_script(
        &p.join("agent.sh"),
        "printf 'working on it\\n'\n\
         printf 'error: \\033]0;PWNED-TITLE\\007 \\033[2J\\033[H\\033[?25l \\302\\233 2J \\342\\200\\256 boom\\n' >&2\n\
         exit 1",
    );
    std::fs::write(
        p.join("corral.toml"),
        "[scheduler]\nmax_attempts = 1\n\n\
         [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n",
    )
    .unwrap();
    for name in NAMES {
        ok(p, &["feature", "add", "--name", name, "--category", name]);
    }
    dir
}

#[test]
fn status_on_a_terminal_writes_no_escape_sequence() {
    let dir = project();
    let p = dir.path();
    // A reason with escapes becomes the feature's last error, which status prints too.
    ok(
        p,
        &[
            "feature",
            "fail",
            "1",
            "--reason",
            "bad \x1b]0;PWNED-TITLE\x07 \u{9b}2J",
        ],
    );
    let (bytes, code) = on_pty(binary(p, &["status"]), Duration::from_secs(20));
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(code, Some(0), "{text}");
    // The names are there, as visible escapes.
    assert!(
        text.contains("osc-title\\u{1b}]0;PWNED-TITLE\\u{7}-end"),
        "{text}"
    );
    assert!(text.contains("bad \\u{1b}]0;PWNED-TITLE"), "{text}");
    assert!(text.contains("abc\\u{202e}fed"), "{text}");
    assert_eq!(hostile(&bytes), vec![], "{text}");

    let (bytes, code) = on_pty(binary(p, &["status", "--json"]), Duration::from_secs(20));
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(hostile(&bytes), vec![], "{text}");
    // The same names, exactly, once parsed.
    let json: serde_json::Value = serde_json::from_str(&text.replace("\r\n", "\n"))
        .unwrap_or_else(|e| panic!("{e}: {text:?}"));
    let names: Vec<&str> = json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, NAMES);
}

#[test]
fn headless_on_a_terminal_writes_no_escape_sequence() {
    let dir = project();
    let p = dir.path();
    let (bytes, code) = on_pty(
        binary(p, &["run", "--headless", "--until-done"]),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&bytes);
    // Every feature failed: stuck.
    assert_eq!(code, Some(1), "{text}");
    assert!(text.matches("failed").count() >= NAMES.len(), "{text}");
    // Names and the agents' error lines are shown, escaped.
    assert!(
        text.contains("osc-title\\u{1b}]0;PWNED-TITLE\\u{7}-end"),
        "{text}"
    );
    assert!(
        text.contains("error: \\u{1b}]0;PWNED-TITLE\\u{7}"),
        "{text}"
    );
    assert_eq!(hostile(&bytes), vec![], "{text}");
}

#[test]
fn other_listings_and_errors_on_a_terminal_write_no_escape_sequence() {
    let dir = project();
    let p = dir.path();
    for args in [
        &["feature", "list"][..],
        &["feature", "show", "1"],
        &["feature", "show", "4", "--json"],
        &["job", "list", "--all"],
        &["export"],
        // A refusal quoting the name.
        &["feature", "edit", "1", "--rm-dep", "3"],
    ] {
        let (bytes, _) = on_pty(binary(p, args), Duration::from_secs(20));
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.len() > 10, "{args:?}: {text}");
        assert_eq!(hostile(&bytes), vec![], "{args:?}: {text}");
    }
}

/// clap quotes the argument it refuses: a hostile one must not reach the terminal either.
#[test]
fn a_refused_command_line_on_a_terminal_writes_no_escape_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    for args in [
        &["feature", "show", "\u{1b}]0;PWNED\u{7}-x"][..],
        &["job", "retry", "\u{1b}[2J\u{1b}[H7"],
        &["feature", "list", "--status", "x\u{202e}abc\u{9b}2J"],
        &["completions", "\u{1b}[?25lsh"],
        &["no-such-command-\u{1b}]0;PWNED\u{7}"],
    ] {
        let (bytes, code) = on_pty(binary(p, args), Duration::from_secs(20));
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(code, Some(2), "{args:?}: {text}");
        assert!(text.contains("error:"), "{args:?}: {text}");
        assert_eq!(hostile(&bytes), vec![], "{args:?}: {text}");
    }
    // Help still reaches the terminal as clap writes it, and exits 0.
    let (bytes, code) = on_pty(binary(p, &["feature", "--help"]), Duration::from_secs(20));
    assert_eq!(code, Some(0));
    assert!(String::from_utf8_lossy(&bytes).contains("corral feature"));
}

/// Every place a secret could be kept or shown after a run: log files, the commands' text and
/// JSON, the database file and its WAL.
fn everything_kept(p: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(p.join(".corral/runs")).unwrap().flatten() {
        out.push((
            entry.path().display().to_string(),
            std::fs::read(entry.path()).unwrap(),
        ));
    }
    assert!(!out.is_empty(), "no log file");
    for args in [
        &["feature", "show", "1"][..],
        &["feature", "show", "1", "--json"],
        &["status"],
        &["status", "--json"],
        &["job", "list", "--all", "--json"],
    ] {
        out.push((format!("{args:?}"), ok(p, args).into_bytes()));
    }
    for file in ["corral.db", "corral.db-wal"] {
        if let Ok(bytes) = std::fs::read(p.join(".corral").join(file)) {
            out.push((file.to_string(), bytes));
        }
    }
    out
}

#[test]
fn secrets_split_by_colours_cut_or_reported_are_kept_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    assert!(corral(p).arg("init").output().unwrap().status.success());
    // Bodies assembled at run time, so the repository holds no literal key.
    let body = |n: u32| format!("Q{n}w2E3r4T5y6U7i8O9p0A1s2D3f4G5h{n}");
    let acme = "acme_q9w8e7r6t5y4";
    common::write_script(
        &p.join("agent.sh"),
        &format!(
            "printf 'export ANTHROPIC_API_KEY=sk-ant-ap\\033[1mi03-{b1}\\033[0m\\n'\n\
             {{ head -c 65527 /dev/zero | tr '\\000' w; printf ' sk-ant-api03-{b2} tail\\n'; }}\n\
             printf 'error: deploy refused sk-ant-api\\033[31m03-{b3}\\033[0m\\n' >&2\n\
             \"$CORRAL_BIN\" --project \"$CORRAL_PROJECT\" feature fail \"$CORRAL_FEATURE_ID\" \
               --run \"$CORRAL_RUN_ID\" --reason \"ANTHROPIC_API_KEY=sk-ant-api03-{b4} and {acme}\"\n\
             exit 1",
            b1 = body(1),
            b2 = body(2),
            b3 = body(3),
            b4 = body(4),
        ),
    );
    std::fs::write(
        p.join("corral.toml"),
        format!(
            "[scheduler]\nmax_attempts = 1\n\n[redact]\npatterns = [\"acme_[a-z0-9]{{12}}\"]\n\n\
             [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{{project}}/agent.sh\"]\n\
             env = {{ CORRAL_BIN = {:?} }}\n",
            env!("CARGO_BIN_EXE_corral")
        ),
    )
    .unwrap();
    ok(p, &["feature", "add", "--name", "deploy"]);
    let (bytes, code) = on_pty(
        binary(p, &["run", "--headless", "--until-done"]),
        Duration::from_secs(60),
    );
    let shown = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(code, Some(1), "{shown}");
    let show = ok(p, &["feature", "show", "1"]);
    assert!(show.contains("ANTHROPIC_API_KEY=[REDACTED]"), "{show}");
    let mut kept = everything_kept(p);
    kept.push(("headless output".into(), bytes));
    for (place, bytes) in kept {
        let text = String::from_utf8_lossy(&bytes);
        for secret in [body(1), body(2), body(3), body(4), acme.to_string()] {
            assert!(!text.contains(&secret), "{secret} in {place}");
        }
        assert!(!text.contains("sk-ant"), "a key's start in {place}");
    }
}
