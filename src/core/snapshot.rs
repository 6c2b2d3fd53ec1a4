//! Projects the model into the owned [`Snapshot`] the UI renders.

use super::graph;
use super::model::Model;
use crate::api::{
    FeatureStatus, FeatureView, JobState, JobView, NoticeView, RunView, Snapshot, TotalsView,
};
use std::collections::HashMap;
use std::path::Path;

/// How many ended runs the Agents pane lists below the live ones.
const SHOW_ENDED_RUNS: usize = 30;

/// How many jobs the snapshot carries.
const SHOW_JOBS: usize = 200;

impl Model {
    /// The snapshot for `version`; pure, so the same model always projects the same way.
    pub fn snapshot(&self, project: &Path, version: u64) -> Snapshot {
        let features: Vec<FeatureView> = self
            .features
            .values()
            .map(|f| FeatureView {
                id: f.id,
                category: f.category.clone(),
                name: f.name.clone(),
                priority: f.priority,
                status: graph::effective_status(&self.features, f.id),
                dependencies: f.dependencies.clone(),
                blocked_by: graph::blocked_by(&self.features, f.id),
                attempts: f.attempts,
                usage: f.usage,
                merge: f.merge.clone(),
            })
            .collect();

        let view = |r: &super::Run| RunView {
            id: r.id,
            job: r.job,
            feature: r.feature,
            feature_name: r
                .feature
                .and_then(|f| self.features.get(&f))
                .map(|f| f.name.clone()),
            profile: r.profile.clone(),
            role: r.role,
            state: r.state,
            pid: (r.pid != 0).then_some(r.pid),
            started_at_ms: r.started_at_ms,
            finished_at_ms: r.finished_at_ms,
            kill_requested: r.kill_requested,
            stats: r.stats.filter(|_| r.state.is_live()),
            usage: r.usage,
            activity: r.attention.activity.clone().filter(|_| r.state.is_live()),
            waiting: r.attention.waiting.clone().filter(|_| r.state.is_live()),
            session: r.attention.session.clone(),
        };
        let mut runs: Vec<RunView> = self
            .runs
            .values()
            .filter(|r| r.state.is_live())
            .map(view)
            .collect();
        runs.extend(
            self.runs
                .values()
                .rev()
                .filter(|r| !r.state.is_live())
                .take(SHOW_ENDED_RUNS)
                .map(view),
        );

        let jobs = self.job_views();
        let live_stats = || {
            self.runs
                .values()
                .filter(|r| r.state.is_live())
                .filter_map(|r| r.stats)
        };
        let totals = TotalsView {
            features: features.len(),
            passing: features
                .iter()
                .filter(|f| f.status == FeatureStatus::Passing)
                .count(),
            live_agents: self.runs.values().filter(|r| r.state.is_live()).count(),
            cpu_tenths: live_stats().map(|s| s.cpu_tenths).sum(),
            rss_bytes: live_stats().map(|s| s.rss_bytes).sum(),
            usage: self.spent,
            budget_micros: self.budget_micros,
        };
        Snapshot {
            version,
            project: project.to_path_buf(),
            max_agents: self.max_agents,
            scheduler_paused: self.scheduler_paused || self.held.is_some(),
            held: self.held.clone(),
            // The runtime, which owns the config, fills it in.
            config_error: None,
            paused_reason: self.pause_reason.clone().filter(|_| self.scheduler_paused),
            shut_down: self.shutting_down && self.all_quiet(),
            totals,
            features,
            runs,
            jobs,
            breakers: self.breaker_views(),
            // Profiles come from the config, which the runtime owns: it fills them in.
            profiles: Vec::new(),
            notice: self.notice.clone(),
            notices: self
                .recent_notices
                .iter()
                .map(|(seq, text)| NoticeView {
                    seq: *seq,
                    text: text.clone(),
                })
                .collect(),
            sampled_at_ms: self.sampled_at_ms,
        }
    }

    /// Every job the model holds in the one order corral shows them (the Queue pane, `job
    /// list`): running jobs, then queued ones in the order the scheduler starts them, then
    /// backoffs by when they end, then ended ones newest first.
    pub fn jobs_in_order(&self) -> Vec<&super::Job> {
        let mut order: Vec<&super::Job> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::Running)
            .collect();
        for role in [
            crate::api::Role::Initializer,
            crate::api::Role::Coding,
            crate::api::Role::Testing,
        ] {
            let queued = self.queued_in_order(role, role == crate::api::Role::Coding);
            order.extend(queued.iter().filter_map(|j| self.jobs.get(j)));
        }
        let mut backoff: Vec<&super::Job> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::Backoff)
            .collect();
        backoff.sort_by_key(|j| (j.available_at_ms, j.id));
        order.extend(backoff);
        order.extend(self.jobs.values().rev().filter(|j| !j.state.is_open()));
        order
    }

    /// [`Model::jobs_in_order`] as views, at most [`SHOW_JOBS`] of them.
    fn job_views(&self) -> Vec<JobView> {
        let mut order = self.jobs_in_order();
        order.truncate(SHOW_JOBS);
        let names: HashMap<_, _> = order
            .iter()
            .filter_map(|j| j.feature)
            .filter_map(|f| self.features.get(&f).map(|x| (f, x.name.clone())))
            .collect();
        order
            .into_iter()
            .map(|j| j.view(j.feature.and_then(|f| names.get(&f).cloned())))
            .collect()
    }
}
