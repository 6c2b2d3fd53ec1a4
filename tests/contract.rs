//! The agent contract with real processes: what an agent is given (argv, prompt, environment),
//! how success is decided, and what testing agents do with a regression.

mod common;

use common::{wait_for_async, write_script};
use corral::api::{FeatureId, FeatureStatus, RunState, Snapshot};
use corral::config::Config;
use corral::runtime::store::{NewFeature, Store};
use corral::runtime::{self, RuntimeHandle, RuntimeOptions};
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(15);

fn feature(id: i64, name: &str, deps: &[i64]) -> NewFeature {
    NewFeature {
        id: Some(id),
        category: "Test".into(),
        name: name.into(),
        description: format!("{name}, described"),
        steps: vec![format!("do {name}")],
        priority: 0,
        dependencies: deps.to_vec(),
    }
}

fn start(dir: &Path, toml: &str, features: &[NewFeature]) -> (RuntimeHandle, common::Running) {
    std::fs::write(dir.join("corral.toml"), toml).unwrap();
    Store::open(dir).unwrap().add_features(features, 0).unwrap();
    let config = Config::load_with_user(dir, None).unwrap();
    common::guarded(
        runtime::start(RuntimeOptions {
            project: dir.to_path_buf(),
            config,
            ring_lines: 1000,
        })
        .unwrap(),
    )
}

fn snap(h: &RuntimeHandle) -> Snapshot {
    h.snapshots().borrow().clone()
}

fn status(h: &RuntimeHandle, id: i64) -> FeatureStatus {
    snap(h)
        .features
        .iter()
        .find(|f| f.id == FeatureId(id))
        .map(|f| f.status)
        .unwrap()
}

async fn until_status(h: &RuntimeHandle, id: i64, want: FeatureStatus) {
    wait_for_async(&format!("feature {id} {want:?}"), LIMIT, || {
        (status(h, id) == want).then_some(())
    })
    .await
}

