//! corral as a subreaper, in process: orphans its agents leave behind come back to it and
//! are reaped, while the exit statuses of children it did not adopt (here: this test's own,
//! as tokio's or a verify step's would be) stay theirs to collect.

mod common;

use common::{start_project, wait_for_async, write_script};
use corral::api::FeatureStatus;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// Zombie children of this process (ended, not yet reaped by anyone).
fn zombie_children() -> Vec<u32> {
    corral::runtime::reaper::children()
        .into_iter()
        .filter(|c| c.state == 'Z')
        .map(|c| c.pid)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_reaped_and_other_childrens_statuses_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    // Twenty short-lived orphans (double forks), some of them in sessions of their own.
    write_script(
        &dir.path().join("agent.sh"),
        "for i in 1 2 3 4 5 6 7 8 9 10; do\n\
           sh -c '(sleep 0.1 &)'\n\
           setsid -f sleep 0.1\n\
         done\n\
         sleep 1",
    );
    let toml = "[profiles.coding]\nrole = \"coding\"\ncommand = [\"sh\", \"{project}/agent.sh\"]\n";
    let (handle, supervisor) = start_project(dir.path(), toml, &[common::feature(1, &[])]);
    assert!(
        nix::sys::prctl::get_child_subreaper().unwrap(),
        "the runtime made this process a subreaper"
    );
    // Meanwhile this process runs children of its own and collects every status itself.
    let own = tokio::task::spawn_blocking(|| {
        (0..40)
            .map(|_| {
                std::process::Command::new("sh")
                    .args(["-c", "sleep 0.05; exit 7"])
                    .status()
                    .map(|s| s.code())
            })
            .collect::<Vec<_>>()
    });
    wait_for_async("the feature to pass", LIMIT, || {
        let snap = handle.snapshots().borrow().clone();
        (snap.features[0].status == FeatureStatus::Passing).then_some(())
    })
    .await;
    for status in own.await.unwrap() {
        assert_eq!(
            status.unwrap(),
            Some(7),
            "the reaper took a status not its own"
        );
    }
    wait_for_async("every adopted orphan reaped", LIMIT, || {
        zombie_children().is_empty().then_some(())
    })
    .await;
    handle.send(corral::api::Command::Shutdown);
    supervisor.await.unwrap();
}
