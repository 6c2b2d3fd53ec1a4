//! The state machine of one run: running ⇄ paused → stopping → ended.

use super::effect::{Effect, Sig, TimerKind};
use crate::api::{FeatureId, JobId, Role, RunId, RunState};

/// A run as the core tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: RunId,
    pub job: JobId,
    pub feature: Option<FeatureId>,
    pub profile: String,
    pub role: Role,
    pub state: RunState,
    pub pid: u32,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub exit_code: Option<i32>,
    /// Time between TERM and KILL.
    pub grace_ms: u64,
    /// A person asked to stop it.
    pub kill_requested: bool,
    /// Start the feature again once this run has ended.
    pub restart_after: bool,
    /// The leader has exited but other processes of its group were still there; a KILL is due.
    pub cleanup_pending: bool,
    /// KILL has gone to the group already: nothing of it can outlast that.
    pub kill_sent: bool,
    /// Bumped whenever a timer is set; timers carrying an older epoch are stale.
    pub epoch: u64,
}

/// What can happen to a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEvent {
    Pause,
    Resume,
    Kill {
        force: bool,
    },
    /// The leader process ended. `group_alive` says whether other members of its group remain.
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
        group_alive: bool,
        at_ms: i64,
    },
    Timer {
        epoch: u64,
        kind: TimerKind,
    },
}

impl Run {
    /// The process group id: every run leads its own group.
    pub fn pgid(&self) -> u32 {
        self.pid
    }

    fn signal(&self, sig: Sig) -> Effect {
        Effect::Signal {
            run: self.id,
            pgid: self.pgid(),
            sig,
        }
    }

    fn grace_timer(&mut self) -> Effect {
        self.epoch += 1;
        Effect::StartTimer {
            run: self.id,
            epoch: self.epoch,
            kind: TimerKind::KillGrace,
            after_ms: self.grace_ms,
        }
    }

    fn save(&self) -> Effect {
        Effect::SaveRun {
            run: self.id,
            state: self.state,
            exit_code: self.exit_code,
            finished_at_ms: self.finished_at_ms,
        }
    }

    /// TERM then CONT: a stopped process only acts on TERM once it is continued.
    fn terminate(&mut self) -> Vec<Effect> {
        vec![
            self.signal(Sig::Term),
            self.signal(Sig::Cont),
            self.grace_timer(),
        ]
    }

    /// Applies one event and returns what must be done. Events that do not apply in the
    /// current state (pausing an ended run, a stale timer) change nothing and return nothing.
    pub fn apply(&mut self, event: RunEvent) -> Vec<Effect> {
        match (self.state, event) {
            (RunState::Running, RunEvent::Pause) => {
                self.state = RunState::Paused;
                vec![self.signal(Sig::Stop), self.save()]
            }
            (RunState::Paused, RunEvent::Resume) => {
                self.state = RunState::Running;
                vec![self.signal(Sig::Cont), self.save()]
            }
            (RunState::Running | RunState::Paused, RunEvent::Kill { force }) => {
                self.kill_requested = true;
                self.state = RunState::Stopping;
                let mut effects = if force {
                    self.epoch += 1; // any grace timer already set is now moot
                    self.kill_sent = true;
                    vec![self.signal(Sig::Kill), self.signal(Sig::Cont)]
                } else {
                    self.terminate()
                };
                effects.push(self.save());
                effects
            }
            (RunState::Stopping, RunEvent::Kill { force: true }) => {
                self.epoch += 1;
                self.kill_sent = true;
                vec![self.signal(Sig::Kill)]
            }
            (
                state,
                RunEvent::Exited {
                    code,
                    signal,
                    group_alive,
                    at_ms,
                },
            ) if state.is_live() => {
                self.exit_code = code;
                self.finished_at_ms = Some(at_ms);
                self.state = match (signal, code) {
                    (Some(sig), _) => RunState::Killed { signal: Some(sig) },
                    (None, _) if self.kill_requested => RunState::Killed { signal: None },
                    (None, Some(0)) => RunState::Exited,
                    (None, Some(code)) => RunState::Failed { code },
                    (None, None) => RunState::Lost,
                };
                let mut effects = vec![self.save()];
                if group_alive {
                    if self.kill_sent {
                        // What is left got KILL already and is at most waiting to be reaped;
                        // one more KILL covers a straggler forked in between.
                        effects.push(self.signal(Sig::Kill));
                    } else if state == RunState::Stopping {
                        // TERM already went out and the grace timer is running.
                        self.cleanup_pending = true;
                    } else {
                        self.cleanup_pending = true;
                        effects.extend(self.terminate());
                    }
                }
                effects
            }
            (
                state,
                RunEvent::Timer {
                    epoch,
                    kind: TimerKind::KillGrace,
                },
            ) if epoch == self.epoch && (state == RunState::Stopping || self.cleanup_pending) => {
                self.cleanup_pending = false;
                self.kill_sent = true;
                vec![self.signal(Sig::Kill), self.signal(Sig::Cont)]
            }
            (
                RunState::Running | RunState::Paused,
                RunEvent::Timer {
                    kind: TimerKind::Timeout,
                    ..
                },
            ) => {
                // Set once at spawn: it can only be stale once the run is stopping or ended.
                self.kill_requested = true;
                self.state = RunState::Stopping;
                let mut effects = self.terminate();
                effects.push(self.save());
                effects
            }
            _ => Vec::new(),
        }
    }
}
