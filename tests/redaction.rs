//! No secret an agent prints reaches the log file, the ring, a subscriber or a rendered frame.

mod common;

use common::{feature, start_project, wait_for_async, write_script};
use corral::api::{Command, Event, FeatureId, RunState};
use corral::ui::{app::App, render, theme::Theme};
use ratatui::{Terminal, backend::TestBackend};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// Secret-shaped samples, assembled at run time so the repository holds no literal keys.
fn samples() -> Vec<(String, String)> {
    let alnum = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0";
    let upper = "ABCDEFGHIJKLMNOP";
    let secret = |prefix: &str, body: &str| (format!("{prefix}{body}"), body.to_string());
    vec![
        secret("export ANTHROPIC_API_KEY=sk-ant-api03-", &alnum[..32]),
        secret("OPENAI key sk-proj-", &alnum[..30]),
        secret("git remote https://x-access-token:ghs_", &alnum[..36]),
        secret("token ghp_", &alnum[..36]),
        secret("github_pat_11ABCDEFG0", &alnum[..30]),
        secret("aws id AKIA", upper),
        secret("aws_secret_access_key = ", &alnum[..40]),
        secret("curl -H 'Authorization: Bearer ", &alnum[..28]),
        secret("db password=", "hunter2hunter2"),
        secret("SECRET_KEY: ", "s3cr3t-v4lue-xyz"),
        // From corral.toml's [redact] patterns.
        secret("deploy with ", "acme_q9w8e7r6t5y4"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_file_the_ring_the_events_or_the_screen() {
    let dir = tempfile::tempdir().unwrap();
    let samples = samples();
    let mut script = String::new();
    for (i, (line, _)) in samples.iter().enumerate() {
        let to = if i % 2 == 0 { "" } else { " >&2" };
        script.push_str(&format!(
            "printf '%s\\n' '{}'{to}\n",
            line.replace('\'', "'\\''")
        ));
    }
    script.push_str("read answer\n");
    write_script(&dir.path().join("agent.sh"), &script);
    let toml = "[redact]\npatterns = [\"acme_[a-z0-9]{12}\"]\n\n[profiles.coding]\nrole = \"coding\"\n\
                command = [\"sh\", \"{project}/agent.sh\"]\n";
    let (h, _task) = start_project(dir.path(), toml, &[feature(1, &[])]);
    let mut events = h.subscribe();
    let snap = || h.snapshots().borrow().clone();
    let run = wait_for_async("every line captured", LIMIT, || {
        let run = snap()
            .runs
            .into_iter()
            .find(|r| r.feature == Some(FeatureId(1)))?;
        (h.log_tail(run.id, 100).len() == samples.len()).then_some(run)
    })
    .await;
    // What a person types is shown in the log too: it is redacted the same way.
    h.send(Command::SendInput {
        run: run.id,
        text: format!("password={}", "typed-secret-123"),
    });
    wait_for_async("the run to end", LIMIT, || {
        snap()
            .runs
            .iter()
            .find(|r| r.id == run.id)
            .filter(|r| r.state == RunState::Exited)
            .map(|_| ())
    })
    .await;

    let bodies: Vec<&str> = samples
        .iter()
        .map(|(_, b)| b.as_str())
        .chain(["typed-secret-123"])
        .collect();
    let leaks = |place: &str, text: &str| {
        for body in &bodies {
            assert!(
                !text.contains(body),
                "{place} holds a secret {body:?}:\n{text}"
            );
        }
    };
    let ring: Vec<String> = h
        .log_tail(run.id, 100)
        .into_iter()
        .map(|l| l.text)
        .collect();
    let ring_text = ring.join("\n");
    leaks("the ring", &ring_text);
    assert_eq!(
        ring_text.matches("[REDACTED]").count(),
        samples.len() + 1,
        "{ring_text}"
    );

    let file = wait_for_async("the log file closed", LIMIT, || {
        std::fs::read_to_string(dir.path().join(format!(".corral/runs/{}.log", run.id)))
            .ok()
            .filter(|t| t.lines().count() > samples.len())
    })
    .await;
    leaks("the log file", &file);

    let mut seen = String::new();
    while let Ok(ev) = events.try_recv() {
        if let Event::Log(lines) = ev {
            for line in lines {
                seen.push_str(&line.text);
                seen.push('\n');
            }
        }
    }
    assert!(!seen.is_empty());
    leaks("the event stream", &seen);

    let mut app = App::new(snap());
    app.show_log(Some(run.id), h.log_tail(run.id, 100));
    let mut term = Terminal::new(TestBackend::new(200, 50)).unwrap();
    term.draw(|f| render::draw(f, &app, &Theme::default()))
        .unwrap();
    let screen = term.backend().to_string();
    leaks("a rendered frame", &screen);
    assert!(screen.contains("[REDACTED]"));
}
