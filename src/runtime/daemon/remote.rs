//! The dashboard's side of an attached daemon, async: a subscription turned back into what the
//! dashboard reads in-process (a watch of snapshots, a stream of events), and requests for a
//! run's tail and for commands.

use crate::api::{
    ClientMessage, DaemonMessage, Event, Hello, LogLine, Outcome, Request, RunId, Snapshot, View,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// The requests waiting for their reply; `None` once the connection has closed, so that a
/// request made after that fails at once instead of waiting for ever.
type Pending = Arc<Mutex<Option<HashMap<u64, oneshot::Sender<Outcome>>>>>;

/// One attached dashboard's connection. Cheap to clone; the connection ends when the daemon
/// goes (the snapshot watch then closes) or every clone is dropped.
#[derive(Clone)]
pub struct Remote {
    out: mpsc::UnboundedSender<ClientMessage>,
    pending: Pending,
    next_id: Arc<std::sync::atomic::AtomicU64>,
    snapshots: watch::Receiver<Snapshot>,
    events: broadcast::Sender<Event>,
    /// The daemon's hello.
    pub daemon: Hello,
}

impl Remote {
    /// Connects, exchanges hellos, subscribes, and waits for the first snapshot.
    pub async fn attach(project: &std::path::Path) -> Result<Remote, super::ClientError> {
        use super::ClientError;
        let path = crate::runtime::control::reach(project);
        let stream = UnixStream::connect(&path)
            .await
            .map_err(|source| ClientError::Connect {
                path: path.display().to_string(),
                source,
            })?;
        let (rd, mut wr) = stream.into_split();
        let mut lines = BufReader::new(rd).lines();
        let ours = Hello::ours();
        write(&mut wr, &ClientMessage::Hello(ours.clone())).await?;
        let first = lines.next_line().await?.ok_or(ClientError::Closed)?;
        let daemon = match serde_json::from_str::<DaemonMessage>(&first) {
            Ok(DaemonMessage::Hello(h)) if h.protocol == ours.protocol => h,
            Ok(DaemonMessage::Hello(h)) => {
                return Err(ClientError::Mismatch(
                    crate::api::protocol::mismatch_message(&h, ours.protocol),
                ));
            }
            _ => return Err(ClientError::Garbled(first)),
        };
        let subscribe = ClientMessage::Request {
            id: 0,
            request: Request::Subscribe {
                follow: Vec::new(),
                backlog: 0,
            },
        };
        write(&mut wr, &subscribe).await?;
        // The reply, then the first snapshot.
        let snapshot = loop {
            let line = lines.next_line().await?.ok_or(ClientError::Closed)?;
            if let Ok(DaemonMessage::Snapshot { snapshot }) = serde_json::from_str(&line) {
                break *snapshot;
            }
        };
        let (snap_tx, snapshots) = watch::channel(snapshot);
        let (events, _) = broadcast::channel(4096);
        let (out, mut outgoing) = mpsc::unbounded_channel::<ClientMessage>();
        let pending: Pending = Arc::new(Mutex::new(Some(HashMap::new())));
        tokio::spawn(async move {
            while let Some(msg) = outgoing.recv().await {
                if write(&mut wr, &msg).await.is_err() {
                    return;
                }
            }
        });
        let answers = pending.clone();
        let heard = events.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<DaemonMessage>(&line) {
                    Ok(DaemonMessage::Snapshot { snapshot }) => {
                        let _ = snap_tx.send(*snapshot);
                    }
                    Ok(DaemonMessage::Lines { lines, .. }) => {
                        let _ = heard.send(Event::Log(lines));
                    }
                    Ok(DaemonMessage::Event { event }) => {
                        let _ = heard.send(event);
                    }
                    Ok(DaemonMessage::Reply { id, outcome }) => {
                        let waiting = answers
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .as_mut()
                            .and_then(|m| m.remove(&id));
                        if let Some(tx) = waiting {
                            let _ = tx.send(outcome);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => log::warn!("daemon sent something unreadable: {e}"),
                }
            }
            // No reply comes any more: every waiting request fails now, and later ones at once.
            answers.lock().unwrap_or_else(|p| p.into_inner()).take();
            // Dropping `snap_tx` tells the dashboard the daemon is gone.
        });
        Ok(Remote {
            out,
            pending,
            next_id: Arc::new(1.into()),
            snapshots,
            events,
            daemon,
        })
    }

    /// Sends `request`; its reply arrives on the returned channel.
    fn ask(&self, request: Request) -> oneshot::Receiver<Outcome> {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        // Closed: `tx` is dropped here and the caller hears so at once.
        if let Some(waiting) = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            waiting.insert(id, tx);
        }
        let _ = self.out.send(ClientMessage::Request { id, request });
        rx
    }

    /// A receiver that always holds the daemon's newest snapshot; it closes when the
    /// daemon goes.
    pub fn snapshots(&self) -> watch::Receiver<Snapshot> {
        self.snapshots.clone()
    }

    /// Follows `run` (its new lines stream from now on) and fetches its latest `max` lines.
    pub async fn follow(&self, run: Option<RunId>, max: usize) -> Vec<LogLine> {
        let follow = run.into_iter().collect();
        // Subscribing again replaces what is followed; the snapshot comes again too.
        // Its reply says nothing this needs.
        drop(self.ask(Request::Subscribe { follow, backlog: 0 }));
        let Some(run) = run else {
            return Vec::new();
        };
        match self.ask(Request::Log { run, lines: max }).await {
            Ok(Outcome::Done {
                view: Some(View::Lines { lines }),
            }) => lines,
            _ => Vec::new(),
        }
    }
}

/// The socket transport.
impl crate::api::Connection for Remote {
    fn request(&self, request: Request) -> futures::future::BoxFuture<'static, Outcome> {
        let reply = self.ask(request);
        Box::pin(async move {
            reply.await.unwrap_or_else(|_| {
                Outcome::refused(
                    crate::api::RefusalKind::Invalid,
                    "the connection to the daemon is closed",
                )
            })
        })
    }

    fn snapshots(&self) -> watch::Receiver<Snapshot> {
        Remote::snapshots(self)
    }

    fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    fn follow(
        &self,
        run: Option<RunId>,
        backlog: usize,
    ) -> futures::future::BoxFuture<'static, Vec<LogLine>> {
        let this = self.clone();
        Box::pin(async move { Remote::follow(&this, run, backlog).await })
    }

    fn is_remote(&self) -> bool {
        true
    }
}

async fn write(
    wr: &mut tokio::net::unix::OwnedWriteHalf,
    msg: &ClientMessage,
) -> Result<(), super::ClientError> {
    let mut line =
        serde_json::to_vec(msg).map_err(|e| super::ClientError::Garbled(e.to_string()))?;
    line.push(b'\n');
    wr.write_all(&line).await?;
    Ok(())
}
