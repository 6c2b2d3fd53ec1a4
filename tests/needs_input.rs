//! Runs that need a person: a fake agent speaking Claude Code's stdio permission prompt
//! (`control_request` / `can_use_tool` on stdout, the `control_response` read on stdin)
//! through the real runtime; a plain-text prompt guessed at; the notify command.

mod common;

use common::{feature, start_project, wait_for, write_script};
use corral::api::{Answer, Ask, Command, RunState, RunView};
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// An agent that reads its prompt (a stream-json user message), asks to run `rm -rf target`,
/// and passes only when the answer on stdin allows exactly that request with its input.
const ASKING_AGENT: &str = r#"#!/bin/sh
read -r prompt
case "$prompt" in
  *'build the thing'*'"type":"user"'*) ;;
  *) echo "bad prompt: $prompt" >&2; exit 3 ;;
esac
echo '{"type":"system","subtype":"init","session_id":"sess-1","model":"fake","tools":["Bash"]}'
echo '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"rm -rf target"}}]}}'
echo '{"type":"control_request","request_id":"req-1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"rm -rf target"}}}'
read -r answer
echo "$answer" > answer.json
case "$answer" in
  *'"request_id":"req-1"'*'"behavior":"allow"'*'"updatedInput":{"command":"rm -rf target"}'*)
    echo '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"done"}]}}'
    echo '{"type":"result","subtype":"success","is_error":false,"num_turns":2,"total_cost_usd":0.01}'
    read -r rest || true
    exit 0 ;;
  *'"behavior":"deny"'*)
    echo '{"type":"result","subtype":"success","is_error":false,"num_turns":2,"result":"denied"}'
    exit 1 ;;
esac
exit 2
"#;

fn project(dir: &Path, extra: &str) -> (corral::runtime::RuntimeHandle, common::Running) {
    let agent = dir.join("agent.sh");
    write_script(&agent, ASKING_AGENT);
    let toml = format!(
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"stream-json\"\n\
         prompt = \"prompt.md\"\n{extra}",
        agent.display()
    );
    std::fs::write(dir.join("prompt.md"), "build the thing\n").unwrap();
    start_project(dir, &toml, &[feature(1, &[])])
}

fn waiting_run(h: &corral::runtime::RuntimeHandle) -> RunView {
    wait_for("the run to need input", LIMIT, || {
        h.snapshots()
            .borrow()
            .runs
            .iter()
            .find(|r| r.waiting.is_some())
            .cloned()
    })
}

