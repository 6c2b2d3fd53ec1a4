//! A run that needs a person, through the real binary and its daemon: `corral agent list
//! --json` shows what it asks, the `[notify] command` runs once with the details in its
//! environment, `corral agent approve` answers it and the agent passes, and `corral agent
//! log --steps` prints what it did.

mod common;

use common::cli::{corral, ok, refused};
use common::{wait_for, write_script};
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

/// Reads its prompt, asks to run `touch built.txt`, runs it once allowed and reports.
const AGENT: &str = r#"read -r prompt
echo '{"type":"system","subtype":"init","session_id":"sess-9","model":"fake","tools":["Bash"]}'
echo '{"type":"assistant","message":{"content":[{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"touch built.txt"}}]}}'
echo '{"type":"control_request","request_id":"req-7","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"touch built.txt"}}}'
read -r answer
case "$answer" in
  *'"behavior":"allow"'*) touch built.txt
    echo '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"made it"}]}}'
    echo '{"type":"result","subtype":"success","is_error":false,"num_turns":2,"duration_ms":1200,"total_cost_usd":0.02}'
    exit 0 ;;
esac
exit 1
"#;

struct Daemon<'a>(&'a Path);

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        let _ = corral(self.0)
            .args(["daemon", "stop"])
            .timeout(Duration::from_secs(60))
            .output();
    }
}

#[test]
fn a_waiting_run_is_listed_notified_approved_from_the_cli_and_its_steps_printed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_script(&p.join("agent.sh"), AGENT);
    write_script(
        &p.join("notify.sh"),
        "echo \"$CORRAL_EVENT|$CORRAL_RUN_ID|$CORRAL_FEATURE_ID|$CORRAL_TITLE|$CORRAL_BODY\" >> notified.txt",
    );
    std::fs::write(
        p.join("corral.toml"),
        format!(
            "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"stream-json\"\n\n\
             [notify]\nterminal = \"off\"\ncommand = [\"{}\"]\n",
            p.join("agent.sh").display(),
            p.join("notify.sh").display()
        ),
    )
    .unwrap();
    drop(corral::runtime::store::Store::open(p).unwrap());
    ok(p, &["feature", "add", "--name", "build it"]);
    ok(p, &["daemon", "start"]);
    let _daemon = Daemon(p);

    let run = wait_for("the run to need input", LIMIT, || {
        let v: serde_json::Value =
            serde_json::from_str(&ok(p, &["agent", "list", "--json"])).unwrap();
        v.as_array()?
            .iter()
            .find(|r| r["needs_input"] == true)
            .cloned()
    });
    assert_eq!(run["waiting"]["ask"]["tool"], "Bash", "{run}");
    assert_eq!(run["waiting"]["ask"]["summary"], "touch built.txt", "{run}");
    let id = run["id"].as_i64().unwrap().to_string();
    let listed = ok(p, &["agent", "list"]);
    assert!(
        listed.contains("needs input: allow Bash: touch built.txt?"),
        "{listed}"
    );
    let notified = wait_for("the notify command", LIMIT, || {
        std::fs::read_to_string(p.join("notified.txt")).ok()
    });
    assert_eq!(
        notified.trim(),
        format!("needs_input|{id}|1|run {id} needs you|allow Bash: touch built.txt?")
    );

    let answered = ok(p, &["agent", "approve", &id]);
    assert!(answered.contains(&format!("run {id}")), "{answered}");
    wait_for("the agent to finish", LIMIT, || {
        let v: serde_json::Value =
            serde_json::from_str(&ok(p, &["agent", "list", "--json"])).unwrap();
        let r = v
            .as_array()?
            .iter()
            .find(|r| r["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(id.as_str()))?
            .clone();
        (r["state"]["state"] == "exited").then_some(())
    });
    assert!(p.join("built.txt").exists());
    // Answered once: nothing to answer now, and the notification went out once.
    let again = refused(p, &["agent", "deny", &id, "--reason", "late"]);
    assert!(
        again.contains("has ended") || again.contains("not waiting"),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(p.join("notified.txt"))
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("needs_input|"))
            .count(),
        1
    );

    let steps = ok(p, &["agent", "log", &id, "--steps"]);
    assert!(steps.contains("Bash  touch built.txt  ok"), "{steps}");
    assert!(steps.contains("done  2 turns"), "{steps}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(p, &["agent", "log", &id, "--steps", "--json"])).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"]["kind"] == "call"
                && s["kind"]["tool"] == "Bash"
                && s["kind"]["status"] == "ok"),
        "{json}"
    );
}

/// Under `run --headless --until-done` nobody can answer: once nothing else can move, the
/// waiting run is stopped (its feature back to pending, no attempt spent) and corral exits 1
/// saying what it waited for.
#[test]
fn until_done_stops_a_run_waiting_for_a_person_and_says_what_it_asked() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    write_script(&p.join("agent.sh"), AGENT);
    std::fs::write(
        p.join("corral.toml"),
        format!(
            "[profiles.coding]\nrole = \"coding\"\ncommand = [\"{}\"]\nstdin = \"stream-json\"\n",
            p.join("agent.sh").display()
        ),
    )
    .unwrap();
    drop(corral::runtime::store::Store::open(p).unwrap());
    ok(p, &["feature", "add", "--name", "build it"]);
    let out = corral(p)
        .args(["run", "--headless", "--until-done"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "corral: nothing more can run without you: run 1 (feature 1) waited for: allow Bash: touch built.txt?"
        ),
        "{text}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&ok(p, &["feature", "list", "--json"])).unwrap();
    let f = &v.as_array().unwrap()[0];
    assert_eq!(f["status"], "ready", "{f}");
    assert_eq!(f["attempts"], 0, "{f}");
    assert!(!p.join("built.txt").exists());
}
