//! The project's control socket, `.corral/control.sock`: other corral processes (the backlog
//! commands, an agent reporting its result) tell the running owner about changes by sending
//! [`Command`]s as JSON, one per line.
//!
//! Only this user may connect: the socket is 0600 inside the 0700 state directory, and each
//! connecting peer's uid is checked. What one client can cost corral is bounded (see `serve`):
//! a request's size, connections per peer and in total, idle time; running out of file
//! descriptors makes the accept loop wait, never spin.

mod place;
mod serve;
mod session;

pub use place::{reach, socket_path};

pub use session::{WRITE_PATIENCE, WRITE_PATIENCE_ENV, write_patience};

use crate::api::Command;
use crate::core::Input;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long [`send`] keeps trying while the owner is too busy to take the connection.
const SEND_PATIENCE: Duration = Duration::from_secs(10);

/// Sends `command` to the corral that owns `project`, if one runs. Returns whether it was
/// delivered; nobody listening is not an error (the change is in the database either way).
/// An owner too busy to take the connection at once (its queue of connections full) is tried
/// again for a while rather than given up at once.
pub fn send(project: &Path, command: &Command) -> bool {
    let Ok(mut line) = serde_json::to_string(command) else {
        return false;
    };
    line.push('\n');
    let path = reach(project);
    let deadline = Instant::now() + SEND_PATIENCE;
    let mut pause = Duration::from_millis(5);
    loop {
        match try_send(&path, line.as_bytes()) {
            Ok(()) => return true,
            Err(e) if busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(e) => {
                if busy(&e) {
                    log::warn!("control socket: the owner stayed too busy to take {line:?}");
                }
                return false;
            }
        }
    }
}

/// Whether a failed send may succeed when tried again: the listener's queue was full, or
/// this process (or the system) was short of something for a moment.
fn busy(e: &std::io::Error) -> bool {
    use nix::libc::{EAGAIN, EMFILE, ENFILE, ENOBUFS, ENOMEM};
    matches!(
        e.raw_os_error(),
        Some(EAGAIN | EMFILE | ENFILE | ENOBUFS | ENOMEM)
    ) || e.kind() == std::io::ErrorKind::WouldBlock
}

/// One non-blocking connect (a full queue is `EAGAIN` at once instead of a wait with no end),
/// then a blocking write with a timeout.
fn try_send(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, UnixAddr, connect, socket};
    use std::io::Write;
    let fd = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    let addr = UnixAddr::new(path)?;
    connect(std::os::fd::AsRawFd::as_raw_fd(&fd), &addr)?;
    let mut stream = std::os::unix::net::UnixStream::from(fd);
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(bytes)
}

/// The core's answers to asked commands (`Input::Asked`) by ticket: `None` done,
/// `Some(why)` refused. Each is taken by the request waiting on it.
pub type Answers = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, Option<String>>>>;

/// What the socket server needs of the runtime to answer clients. Cheap to clone.
#[derive(Clone)]
pub struct Served {
    pub(crate) tx: mpsc::UnboundedSender<Input>,
    pub(crate) snapshots: tokio::sync::watch::Receiver<crate::api::Snapshot>,
    pub(crate) logs: super::capture::LogHub,
    /// The latest [`Input::Asked`] ticket the supervisor has answered and published after.
    pub(crate) passed: tokio::sync::watch::Receiver<u64>,
    /// The last ticket handed out.
    pub(crate) marks: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// When this daemon started (ms since the epoch).
    pub(crate) started_at_ms: i64,
    /// The project's database, for on-demand reads (a feature's detail).
    pub(crate) db: PathBuf,
    /// Protocol clients connected now.
    pub(crate) clients: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Where the supervisor leaves the core's answers to asked commands.
    pub(crate) answers: Answers,
    /// A client that takes no bytes for this long is dropped ([`session::write_patience`]).
    pub(crate) write_patience: Duration,
}

/// The socket being listened on; listening stops when this is dropped.
pub struct Listening {
    /// What it serves with, to listen again after the socket file was deleted.
    pub served: Served,
    task: tokio::task::JoinHandle<()>,
    path: PathBuf,
    /// (device, inode) of the socket file, to notice it deleted or replaced.
    id: Option<(u64, u64)>,
}

impl Listening {
    /// Whether the socket file is no longer the one listened on (deleted with `.corral/`).
    pub fn gone(&self) -> bool {
        self.id.is_none() || file_id(&self.path) != self.id
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Listens until the returned handle is dropped, feeding each well-formed command in as an
/// input and answering protocol clients. Call only while holding the project lock (the old
/// socket file, if any, is ours to replace).
pub fn listen(project: &Path, served: Served) -> std::io::Result<Listening> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(project);
    place::ensure_private_parent(&path)?;
    // Bound under a temporary name and made 0600 before it takes the real one, so there is
    // no moment at which the socket is open to anyone the directory lets through.
    let fresh = path.with_extension(format!("sock.{}", std::process::id()));
    let _ = std::fs::remove_file(&fresh);
    let listener = tokio::net::UnixListener::bind(&fresh)?;
    let placed = std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&fresh, &path));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&fresh);
        return Err(e);
    }
    let id = file_id(&path);
    let task = tokio::spawn(serve::accept_loop(listener, served.clone()));
    Ok(Listening {
        served,
        task,
        path,
        id,
    })
}