fn ended(h: &corral::runtime::RuntimeHandle) -> RunView {
    wait_for("the run to end", LIMIT, || {
        h.snapshots()
            .borrow()
            .runs
            .iter()
            .find(|r| !r.state.is_live())
            .cloned()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_request_waits_for_a_person_and_an_allow_lets_the_agent_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _task) = project(dir.path(), "");
    let run = waiting_run(&h);
    assert_eq!(run.state, RunState::Running);
    assert_eq!(
        run.waiting.as_ref().unwrap().ask,
        Ask::Approval {
            request_id: "req-1".into(),
            tool: "Bash".into(),
            summary: "rm -rf target".into(),
        }
    );
    assert_eq!(run.session.as_deref(), Some("sess-1"));
    h.send(Command::Answer {
        run: run.id,
        answer: Answer::Allow,
    });
    let run = ended(&h);
    let answer = std::fs::read_to_string(dir.path().join("answer.json")).unwrap_or_default();
    assert_eq!(run.state, RunState::Exited, "answer: {answer}");
    assert!(run.waiting.is_none());
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denial_carries_its_reason_to_the_agent() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _task) = project(dir.path(), "");
    let run = waiting_run(&h);
    h.send(Command::Answer {
        run: run.id,
        answer: Answer::Deny {
            reason: Some("not the target dir".into()),
        },
    });
    let run = ended(&h);
    assert_eq!(run.state, RunState::Failed { code: 1 });
    let answer = std::fs::read_to_string(dir.path().join("answer.json")).unwrap();
    assert!(
        answer.contains(r#""message":"not the target dir""#),
        "{answer}"
    );
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_answering_within_deny_after_denies_the_request_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _task) = project(dir.path(), "deny_after = \"1s\"\n");
    let run = ended(&h);
    assert_eq!(run.state, RunState::Failed { code: 1 });
    let answer = std::fs::read_to_string(dir.path().join("answer.json")).unwrap();
    assert!(answer.contains("Nobody answered this request"), "{answer}");
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_a_person_is_no_stall() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _task) = project(dir.path(), "silence = \"1s\"\n");
    let run = waiting_run(&h);
    // Three silence periods pass while it waits: still running.
    std::thread::sleep(Duration::from_millis(3_500));
    let now = h
        .snapshots()
        .borrow()
        .runs
        .iter()
        .find(|r| r.id == run.id)
        .cloned()
        .unwrap();
    assert_eq!(now.state, RunState::Running);
    assert!(now.waiting.is_some());
    h.send(Command::Answer {
        run: run.id,
        answer: Answer::Allow,
    });
    assert_eq!(ended(&h).state, RunState::Exited);
    h.send(Command::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_text_prompt_left_unfinished_is_guessed_to_wait_and_input_answers_it() {
    let dir = tempfile::tempdir().unwrap();
    let agent = dir.path().join("ask.sh");
    write_script(
        &agent,
        "echo 'Working on it'\nprintf 'Overwrite src/cart.rs? [y/n] '\nread -r a\n\
         [ \"$a\" = y ] && echo 'overwritten' && exit 0\nexit 1",
    );
    let toml = format!(
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\n",
        agent.display()
    );
    let (h, _task) = start_project(dir.path(), &toml, &[feature(1, &[])]);
    let run = waiting_run(&h);
    assert_eq!(
        run.waiting.as_ref().unwrap().ask,
        Ask::Guess {
            line: "Overwrite src/cart.rs? [y/n] ".into()
        }
    );
    assert!(
        run.waiting
            .as_ref()
            .unwrap()
            .ask
            .describe()
            .contains("a guess")
    );
    h.send(Command::SendInput {
        run: run.id,
        text: "y".into(),
    });
    assert_eq!(ended(&h).state, RunState::Exited);
    h.send(Command::Shutdown);
}

/// A `rate_limit_event` refusing with a reset 40 s ahead, then a result with
/// `api_error_status` 429: the run is transient and the account's breaker rests exactly
/// until the reset, whatever the message says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_event_rests_the_breaker_until_its_reset() {
    let dir = tempfile::tempdir().unwrap();
    let reset_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 40;
    let agent = dir.path().join("limited.sh");
    write_script(
        &agent,
        &format!(
            "echo '{{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"s\"}}'\n\
             echo '{{\"type\":\"rate_limit_event\",\"rate_limit_info\":{{\"status\":\"rejected\",\"resetsAt\":{reset_s},\"rateLimitType\":\"five_hour\"}}}}'\n\
             echo '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":true,\"api_error_status\":429,\"result\":\"something went wrong\"}}'\n\
             exit 1"
        ),
    );
    // One transient failure opens the breaker (the default waits for 3 in a row).
    let toml = format!(
        "[breaker]\nthreshold = 1\n\n[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\n",
        agent.display()
    );
    let (h, _task) = start_project(dir.path(), &toml, &[feature(1, &[])]);
    let breaker = wait_for("the breaker to rest", LIMIT, || {
        h.snapshots()
            .borrow()
            .breakers
            .iter()
            .find(|b| b.account == "coding" && b.until_ms.is_some())
            .cloned()
    });
    assert_eq!(breaker.until_ms, Some(reset_s as i64 * 1000), "{breaker:?}");
    assert!(!breaker.auth);
    h.send(Command::Shutdown);
}

/// Each run records its agent's session; `{session_id}` is the latest of the same feature
/// and profile, left out with its flag while there is none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_resumes_the_session_of_the_run_before() {
    let dir = tempfile::tempdir().unwrap();
    let agent = dir.path().join("resume.sh");
    write_script(
        &agent,
        "echo \"$*\" > \"args.$CORRAL_RUN_ID\"\n\
         echo '{\"type\":\"system\",\"subtype\":\"init\",\"session_id\":\"sess-'\"$CORRAL_RUN_ID\"'\"}'\n\
         [ \"$CORRAL_RUN_ID\" = 2 ] && exit 0\nexit 1",
    );
    let toml = format!(
        "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\", \"--resume\", \"{{session_id}}\", \"go\"]\n",
        agent.display()
    );
    let (h, _task) = start_project(dir.path(), &toml, &[feature(1, &[])]);
    wait_for("the second run to pass", LIMIT, || {
        h.snapshots()
            .borrow()
            .runs
            .iter()
            .find(|r| r.id.0 == 2 && r.state == RunState::Exited)
            .cloned()
    });
    let args = |n: u32| std::fs::read_to_string(dir.path().join(format!("args.{n}"))).unwrap();
    assert_eq!(args(1).trim(), "go", "no session yet: the flag is left out");
    assert_eq!(args(2).trim(), "--resume sess-1 go");
    h.send(Command::Shutdown);
}
