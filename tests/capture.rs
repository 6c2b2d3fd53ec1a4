//! Output capture with real `sh` agents through the whole runtime: the ring keeps the newest
//! lines, the log file keeps all of them and reaches the disk while the agent still prints; the
//! usage an agent reports is read from its output.

mod common;

use common::{wait_for_async, write_script};
use corral::api::{FeatureId, RunState, RunView, Stream};
use corral::config::Config;
use corral::runtime::store::{NewFeature, Store};
use corral::runtime::{self, RuntimeHandle, RuntimeOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// A project with one feature whose agent runs `agent.sh` (holding `body`), started with
/// `ring_lines` lines of memory per run.
fn start(dir: &Path, body: &str, ring_lines: usize) -> (RuntimeHandle, common::Running) {
    let toml = "[scheduler]\nmax_agents = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"{project}/agent.sh\"]\ngrace = \"1s\"\n";
    std::fs::write(dir.join("corral.toml"), toml).expect("config");
    write_script(&dir.join("agent.sh"), body);
    let feature = NewFeature {
        id: Some(1),
        category: "Test".into(),
        name: "feature 1".into(),
        description: String::new(),
        steps: vec![],
        priority: 0,
        dependencies: vec![],
    };
    Store::open(dir)
        .expect("store")
        .add_features(&[feature], 0)
        .expect("features");
    let config = Config::load_with_user(dir, None).expect("config loads");
    common::guarded(
        runtime::start(RuntimeOptions {
            project: dir.to_path_buf(),
            config,
            ring_lines,
        })
        .expect("runtime starts"),
    )
}

fn run(h: &RuntimeHandle) -> Option<RunView> {
    let snap = h.snapshots().borrow().clone();
    snap.runs
        .into_iter()
        .find(|r| r.feature == Some(FeatureId(1)))
}

fn log_path(dir: &Path, run: &RunView) -> PathBuf {
    dir.join(".corral/runs").join(format!("{}.log", run.id))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ring_keeps_the_newest_lines_with_their_numbers_and_the_file_keeps_all() {
    let dir = tempfile::tempdir().unwrap();
    let body = "i=0\nwhile [ $i -lt 150 ]; do echo \"line $i\"; i=$((i+1)); done";
    let (h, _running) = start(dir.path(), body, 50);
    let ended = wait_for_async("the agent to exit 0", LIMIT, || {
        run(&h).filter(|r| r.state == RunState::Exited)
    })
    .await;
    let ring = h.log_tail(ended.id, 1000);
    assert_eq!(ring.len(), 50, "exactly ring_lines lines are kept");
    for (line, i) in ring.iter().zip(100..) {
        assert_eq!(
            (line.seq, line.text.as_str(), line.stream),
            (i, format!("line {i}").as_str(), Stream::Stdout)
        );
    }
    let file = std::fs::read_to_string(log_path(dir.path(), &ended)).expect("log file");
    let want: String = (0..150).map(|i| format!("O line {i}\n")).collect();
    assert_eq!(file, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_reach_the_file_while_the_agent_is_still_printing() {
    let dir = tempfile::tempdir().unwrap();
    // Prints without a pause for 2-3 s (date has whole seconds), then says it is done.
    let body = "end=$(( $(date +%s) + 3 ))\ni=0\n\
                while :; do\n\
                  echo \"line $i of an agent that does not pause\"\n\
                  i=$((i+1))\n\
                  if [ $((i % 500)) = 0 ] && [ $(date +%s) -ge $end ]; then break; fi\n\
                done\n\
                echo \"printed $i lines\"\ntouch done";
    let (h, _running) = start(dir.path(), body, 100);
    let live = wait_for_async("the agent to start", LIMIT, || run(&h)).await;
    let path = log_path(dir.path(), &live);
    wait_for_async("lines in the log file", LIMIT, || {
        let text = std::fs::read_to_string(&path).ok()?;
        text.lines().next().map(|_| ())
    })
    .await;
    assert!(
        !dir.path().join("done").exists(),
        "the agent had already stopped printing when its first lines reached the file"
    );
    let ended = wait_for_async("the agent to exit 0", LIMIT, || {
        run(&h).filter(|r| r.state == RunState::Exited)
    })
    .await;
    let file = std::fs::read_to_string(&path).expect("log file");
    let last = file.lines().last().expect("lines").to_string();
    let printed: usize = last
        .strip_prefix("O printed ")
        .and_then(|s| s.strip_suffix(" lines"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("last line: {last:?}"));
    assert_eq!(file.lines().count(), printed + 1, "no line lost");
    assert_eq!(
        h.log_tail(ended.id, 1).last().map(|l| l.seq),
        Some(printed as u64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_code_json_result_printed_by_a_real_child_is_recorded_as_its_usage() {
    use corral::api::{RunId, Usage};
    use corral::core::redact::Redactor;
    use corral::runtime::capture::LogHub;
    use std::process::Stdio;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude_result.json");
    // Redacted as the supervisor does, so the report survives the real filter.
    let redactor = Redactor::new(&[]).expect("built-in rules");
    let hub = LogHub::new(100, dir.path().to_path_buf())
        .with_filter(Arc::new(move |line: &str| redactor.redact(line)));
    let run = RunId(1);
    hub.open(run, &dir.path().join("1.log")).expect("log file");
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg("echo 'Reading the cart module'; echo 'warning: slow test' >&2; cat \"$1\"")
        .arg("sh")
        .arg(&fixture)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let stdout = child.stdout.take().expect("stdout pipe");
    let stderr = child.stderr.take().expect("stderr pipe");
    let clock = || 0;
    tokio::join!(
        hub.clone().pump(run, Stream::Stdout, stdout, clock),
        hub.clone().pump(run, Stream::Stderr, stderr, clock),
    );
    assert!(child.wait().await.expect("sh ends").success());
    assert_eq!(
        hub.usage(run),
        Some(Usage {
            input_tokens: 1200,
            output_tokens: 3400,
            cache_read_tokens: 50_000,
            cache_write_tokens: 8000,
            cost_micros: Some(123_400),
        })
    );
}

/// An agent asks a question without a newline and waits on stdin: once it pauses, the
/// question shows (in the tail and to subscribers), redacted like whole lines, with the start
/// of a secret held back; the finished line then takes its place under the same number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_waiting_on_stdin_shows_before_its_newline() {
    use corral::api::{Event, LogLine, RunId};
    use corral::core::redact::Redactor;
    use corral::runtime::capture::LogHub;
    use std::process::Stdio;
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let redactor = Redactor::new(&[]).expect("built-in rules");
    let hub = LogHub::new(100, dir.path().to_path_buf())
        .with_filter(Arc::new(move |line: &str| redactor.redact(line)));
    let run = RunId(1);
    hub.open(run, &dir.path().join("1.log")).expect("log file");
    let mut events = hub.subscribe();
    let script = "echo 'Reading the cart module'; printf 'Overwrite cart.rs? [y/N] '; read a; \
                  echo \"answer $a\"; printf 'your key is sk-ant-api03-AbCd12'; read b; \
                  echo 'EfGh34IjKl56MnOp78QrSt90 thanks'";
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let mut stdin = child.stdin.take().expect("stdin pipe");
    let stdout = child.stdout.take().expect("stdout pipe");
    let pump = tokio::spawn(hub.clone().pump(run, Stream::Stdout, stdout, || 0));
    let tail = |hub: &LogHub| -> Vec<(u64, String)> {
        hub.tail(run, 10)
            .into_iter()
            .map(|l| (l.seq, l.text))
            .collect()
    };
    let question = wait_for_async("the question in the tail", LIMIT, || {
        tail(&hub)
            .last()
            .filter(|(_, t)| t.starts_with("Overwrite"))
            .cloned()
    })
    .await;
    assert_eq!(question, (1, "Overwrite cart.rs? [y/N] ".to_string()));
    stdin.write_all(b"y\n").await.unwrap();
    // The key being printed: only the words before it show while the agent waits.
    let held = wait_for_async("the unfinished key line", LIMIT, || {
        tail(&hub)
            .last()
            .filter(|(_, t)| t.starts_with("your"))
            .cloned()
    })
    .await;
    assert_eq!(held, (2, "your key is ".to_string()));
    stdin.write_all(b"\n").await.unwrap();
    drop(stdin);
    pump.await.unwrap();
    assert!(child.wait().await.unwrap().success());
    assert_eq!(
        tail(&hub),
        [
            (0, "Reading the cart module".to_string()),
            (1, "Overwrite cart.rs? [y/N] answer y".to_string()),
            (2, "your key is [REDACTED] thanks".to_string()),
        ]
    );
    // Subscribers saw each unfinished line, then its finished form under the same number,
    // and never any part of the key.
    let mut seen: Vec<LogLine> = Vec::new();
    while let Ok(ev) = events.try_recv() {
        if let Event::Log(lines) = ev {
            seen.extend(lines);
        }
    }
    let texts: Vec<(u64, &str)> = seen.iter().map(|l| (l.seq, l.text.as_str())).collect();
    assert!(
        texts.contains(&(1, "Overwrite cart.rs? [y/N] ")),
        "{texts:?}"
    );
    assert!(texts.contains(&(2, "your key is ")), "{texts:?}");
    assert!(!texts.iter().any(|(_, t)| t.contains("AbCd")), "{texts:?}");
    let file = std::fs::read_to_string(dir.path().join("1.log")).unwrap();
    assert_eq!(
        file.lines().count(),
        3,
        "the file has only finished lines:\n{file}"
    );
}
