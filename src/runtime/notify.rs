//! Notifications leave the daemon two ways: as an [`Event::Notify`] every attached dashboard
//! turns into a terminal notification, and through `[notify] command`, run with the details
//! in its environment so a phone or a chat can be reached with no dashboard attached. The
//! same notification is sent once (deduplicated for [`DEDUP_MS`]) and at most
//! [`BURST`] go out per [`WINDOW_MS`], so a flapping run cannot flood anyone.

use crate::api::Event;
use crate::core::Notification;
use std::collections::{HashMap, VecDeque};

/// The same notification again within this long is dropped.
pub const DEDUP_MS: i64 = 10 * 60_000;
/// At most [`BURST`] notifications in this long.
pub const WINDOW_MS: i64 = 60_000;
pub const BURST: usize = 5;

/// Decides which notifications go out, and runs the command.
pub struct Notifier {
    command: Option<Vec<String>>,
    /// When each (event, run, feature, body) last went out.
    sent: HashMap<(String, Option<i64>, Option<i64>, String), i64>,
    recent: VecDeque<i64>,
}

impl Notifier {
    pub fn new(command: Option<Vec<String>>) -> Notifier {
        Notifier {
            command,
            sent: HashMap::new(),
            recent: VecDeque::new(),
        }
    }

    /// Whether `n` goes out at `now_ms` (and, if so, it counts as sent).
    pub fn admit(&mut self, n: &Notification, now_ms: i64) -> bool {
        let key = (
            n.event.clone(),
            n.run.map(|r| r.0),
            n.feature.map(|f| f.0),
            n.body.clone(),
        );
        if self
            .sent
            .get(&key)
            .is_some_and(|&at| now_ms - at < DEDUP_MS)
        {
            return false;
        }
        while self
            .recent
            .front()
            .is_some_and(|&at| now_ms - at >= WINDOW_MS)
        {
            self.recent.pop_front();
        }
        if self.recent.len() >= BURST {
            return false;
        }
        self.recent.push_back(now_ms);
        self.sent.retain(|_, at| now_ms - *at < DEDUP_MS);
        self.sent.insert(key, now_ms);
        true
    }

    /// Runs `[notify] command` for `n`, off the loop; its output is dropped and a failure
    /// only logged (a notification must never hold the agents up).
    pub fn run_command(&self, n: &Notification, project: &std::path::Path) {
        let Some(argv) = self.command.clone().filter(|a| !a.is_empty()) else {
            return;
        };
        let mut cmd = tokio::process::Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(project)
            .env("CORRAL_EVENT", &n.event)
            .env("CORRAL_TITLE", &n.title)
            .env("CORRAL_BODY", &n.body)
            .env(
                "CORRAL_RUN_ID",
                n.run.map_or(String::new(), |r| r.0.to_string()),
            )
            .env(
                "CORRAL_FEATURE_ID",
                n.feature.map_or(String::new(), |f| f.0.to_string()),
            )
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(false);
        let program = argv[0].clone();
        tokio::spawn(async move {
            match cmd.status().await {
                Ok(s) if s.success() => {}
                Ok(s) => log::warn!("[notify] command {program}: {s}"),
                Err(e) => log::warn!("[notify] command {program}: {e}"),
            }
        });
    }
}

impl super::supervisor::Supervisor {
    /// Sends a notification the core asked for, unless it repeats or floods.
    pub(super) fn notify(&mut self, n: Notification) {
        if !self.notifier.admit(&n, super::now_ms()) {
            return;
        }
        log::info!("notify {}: {} — {}", n.event, n.title, n.body);
        self.notifier.run_command(&n, &self.project);
        self.logs.announce(Event::Notify {
            kind: n.event,
            title: n.title,
            body: n.body,
            run: n.run,
            feature: n.feature,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::RunId;

    fn note(body: &str) -> Notification {
        Notification {
            event: "needs_input".into(),
            title: "run 1 needs you".into(),
            body: body.into(),
            run: Some(RunId(1)),
            feature: None,
        }
    }

    #[test]
    fn the_same_notification_goes_once_and_a_burst_is_capped() {
        let mut n = Notifier::new(None);
        assert!(n.admit(&note("a"), 0));
        assert!(!n.admit(&note("a"), 1_000), "deduplicated");
        assert!(n.admit(&note("a"), DEDUP_MS), "again after the window");
        for i in 0..4 {
            assert!(n.admit(&note(&format!("b{i}")), DEDUP_MS + 1 + i));
        }
        assert!(!n.admit(&note("c"), DEDUP_MS + 10), "rate-limited");
        assert!(n.admit(&note("c"), DEDUP_MS + WINDOW_MS + 1));
    }
}
