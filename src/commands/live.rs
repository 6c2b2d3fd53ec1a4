//! Where the read commands (`status`, `job list`, `feature list`) get the project's state:
//! from the corral that runs the project when one does (its core's live state: the queue in
//! the order its scheduler starts it, why it is paused or held), else from the database,
//! opened read-only (no migration, nothing written).

use super::backlog::{BacklogCommandError, Result};
use crate::api::{Outcome, Request, Snapshot, View};
use crate::runtime::daemon::{self, Client};
use crate::runtime::store::{Store, state_dir};
use std::path::Path;

/// What the running corral said, when one runs and answers.
pub(super) struct Live {
    pub pid: u32,
    pub snapshot: Snapshot,
}

/// The running corral's current snapshot; `None` when none runs or it does not answer (one
/// stopping, or too old to know the request), in which case the store is what there is.
pub(super) fn ask(project: &Path) -> Option<Live> {
    daemon::running(project)?;
    let mut client = Client::connect(project).ok()?;
    match client.request(Request::Snapshot) {
        Ok(Outcome::Done {
            view: Some(View::Snapshot { snapshot }),
        }) => Some(Live {
            pid: client.daemon.pid,
            snapshot: *snapshot,
        }),
        Ok(other) => {
            log::debug!("the daemon answered a snapshot request with {other:?}");
            None
        }
        Err(e) => {
            log::debug!("asking the daemon for its snapshot: {e}");
            None
        }
    }
}

/// The project's database opened read-only; never creates one (that is `corral init`'s job).
pub(super) fn read_store(project: &Path) -> Result<Store> {
    let db = state_dir(project).join("corral.db");
    if !db.exists() {
        return Err(BacklogCommandError::NoState(project.display().to_string()));
    }
    Ok(Store::open_read_only(&db)?)
}

/// One line on the scheduler for people: who answers, and why nothing starts if nothing does.
pub(super) fn scheduler_line(live: Option<&Live>) -> String {
    match live {
        None => "no corral runs this project: this is the order its scheduler would start \
                 the queue in (`corral` or `corral run --headless` starts it)"
            .into(),
        Some(l) => match (&l.snapshot.held, l.snapshot.scheduler_paused) {
            (Some(why), _) => format!("scheduler held (corral pid {}): {why}", l.pid),
            (None, true) => format!(
                "scheduler paused (corral pid {}): nothing new starts until `corral scheduler \
                 resume`",
                l.pid
            ),
            (None, false) => format!("scheduler running (corral pid {})", l.pid),
        },
    }
}

/// The scheduler as JSON: `{"daemon": pid or null, "paused": …, "held": why or null}`.
pub(super) fn scheduler_json(live: Option<&Live>) -> serde_json::Value {
    serde_json::json!({
        "daemon": live.map(|l| l.pid),
        "paused": live.map(|l| l.snapshot.scheduler_paused),
        "held": live.and_then(|l| l.snapshot.held.clone()),
    })
}
