//! `corral agent list|pause|resume|kill|restart|input|approve|deny|log`: requests to the running daemon, each printing
//! the state it left the run in. An unknown run, or an ended one for anything but `log`, is an
//! error naming it (exit code 2, as every error).

use super::daemon::DaemonCommandError;
use crate::api::{Answer, Command, DaemonMessage, LogLine, Outcome, Request, RunId, RunView, View};
use crate::cli::AgentCmd;
use crate::runtime::daemon::{Client, ClientError};
use std::path::Path;

pub(super) type Result<T> = std::result::Result<T, DaemonCommandError>;

pub fn run_agent_command(project: &Path, cmd: &AgentCmd) -> Result<()> {
    let mut client = connect(project)?;
    match cmd {
        AgentCmd::List { json } => {
            let runs = match ask(&mut client, Request::Agents)? {
                Some(View::Runs { runs }) => runs,
                _ => Vec::new(),
            };
            if *json {
                return Ok(super::output::print_json(&super::agent_steps::with_needs(
                    &runs,
                ))?);
            }
            if runs.is_empty() {
                return say("no agents");
            }
            let lines: Vec<String> = runs.iter().map(describe).collect();
            say(&lines.join("\n"))
        }
        AgentCmd::Pause { run, json } => {
            act(&mut client, Command::Pause { run: RunId(*run) }, *json)
        }
        AgentCmd::Resume { run, json } => {
            act(&mut client, Command::Resume { run: RunId(*run) }, *json)
        }
        AgentCmd::Kill { run, force, json } => act(
            &mut client,
            Command::Kill {
                run: RunId(*run),
                force: *force,
            },
            *json,
        ),
        AgentCmd::Restart { run, json } => {
            let run = RunId(*run);
            // The daemon also restarts an ended run's feature (the dashboard's `R`); here,
            // as for every agent command but `log`, an ended run is an error.
            let runs = match ask(&mut client, Request::Agents)? {
                Some(View::Runs { runs }) => runs,
                _ => Vec::new(),
            };
            match runs.iter().find(|r| r.id == run) {
                Some(r) if !r.state.is_live() => Err(DaemonCommandError::Refused(format!(
                    "run {run} has ended ({})",
                    crate::core::describe_end(r.state)
                ))),
                _ => act(&mut client, Command::Restart { run }, *json),
            }
        }
        AgentCmd::Input { run, text, json } => act(
            &mut client,
            Command::SendInput {
                run: RunId(*run),
                text: text.clone(),
            },
            *json,
        ),
        AgentCmd::Approve { run, tool, json } => {
            let answer = if *tool {
                Answer::AllowTool
            } else {
                Answer::Allow
            };
            answer_run(&mut client, RunId(*run), answer, *json)
        }
        AgentCmd::Deny { run, reason, json } => answer_run(
            &mut client,
            RunId(*run),
            Answer::Deny {
                reason: reason.clone(),
            },
            *json,
        ),
        AgentCmd::Log {
            run,
            steps: true,
            json,
            ..
        } => super::agent_steps::print_steps(&mut client, RunId(*run), *json),
        AgentCmd::Log {
            run, lines, follow, ..
        } => log(&mut client, RunId(*run), *lines, *follow),
    }
}

/// `approve` and `deny`: refused unless the run waits for an answer to a permission request.
fn answer_run(client: &mut Client, run: RunId, answer: Answer, json: bool) -> Result<()> {
    let runs = match ask(client, Request::Agents)? {
        Some(View::Runs { runs }) => runs,
        _ => Vec::new(),
    };
    // An unknown or ended run: the daemon says which.
    if let Some(r) = runs.iter().find(|r| r.id == run) {
        match &r.waiting {
            Some(w) if matches!(w.ask, crate::api::Ask::Approval { .. }) => {}
            Some(w) => {
                return Err(DaemonCommandError::Refused(format!(
                    "run {run} {}: answer it with `corral agent input {run} TEXT`",
                    w.ask.describe()
                )));
            }
            None => {
                return Err(DaemonCommandError::Refused(format!(
                    "run {run} is not waiting for an answer"
                )));
            }
        }
    }
    act(client, Command::Answer { run, answer }, json)
}

