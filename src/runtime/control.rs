//! The project's control socket, `.corral/control.sock`: other corral processes (the backlog
//! commands, an agent reporting its result) tell the running owner about changes by sending
//! [`Command`]s as JSON, one per line. The state directory is 0700, so only its user connects.

use crate::api::Command;
use crate::core::Input;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// Where the owner of `project` listens.
pub fn socket_path(project: &Path) -> PathBuf {
    super::store::state_dir(project).join("control.sock")
}

/// Sends `command` to the corral that owns `project`, if one runs. Returns whether it was
/// delivered; nobody listening is not an error (the change is in the database either way).
pub fn send(project: &Path, command: &Command) -> bool {
    use std::io::Write;
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket_path(project)) else {
        return false;
    };
    let Ok(mut line) = serde_json::to_string(command) else {
        return false;
    };
    line.push('\n');
    stream.write_all(line.as_bytes()).is_ok()
}

/// The socket being listened on; listening stops when this is dropped.
pub struct Listening {
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
/// input. Call only while holding the project lock (the old socket file, if any, is ours to
/// replace).
pub fn listen(project: &Path, tx: mpsc::UnboundedSender<Input>) -> std::io::Result<Listening> {
    let path = socket_path(project);
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    let id = file_id(&path);
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut lines = BufReader::new(stream).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    match serde_json::from_str::<Command>(&line) {
                        Ok(cmd) => {
                            if tx.send(Input::Command(cmd)).is_err() {
                                return;
                            }
                        }
                        Err(e) => log::warn!("control socket: ignored a bad command ({e}): {line}"),
                    }
                }
            });
        }
    });
    Ok(Listening { task, path, id })
}
