//! The last-resort stop a panic hook performs. In a test binary of its own: it stops every
//! group this process registered, which would hit other tests' agents if they shared it.

mod common;

use common::{feature, group_members, start_project, wait_for_async, write_script};
use corral::api::{Command, FeatureId};
use corral::runtime;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panic_path_stops_every_live_group_without_the_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    write_script(
        &dir.path().join("agent.sh"),
        "trap '' TERM; sleep 300 & wait",
    );
    let toml = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n";
    let (h, _task) = start_project(dir.path(), toml, &[feature(1, &[])]);
    let snap = || h.snapshots().borrow().clone();
    let run = wait_for_async("the agent tree up", LIMIT, || {
        let r = snap()
            .runs
            .into_iter()
            .find(|r| r.feature == Some(FeatureId(1)))?;
        (group_members(r.pid?).len() == 2).then_some(r)
    })
    .await;
    let pgid = run.pid.unwrap();
    h.send(Command::Pause { run: run.id });
    wait_for_async("paused", LIMIT, || {
        group_members(pgid)
            .iter()
            .all(|(_, s)| *s == 'T')
            .then_some(())
    })
    .await;
    // What a panic hook calls: no async code, no supervisor.
    tokio::task::spawn_blocking(|| {
        runtime::process::stop_all_groups_now(Duration::from_millis(300))
    })
    .await
    .unwrap();
    wait_for_async("the TERM-ignoring, paused group is gone", LIMIT, || {
        group_members(pgid).is_empty().then_some(())
    })
    .await;
}
