//! One client speaking the protocol (`api::protocol`) after its hello: requests answered in
//! any order as they finish, and for a subscriber the snapshots (latest wins), the events and
//! the followed runs' output. A client that reads nothing for [`WRITE_PATIENCE`] is dropped;
//! one that reads slowly misses events (and is told how many) but never holds up anyone else.

use super::Served;
use super::serve::{IDLE, MAX_REQUEST};
use crate::api::{ClientMessage, DaemonMessage, Hello, Outcome, RefusalKind, Request, RunId};
use std::collections::HashSet;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, mpsc};

/// A client that takes no bytes for this long is dropped.
pub const WRITE_PATIENCE: Duration = Duration::from_secs(30);
/// Set (in milliseconds) for a daemon a test starts, to drop a client that stops reading
/// sooner than [`WRITE_PATIENCE`]. Not a setting for people.
pub const WRITE_PATIENCE_ENV: &str = "CORRAL_TEST_WRITE_PATIENCE_MS";

/// How long this daemon waits for a client to take what it is sent.
pub fn write_patience() -> Duration {
    std::env::var(WRITE_PATIENCE_ENV)
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(WRITE_PATIENCE, Duration::from_millis)
}
/// Requests of one client being worked on at once; more wait to be read.
const IN_FLIGHT: usize = 16;

/// Reads lines of at most [`MAX_REQUEST`] bytes; cancel-safe (bytes are kept between calls).
struct Lines {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
}

impl Lines {
    /// The next line, `None` at the end, or an error for a line too long.
    async fn next(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.buf) {
                let line = self.buf[..end].to_vec();
                self.buf.drain(..=end);
                return Ok(Some(line));
            }
            if self.buf.len() > MAX_REQUEST {
                return Err(std::io::Error::other("request too long"));
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.rd.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Counts a client as attached for as long as it lives.
struct Attached(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Attached {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn send(wr: &mut OwnedWriteHalf, msg: &DaemonMessage, patience: Duration) -> bool {
    let Ok(mut line) = serde_json::to_vec(msg) else {
        return false;
    };
    line.push(b'\n');
    matches!(
        tokio::time::timeout(patience, wr.write_all(&line)).await,
        Ok(Ok(()))
    )
}

/// Serves a client whose first line was `hello`; `rest` is what it sent after that line.
pub(super) async fn converse(stream: UnixStream, hello: Hello, rest: Vec<u8>, served: Served) {
    use std::sync::atomic::Ordering;
    served.clients.fetch_add(1, Ordering::SeqCst);
    let _attached = Attached(served.clients.clone());
    let (rd, mut wr) = stream.into_split();
    let patience = served.write_patience;
    let ours = Hello::ours();
    if !send(&mut wr, &DaemonMessage::Hello(ours.clone()), patience).await {
        return;
    }
    if hello.protocol != ours.protocol {
        let message = crate::api::protocol::mismatch_message(&ours, hello.protocol);
        log::warn!(
            "control socket: refused a client (pid {}, version {}) speaking protocol {}",
            hello.pid,
            hello.version,
            hello.protocol
        );
        let _ = send(&mut wr, &DaemonMessage::Mismatch { message }, patience).await;
        return;
    }
    let mut lines = Lines { rd, buf: rest };
    let (reply_tx, mut replies) = mpsc::channel::<DaemonMessage>(IN_FLIGHT);
    // What a subscriber receives besides replies.
    let mut snapshots: Option<tokio::sync::watch::Receiver<crate::api::Snapshot>> = None;
    let mut events: Option<broadcast::Receiver<crate::api::Event>> = None;
    let mut followed: HashSet<RunId> = HashSet::new();
    let mut in_flight = 0usize;
    let mut quiet_since = tokio::time::Instant::now();
    loop {
        // A client with nothing asked and nothing subscribed must speak within IDLE.
        let idle = snapshots.is_none() && in_flight == 0;
        let wake = quiet_since + IDLE;
        let out = tokio::select! {
            line = lines.next(), if in_flight < IN_FLIGHT => {
                quiet_since = tokio::time::Instant::now();
                let Ok(Some(line)) = line else { return };
                match serde_json::from_slice::<ClientMessage>(&line) {
                    Ok(ClientMessage::Request { id, request: Request::Subscribe { follow, backlog } }) => {
                        let mut watching = served.snapshots.clone();
                        watching.mark_changed();
                        let hearing = served.logs.subscribe();
                        if !send(&mut wr, &reply(id, Outcome::Done { view: None }), patience).await {
                            return;
                        }
                        for run in &follow {
                            let tail = served.logs.clone();
                            let run = *run;
                            let lines = tokio::task::spawn_blocking(move || tail.tail(run, backlog))
                                .await
                                .unwrap_or_default();
                            if !lines.is_empty()
                                && !send(&mut wr, &DaemonMessage::Lines { run, lines }, patience).await
                            {
                                return;
                            }
                        }
                        snapshots = Some(watching);
                        events = Some(hearing);
                        followed = follow.into_iter().collect();
                        continue;
                    }
                    Ok(ClientMessage::Request { id, request }) => {
                        in_flight += 1;
                        let served = served.clone();
                        let reply_tx = reply_tx.clone();
                        tokio::spawn(async move {
                            let outcome = super::super::daemon::answer(&served, request).await;
                            let _ = reply_tx.send(reply(id, outcome)).await;
                        });
                        continue;
                    }
                    Ok(ClientMessage::Hello(_)) => continue,
                    Err(e) => {
                        log::warn!("control socket: a bad message ({e})");
                        // No id to answer to when the line is not a request at all.
                        let id = serde_json::from_slice::<serde_json::Value>(&line)
                            .ok()
                            .and_then(|v| v.get("id").and_then(serde_json::Value::as_u64))
                            .unwrap_or(0);
                        reply(id, Outcome::refused(RefusalKind::Invalid, format!("not a request this daemon understands: {e}")))
                    }
                }
            }
            Some(msg) = replies.recv() => {
                in_flight -= 1;
                quiet_since = tokio::time::Instant::now();
                msg
            }
            changed = async {
                match snapshots.as_mut() {
                    Some(w) => w.changed().await,
                    None => std::future::pending().await,
                }
            }, if snapshots.is_some() => {
                if changed.is_err() { return; }
                let Some(watching) = snapshots.as_mut() else { return };
                let snapshot = Box::new(watching.borrow_and_update().clone());
                DaemonMessage::Snapshot { snapshot }
            }
            ev = async {
                match events.as_mut() {
                    Some(e) => e.recv().await,
                    None => std::future::pending().await,
                }
            }, if events.is_some() => {
                match ev {
                    Ok(crate::api::Event::Log(batch)) => {
                        let Some(run) = batch.first().map(|l| l.run) else { continue };
                        if !followed.contains(&run) { continue; }
                        DaemonMessage::Lines { run, lines: batch }
                    }
                    Ok(event) => DaemonMessage::Event { event },
                    Err(broadcast::error::RecvError::Lagged(count)) => DaemonMessage::Missed { count },
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
            () = tokio::time::sleep_until(wake), if idle => return,
        };
        if !send(&mut wr, &out, patience).await {
            return;
        }
    }
}

fn reply(id: u64, outcome: Outcome) -> DaemonMessage {
    DaemonMessage::Reply { id, outcome }
}