/// An agent that writes each argument on its own line to args-<run>.txt, then exits 0.
const RECORD_ARGS: &str =
    "for a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$CORRAL_PROJECT/args-$CORRAL_RUN_ID.txt\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feature_text_is_data_even_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    write_script(&dir.path().join("agent.sh"), RECORD_ARGS);
    let hostile = "$(touch pwned); touch pwned2";
    let mut f = feature(1, hostile, &[]);
    f.description = format!("`touch pwned3` {hostile}");
    f.steps = vec![hostile.to_string(), "$(touch pwned4)".into()];
    let toml = "[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"{project}/agent.sh\", \"{feature_name}\", \"{prompt}\", \"--file={prompt_file}\"]\n";
    let (h, _running) = start(dir.path(), toml, &[f]);
    until_status(&h, 1, FeatureStatus::Passing).await;
    let args = std::fs::read_to_string(dir.path().join("args-1.txt")).unwrap();
    let first = args.lines().next().unwrap();
    assert_eq!(first, hostile, "the name arrives as one literal argument");
    assert!(
        args.contains("`touch pwned3`"),
        "the prompt holds the description verbatim"
    );
    let prompt_file = dir.path().join(".corral/prompts/1.md");
    assert!(args.contains(&format!("--file={}", prompt_file.display())));
    assert!(
        std::fs::read_to_string(&prompt_file)
            .unwrap()
            .contains(hostile)
    );
    for name in ["pwned", "pwned2", "pwned3", "pwned4"] {
        assert!(
            !dir.path().join(name).exists(),
            "{name} was created: feature text reached a shell"
        );
        assert!(!Path::new(name).exists());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_and_effort_fill_their_flags_and_a_missing_one_drops_its_flag() {
    let dir = tempfile::tempdir().unwrap();
    write_script(&dir.path().join("agent.sh"), RECORD_ARGS);
    // The profile names a model and an effort outside its allowed list: the effort is skipped.
    let toml = "[defaults]\nmodel = \"fallback-model\"\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"{project}/agent.sh\", \"--model\", \"{model}\", \"--effort\", \"{effort}\", \"end\"]\n\
                model = \"opus-4.1\"\neffort = \"extreme\"\nefforts = [\"low\", \"high\"]\n";
    let (h, _running) = start(dir.path(), toml, &[feature(1, "one", &[])]);
    until_status(&h, 1, FeatureStatus::Passing).await;
    let args = std::fs::read_to_string(dir.path().join("args-1.txt")).unwrap();
    assert_eq!(
        args, "--model\nopus-4.1\nend\n",
        "the effort flag went with its empty value"
    );
    let run = snap(&h).runs[0].id;
    let lines: Vec<String> = h.log_tail(run, 10).into_iter().map(|l| l.text).collect();
    assert!(
        lines.iter().any(|l| l.contains("effort \"extreme\"")),
        "the skip is explained: {lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_must_pass_too_and_report_needs_a_report() {
    let dir = tempfile::tempdir().unwrap();
    write_script(&dir.path().join("ok.sh"), "echo done; exit 0");
    let toml = "[scheduler]\nmax_attempts = 1\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/ok.sh\"]\n\
                verify = [\"sh\", \"-c\", \"echo checking; test -e {project}/built\"]\n";
    let (h, _running) = start(dir.path(), toml, &[feature(1, "one", &[])]);
    until_status(&h, 1, FeatureStatus::Failed).await;
    let run = &snap(&h).runs[0];
    assert_eq!(run.state, RunState::Exited, "the agent itself exited 0");
    let lines: Vec<String> = h.log_tail(run.id, 20).into_iter().map(|l| l.text).collect();
    assert!(
        lines.contains(&"checking".to_string())
            && lines.iter().any(|l| l.contains("verify failed")),
        "{lines:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_script(&dir.path().join("ok.sh"), "exit 0");
    let toml = "[scheduler]\nmax_attempts = 1\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/ok.sh\"]\nsuccess = \"report\"\n";
    let (h, _running) = start(dir.path(), toml, &[feature(1, "one", &[])]);
    until_status(&h, 1, FeatureStatus::Failed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_says_what_really_happened_to_the_run() {
    let corral = env!("CARGO_BIN_EXE_corral");
    let report_fail = format!(
        "\"{corral}\" feature fail \"$CORRAL_FEATURE_ID\" --run \"$CORRAL_RUN_ID\" --reason 'tests red'"
    );
    let verify = "verify = [\"sh\", \"-c\", \"echo verifying; exit 1\"]\n";
    // (agent script, profile lines, the job's last error, whether verify ran)
    let cases: Vec<(String, &str, &str, bool)> = vec![
        (
            "exit 0".into(),
            verify,
            "verify failed (the agent exited 0)",
            true,
        ),
        ("exit 1".into(), verify, "exit 1", false),
        (
            "exit 0".into(),
            "success = \"report\"\n",
            "exited 0 without reporting pass or fail",
            false,
        ),
        (
            "exit 3".into(),
            "success = \"report\"\n",
            "exit 3 without reporting pass or fail",
            false,
        ),
        (
            report_fail,
            "success = \"report\"\n",
            "the agent reported failing (exited 0)",
            false,
        ),
    ];
    for (script, lines, want, verified) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_script(&dir.path().join("agent.sh"), &script);
        let toml = format!(
            "[scheduler]\nmax_attempts = 1\n\n[profiles.coding]\nrole = \"coding\"\n\
             command = [\"sh\", \"{{project}}/agent.sh\"]\n{lines}"
        );
        let (h, _running) = start(dir.path(), &toml, &[feature(1, "one", &[])]);
        until_status(&h, 1, FeatureStatus::Failed).await;
        let job = snap(&h).jobs[0].clone();
        let error = job.last_error.unwrap_or_default();
        assert!(
            error == want || error.ends_with(&format!(" — {want}")),
            "{script} / {lines}: got {error:?}, want {want:?}"
        );
        assert!(!error.contains("verified"), "{error}");
        let run = snap(&h).runs[0].id;
        let log: Vec<String> = h.log_tail(run, 20).into_iter().map(|l| l.text).collect();
        assert_eq!(
            log.iter().any(|l| l.contains("corral: verify:")),
            verified,
            "{script}: {log:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_re_check_sends_the_feature_back_to_coding() {
    let dir = tempfile::tempdir().unwrap();
    // Coding always succeeds; the first re-check fails (a regression), later ones pass.
    write_script(
        &dir.path().join("code.sh"),
        "echo coded >> \"$CORRAL_PROJECT/coding-runs\"",
    );
    write_script(
        &dir.path().join("test.sh"),
        "if [ -e \"$CORRAL_PROJECT/tested-once\" ]; then exit 0; fi; touch \"$CORRAL_PROJECT/tested-once\"; exit 1",
    );
    let toml = "[scheduler]\nmax_agents = 1\ntesting_agents = 1\n\n\
                [profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/code.sh\"]\n\n\
                [profiles.testing]\nrole = \"testing\"\ncommand = [\"sh\", \"{project}/test.sh\"]\n";
    let (h, _running) = start(dir.path(), toml, &[feature(1, "one", &[])]);
    wait_for_async(
        "coded twice: once, then again after the failed re-check",
        LIMIT,
        || {
            // The file and the snapshot move separately: wait for both.
            let n = std::fs::read_to_string(dir.path().join("coding-runs"))
                .map_or(0, |t| t.lines().count());
            let seen = snap(&h).runs.iter().any(|r| {
                r.role == corral::api::Role::Testing && r.state == RunState::Failed { code: 1 }
            });
            (n >= 2 && seen).then_some(())
        },
    )
    .await;
    let s = snap(&h);
    let testing: Vec<_> = s
        .runs
        .iter()
        .filter(|r| r.role == corral::api::Role::Testing)
        .collect();
    assert!(
        testing
            .iter()
            .any(|r| r.state == RunState::Failed { code: 1 }),
        "the regression was seen"
    );
    h.send(corral::api::Command::Shutdown);
}

#[test]
fn every_example_profile_parses() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/profiles");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let config = Config::parse(&text, &path.display().to_string());
        assert!(config.is_ok(), "{}: {:?}", path.display(), config.err());
        seen += 1;
    }
    assert!(seen >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_can_name_its_own_model_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    write_script(&dir.path().join("agent.sh"), RECORD_ARGS);
    let toml = "[scheduler]\nmax_agents = 2\n\n\
                [profiles.coding]\nrole = \"coding\"\nmodel = \"base-model\"\n\
                command = [\"sh\", \"{project}/agent.sh\", \"plain\", \"--model\", \"{model}\"]\n\n\
                [profiles.special]\nrole = \"coding\"\n\
                command = [\"sh\", \"{project}/agent.sh\", \"special\", \"--model\", \"{model}\"]\n";
    std::fs::write(dir.path().join("corral.toml"), toml).unwrap();
    Store::open(dir.path()).unwrap();
    let backlog = r#"[
        {"id": 1, "name": "one", "category": "", "description": "", "steps": []},
        {"id": 2, "name": "two", "category": "", "description": "", "steps": [],
         "model": "own-model", "profile": "special"}
    ]"#;
    std::fs::write(dir.path().join("backlog.json"), backlog).unwrap();
    let imported = std::process::Command::new(env!("CARGO_BIN_EXE_corral"))
        .arg("--project")
        .arg(dir.path())
        .args(["import", "backlog.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        imported.status.success(),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
    let (h, _running) = start(dir.path(), toml, &[]);
    until_status(&h, 1, FeatureStatus::Passing).await;
    until_status(&h, 2, FeatureStatus::Passing).await;
    let args_of = |feature: i64| {
        let run = snap(&h)
            .runs
            .into_iter()
            .find(|r| r.feature == Some(FeatureId(feature)))
            .unwrap();
        std::fs::read_to_string(dir.path().join(format!("args-{}.txt", run.id))).unwrap()
    };
    assert_eq!(args_of(1), "plain\n--model\nbase-model\n");
    assert_eq!(args_of(2), "special\n--model\nown-model\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdin_null_gives_the_agent_end_of_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    write_script(
        &dir.path().join("agent.sh"),
        "if read line; then exit 1; else exit 0; fi",
    );
    let toml = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\nstdin = \"null\"\n";
    let (h, _running) = start(dir.path(), toml, &[feature(1, "one", &[])]);
    until_status(&h, 1, FeatureStatus::Passing).await;
}