pub(super) fn connect(project: &Path) -> Result<Client> {
    match Client::connect(project) {
        Ok(c) => Ok(c),
        Err(ClientError::Connect { .. }) => Err(DaemonCommandError::Refused(
            "no corral daemon runs for this project (`corral daemon start` starts one)".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn say(text: &str) -> Result<()> {
    Ok(super::output::print_text(text)?)
}

/// Sends `request`; a refusal becomes the command's error.
pub(super) fn ask(client: &mut Client, request: Request) -> Result<Option<View>> {
    match client.request(request)? {
        Outcome::Done { view } => Ok(view),
        Outcome::Refused { reason, .. } => Err(DaemonCommandError::Refused(reason)),
    }
}

fn act(client: &mut Client, command: Command, json: bool) -> Result<()> {
    match ask(client, Request::Command { command })? {
        Some(View::Run { run }) if json => Ok(super::output::print_json(&run)?),
        Some(View::Run { run }) => say(&describe(&run)),
        _ => say("done"),
    }
}

/// `run 12  coding  #17 Cart totals  running  pid 4242`.
fn describe(r: &RunView) -> String {
    let feature = match (r.feature, &r.feature_name) {
        (Some(f), Some(name)) => format!("  #{f} {name}"),
        (Some(f), None) => format!("  #{f}"),
        _ => String::new(),
    };
    let state = if r.state.is_live() {
        r.state.label().to_string()
    } else {
        crate::core::describe_end(r.state)
    };
    let pid = r.pid.map_or(String::new(), |p| format!("  pid {p}"));
    let doing = match (&r.waiting, &r.activity) {
        (Some(w), _) if r.state.is_live() => format!("  needs input: {}", w.ask.describe()),
        (None, Some(a)) if r.state.is_live() => format!("  · {a}"),
        _ => String::new(),
    };
    let line = format!(
        "run {}  {} ({}){feature}  {state}{pid}{doing}",
        r.id, r.role, r.profile
    );
    crate::core::printable::printable(&line, false).into_owned()
}

fn print_lines(lines: &[LogLine]) -> Result<()> {
    for l in lines {
        // Each line escaped on its own: an agent's text never drives the terminal.
        say(&crate::core::printable::printable(&l.text, false))?;
    }
    Ok(())
}

fn log(client: &mut Client, run: RunId, lines: usize, follow: bool) -> Result<()> {
    if !follow {
        if let Some(View::Lines { lines }) = ask(client, Request::Log { run, lines })? {
            print_lines(&lines)?;
        }
        return Ok(());
    }
    // The run must exist (and be known to the daemon) to be followed.
    let runs = match ask(client, Request::Agents)? {
        Some(View::Runs { runs }) => runs,
        _ => Vec::new(),
    };
    let Some(view) = runs.iter().find(|r| r.id == run) else {
        // Not one the daemon remembers: print what its file holds, as without --follow.
        if let Some(View::Lines { lines }) = ask(client, Request::Log { run, lines })? {
            print_lines(&lines)?;
        }
        return Ok(());
    };
    let mut live = view.state.is_live();
    client.set_read_timeout(None)?;
    ask(
        client,
        Request::Subscribe {
            follow: vec![run],
            backlog: lines,
        },
    )?;
    let mut last_seq = None;
    while live {
        match client.receive()? {
            DaemonMessage::Lines { run: r, lines } if r == run => {
                let fresh: Vec<LogLine> = lines
                    .into_iter()
                    .filter(|l| last_seq.is_none_or(|s| l.seq > s))
                    .collect();
                if let Some(l) = fresh.last() {
                    last_seq = Some(l.seq);
                }
                print_lines(&fresh)?;
            }
            DaemonMessage::Missed { count } => {
                super::output::print_error(&format!("corral: {count} batch(es) of output missed"))
            }
            DaemonMessage::Snapshot { snapshot } => {
                live = snapshot
                    .runs
                    .iter()
                    .find(|r| r.id == run)
                    .is_some_and(|r| r.state.is_live());
            }
            _ => {}
        }
    }
    Ok(())
}
