//! The listening side of the control socket, with what one client may cost corral bounded:
//! at most [`MAX_REQUEST`] bytes a request (more is dropped, logged cut, and the connection
//! closed), [`MAX_PER_PEER`] connections per process and [`MAX_CONNECTIONS`] in all (beyond
//! that they wait in the kernel's queue), [`IDLE`] of silence, and a pause that grows when
//! accepting fails for want of file descriptors instead of a loop that spins.

use super::Served;
use crate::api::{ClientMessage, Command};
use crate::core::Input;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Semaphore, mpsc};

/// Longest request taken: commands are small (a large payload travels as a file).
pub const MAX_REQUEST: usize = 256 * 1024;
/// Connections served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 64;
/// Connections one process may hold open at once; more are closed as they come.
pub const MAX_PER_PEER: usize = 8;
/// A connection that sends nothing for this long is closed.
pub const IDLE: Duration = Duration::from_secs(10);
/// How much of a refused request the log shows.
const LOGGED: usize = 120;
/// How often a lasting failure to accept is logged.
const SAY_AGAIN: Duration = Duration::from_secs(60);
/// The longest pause between accepts while file descriptors are short.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Open connections per peer pid.
#[derive(Default)]
struct Peers(Mutex<HashMap<i32, usize>>);

/// One admitted connection; counted off its peer when dropped.
struct Admitted {
    peers: Arc<Peers>,
    pid: i32,
}

impl Peers {
    fn admit(self: &Arc<Self>, pid: i32) -> Option<Admitted> {
        let mut open = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(pid).or_default();
        if *count >= MAX_PER_PEER {
            return None;
        }
        *count += 1;
        Some(Admitted {
            peers: self.clone(),
            pid,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.peers.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.pid) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.pid);
            }
        }
    }
}

pub(super) async fn accept_loop(listener: UnixListener, served: Served) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let peers = Arc::new(Peers::default());
    let uid = nix::unistd::geteuid().as_raw();
    let mut backoff = Duration::ZERO;
    // When the last refusal was logged: a long shortage is said once a minute, not per try.
    let mut said: Option<std::time::Instant> = None;
    loop {
        // A slot first: beyond the limit, connections wait in the kernel's queue, costing
        // corral nothing.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                if said.is_none_or(|at| at.elapsed() >= SAY_AGAIN) {
                    log::warn!(
                        "control socket: accepting failed ({e}); waiting before trying again"
                    );
                    said = Some(std::time::Instant::now());
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_BACKOFF);
                drop(slot);
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        backoff = Duration::ZERO;
        let Ok(cred) = stream.peer_cred() else {
            continue;
        };
        if cred.uid() != uid {
            log::warn!(
                "control socket: refused a connection from uid {} (pid {:?}): only uid {uid} may connect",
                cred.uid(),
                cred.pid()
            );
            continue;
        }
        let pid = cred.pid().unwrap_or(0);
        let Some(admitted) = peers.admit(pid) else {
            // Closed at once: one process holding this many is flooding.
            continue;
        };
        let served = served.clone();
        tokio::spawn(async move {
            serve(stream, served).await;
            drop(admitted);
            drop(slot);
        });
    }
}

/// Reads commands, one per line, until the peer closes, goes quiet for [`IDLE`], or sends a
/// line longer than [`MAX_REQUEST`]. A first line that is a protocol hello hands the
/// connection over to a [`super::session`].
async fn serve(mut stream: UnixStream, served: Served) {
    let tx = served.tx.clone();
    let mut first = true;
    let mut line: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout(IDLE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => n,
        };
        let mut data = &chunk[..n];
        while let Some(end) = memchr::memchr(b'\n', data) {
            if line.len() + end > MAX_REQUEST {
                return refuse_long(&line, &data[..end]);
            }
            line.extend_from_slice(&data[..end]);
            if std::mem::take(&mut first)
                && let Ok(ClientMessage::Hello(hello)) = serde_json::from_slice(&line)
            {
                let rest = data[end + 1..].to_vec();
                return super::session::converse(stream, hello, rest, served).await;
            }
            if !take(&line, &tx) {
                return;
            }
            line.clear();
            data = &data[end + 1..];
        }
        if line.len() + data.len() > MAX_REQUEST {
            return refuse_long(&line, data);
        }
        line.extend_from_slice(data);
    }
}

/// Parses and forwards one request; false once the supervisor is gone.
fn take(line: &[u8], tx: &mpsc::UnboundedSender<Input>) -> bool {
    match serde_json::from_slice::<Command>(line) {
        Ok(cmd) => tx.send(Input::Command(cmd)).is_ok(),
        Err(e) => {
            log::warn!(
                "control socket: ignored a bad command ({e}): {}",
                shown(line, line.len())
            );
            true
        }
    }
}

fn refuse_long(start: &[u8], more: &[u8]) {
    let head: Vec<u8> = start
        .iter()
        .chain(more.iter())
        .take(LOGGED)
        .copied()
        .collect();
    log::warn!(
        "control socket: dropped a request longer than {MAX_REQUEST} bytes and closed its \
         connection: {}",
        shown(&head, MAX_REQUEST + 1)
    );
}

/// At most [`LOGGED`] bytes of `bytes`, escaped (no control character reaches the log), with
/// how much was left out when `total` is more.
fn shown(bytes: &[u8], total: usize) -> String {
    let cut = &bytes[..bytes.len().min(LOGGED)];
    let text = String::from_utf8_lossy(cut);
    let escaped: String = text.escape_debug().collect();
    if total > cut.len() {
        format!("\"{escaped}\"… (cut)")
    } else {
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_logged_of_a_request_is_short_and_escaped() {
        let long = vec![b'x'; 10_000];
        let s = shown(&long, long.len());
        assert!(s.len() < LOGGED + 20, "{s}");
        assert!(s.ends_with("(cut)"));
        let s = shown(b"\x1b]0;t\x07", 6);
        assert!(!s.contains('\x1b') && !s.contains('\x07'), "{s}");
    }

    #[test]
    fn a_peer_gets_at_most_its_share_and_gets_it_back() {
        let peers = Arc::new(Peers::default());
        let held: Vec<_> = (0..MAX_PER_PEER).map(|_| peers.admit(7).unwrap()).collect();
        assert!(peers.admit(7).is_none());
        assert!(peers.admit(8).is_some(), "another peer is not affected");
        drop(held);
        assert!(peers.admit(7).is_some());
    }
}
