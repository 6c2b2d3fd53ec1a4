//! The state machine of one run: running ⇄ paused → stopping → ended.

use super::effect::{Effect, Sig, TimerKind};
use super::records::Failure;
use crate::api::{FeatureId, JobId, Role, RunId, RunState, RunStats, Usage};

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
    /// Stopped by the watchdog: the outcome to record (`TimedOut` or `Stalled`) whatever
    /// signal ends it.
    pub stopped_for: Option<RunState>,
    /// The profile's `silence`, if it has one.
    pub silence_ms: Option<u64>,
    /// The latest stats sample while live.
    pub stats: Option<RunStats>,
    /// How the work was judged when that is not the exit code (see `Input::Exited`).
    pub verdict: Option<super::Verdict>,
    /// What the end of its log said, for a failed run (see `Input::Exited`).
    pub failure: Option<Failure>,
    /// What the agent reported spending.
    pub usage: Option<Usage>,
    /// The jitter draw that came with its end.
    pub random: u32,
    /// Why corral could not judge it, if so (see `Input::Exited`).
    pub unjudged: Option<String>,
    /// KILL has gone to the group already: nothing of it can outlast that.
    pub kill_sent: bool,
    /// Bumped whenever a timer is set; timers carrying an older epoch are stale.
    pub epoch: u64,
    /// What it is doing and what it asks of a person (see [`super::attention`]).
    pub attention: super::attention::RunAttention,
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
    /// Nothing of the run is left alive (see `Input::GroupGone`).
    GroupGone,
    /// The silence timer fired; the runtime says how long the run has been quiet.
    Quiet {
        epoch: u64,
        quiet_ms: u64,
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

    /// Shortens the grace period to at most `max_ms` (when corral quits); a grace timer already
    /// running for longer is set again.
    pub fn cap_grace(&mut self, max_ms: u64) -> Vec<Effect> {
        if self.grace_ms <= max_ms {
            return Vec::new();
        }
        self.grace_ms = max_ms;
        let waiting = self.state == RunState::Stopping || self.cleanup_pending;
        if waiting && !self.kill_sent {
            vec![self.grace_timer()]
        } else {
            Vec::new()
        }
    }

    /// Sets the silence check `after_ms` from now (a new epoch, so older checks are stale).
    pub fn silence_timer(&mut self, after_ms: u64) -> Effect {
        self.epoch += 1;
        Effect::StartTimer {
            run: self.id,
            epoch: self.epoch,
            kind: TimerKind::Silence,
            after_ms,
        }
    }

    /// Stops the run for the watchdog; it will be recorded as `outcome`.
    fn watchdog_stop(&mut self, outcome: RunState) -> Vec<Effect> {
        self.stopped_for = Some(outcome);
        self.state = RunState::Stopping;
        let mut effects = self.terminate();
        effects.push(self.save());
        effects
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
                let mut effects = vec![self.signal(Sig::Cont), self.save()];
                // Quiet while paused was our doing: the agent gets a whole period from now.
                if let Some(limit) = self.silence_ms {
                    effects.push(self.silence_timer(limit));
                }
                effects
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
                vec![self.signal(Sig::Kill), self.signal(Sig::Cont)]
            }
            // The leader is gone but some of what it started is still in its grace period.
            (state, RunEvent::Kill { force: true }) if !state.is_live() && self.cleanup_pending => {
                self.epoch += 1;
                self.cleanup_pending = false;
                self.kill_sent = true;
                vec![self.signal(Sig::Kill), self.signal(Sig::Cont)]
            }
            // Everything is gone already: the grace period (if one runs) has nothing to wait for.
            (_, RunEvent::GroupGone) if self.cleanup_pending => {
                self.epoch += 1;
                self.cleanup_pending = false;
                Vec::new()
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
                self.stats = None;
                self.state = match (signal, code) {
                    _ if self.stopped_for.is_some() => self.stopped_for.unwrap_or(RunState::Lost),
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
            ) => self.watchdog_stop(RunState::TimedOut),
            (
                RunState::Running,
                RunEvent::Timer {
                    epoch,
                    kind: TimerKind::Silence,
                },
            ) if epoch == self.epoch => {
                // The runtime answers with Quiet, telling how long the run has printed nothing.
                vec![Effect::CheckQuiet {
                    run: self.id,
                    epoch,
                }]
            }
            (RunState::Running, RunEvent::Quiet { epoch, quiet_ms }) if epoch == self.epoch => {
                match self.silence_ms {
                    Some(limit) if quiet_ms >= limit => self.watchdog_stop(RunState::Stalled),
                    Some(limit) => vec![self.silence_timer(limit - quiet_ms)],
                    None => Vec::new(),
                }
            }
            // A paused run prints nothing by our doing: look again a whole period later.
            (
                RunState::Paused,
                RunEvent::Timer {
                    epoch,
                    kind: TimerKind::Silence,
                },
            ) if epoch == self.epoch => self
                .silence_ms
                .map(|l| self.silence_timer(l))
                .into_iter()
                .collect(),
            _ => Vec::new(),
        }
    }
}
