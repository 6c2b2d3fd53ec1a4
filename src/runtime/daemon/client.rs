//! The client side of the protocol over the project's socket, blocking: connect and exchange
//! hellos, send a request and wait for its reply, read what a subscription streams.

use crate::api::protocol::mismatch_message;
use crate::api::{ClientMessage, DaemonMessage, Hello, Outcome, Request};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no corral daemon answers on {path}: {source}")]
    Connect {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Client and daemon speak different protocols; the text says what to run.
    #[error("{0}")]
    Mismatch(String),
    #[error(
        "the corral daemon closed the connection (it is stopping, or it serves only the user \
         it runs as)"
    )]
    Closed,
    #[error("talking to the corral daemon: {0}")]
    Io(std::io::Error),
    #[error("the corral daemon sent something this corral does not understand: {0}")]
    Garbled(String),
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind::{BrokenPipe, ConnectionReset, UnexpectedEof};
        match e.kind() {
            BrokenPipe | ConnectionReset | UnexpectedEof => ClientError::Closed,
            _ => ClientError::Io(e),
        }
    }
}

/// One connection to the daemon, past the hellos.
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// The daemon's hello.
    pub daemon: Hello,
    next_id: u64,
}

/// How long a reply may take before the client gives up (a kill waits for the grace period).
const REPLY_PATIENCE: Duration = Duration::from_secs(90);

impl Client {
    /// Connects to the daemon of `project` and exchanges hellos.
    pub fn connect(project: &Path) -> Result<Client, ClientError> {
        Client::connect_as(project, Hello::ours())
    }

    /// As [`Client::connect`], saying `hello` (another protocol, in tests).
    pub fn connect_as(project: &Path, hello: Hello) -> Result<Client, ClientError> {
        let path = crate::runtime::control::reach(project);
        let stream = UnixStream::connect(&path).map_err(|source| ClientError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        stream.set_read_timeout(Some(REPLY_PATIENCE))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let writer = stream.try_clone()?;
        let mut client = Client {
            reader: BufReader::new(stream),
            writer,
            daemon: hello.clone(),
            next_id: 1,
        };
        client.send(&ClientMessage::Hello(hello.clone()))?;
        match client.receive()? {
            DaemonMessage::Hello(theirs) => {
                if theirs.protocol != hello.protocol {
                    return Err(ClientError::Mismatch(mismatch_message(
                        &theirs,
                        hello.protocol,
                    )));
                }
                client.daemon = theirs;
            }
            DaemonMessage::Mismatch { message } => return Err(ClientError::Mismatch(message)),
            other => return Err(ClientError::Garbled(format!("{other:?}"))),
        }
        Ok(client)
    }

    fn send(&mut self, msg: &ClientMessage) -> Result<(), ClientError> {
        let mut line = serde_json::to_vec(msg).map_err(|e| ClientError::Garbled(e.to_string()))?;
        line.push(b'\n');
        self.writer.write_all(&line)?;
        Ok(())
    }

    /// The next message the daemon sends.
    pub fn receive(&mut self) -> Result<DaemonMessage, ClientError> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(ClientError::Closed);
        }
        serde_json::from_str(&line).map_err(|e| ClientError::Garbled(e.to_string()))
    }

    /// Sends `request` and waits for its reply; other messages before it (a subscription's)
    /// are dropped.
    pub fn request(&mut self, request: Request) -> Result<Outcome, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&ClientMessage::Request { id, request })?;
        loop {
            match self.receive()? {
                DaemonMessage::Reply { id: got, outcome } if got == id => return Ok(outcome),
                DaemonMessage::Mismatch { message } => return Err(ClientError::Mismatch(message)),
                _ => {}
            }
        }
    }

    /// Stops waiting for a reader after `timeout` (`None`: wait for ever, as `--follow` does).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<(), ClientError> {
        self.reader.get_ref().set_read_timeout(timeout)?;
        Ok(())
    }
}
