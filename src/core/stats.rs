//! Per-run resource figures from one pass over the process table: pure arithmetic.

use crate::api::{RunId, RunStats};
use std::collections::HashMap;

/// One process as read from the process table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    pub pid: u32,
    pub ppid: u32,
    /// Process group id.
    pub pgrp: u32,
    /// User plus system CPU time, in clock ticks, since the process started.
    pub cpu_ticks: u64,
    pub threads: u32,
    pub rss_bytes: u64,
    /// When the process started, in clock ticks since boot (names it together with the pid).
    pub start_time: u64,
}

/// Indices into `procs` of a run's tree: every member of the leader's process group, plus
/// every descendant of the leader (a child that moved to a group of its own is still the
/// agent's work). Linear in the table size.
pub fn tree_members(procs: &[ProcSample], leader: u32) -> Vec<usize> {
    let mut children: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in procs.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut member = vec![false; procs.len()];
    for (i, p) in procs.iter().enumerate() {
        member[i] = p.pgrp == leader || p.pid == leader;
    }
    // Descendants by parent links, starting from every member found so far.
    let mut stack: Vec<u32> = procs
        .iter()
        .enumerate()
        .filter(|(i, _)| member[*i])
        .map(|(_, p)| p.pid)
        .collect();
    while let Some(pid) = stack.pop() {
        for &c in children.get(&pid).map_or(&[][..], Vec::as_slice) {
            if !member[c] {
                member[c] = true;
                stack.push(procs[c].pid);
            }
        }
    }
    (0..procs.len()).filter(|i| member[*i]).collect()
}

/// One run's processes in a sample: indices into the process table, and, when the run has a
/// cgroup, the CPU time (µs) its cgroup has used in all, ended processes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMembers {
    pub run: RunId,
    pub members: Vec<usize>,
    pub cgroup_cpu_usec: Option<u64>,
}

/// Remembers CPU ticks (and cgroup CPU time) between samples to turn them into a rate.
#[derive(Debug, Default)]
pub struct CpuMeter {
    prev_ticks: HashMap<u32, u64>,
    prev_usec: HashMap<RunId, u64>,
    prev_at_ms: Option<i64>,
}

impl CpuMeter {
    /// Stats for each `(run, leader pid)` from one table read at `at_ms`, each run's members
    /// being its process tree ([`tree_members`]).
    pub fn sample(
        &mut self,
        procs: &[ProcSample],
        leaders: &[(RunId, u32)],
        at_ms: i64,
        ticks_per_sec: u64,
    ) -> Vec<(RunId, RunStats)> {
        let runs: Vec<RunMembers> = leaders
            .iter()
            .map(|&(run, leader)| RunMembers {
                run,
                members: tree_members(procs, leader),
                cgroup_cpu_usec: None,
            })
            .collect();
        self.sample_members(procs, &runs, at_ms, ticks_per_sec)
    }

    /// Stats for each run from its members. CPU is the time used since the previous sample
    /// (a process first seen now counts from now; a cgroup's figure also counts processes
    /// that ended in between), as tenths of a percent of one core. `log_bytes` is filled in
    /// by the caller.
    pub fn sample_members(
        &mut self,
        procs: &[ProcSample],
        runs: &[RunMembers],
        at_ms: i64,
        ticks_per_sec: u64,
    ) -> Vec<(RunId, RunStats)> {
        let elapsed_ms = self.prev_at_ms.map_or(0, |p| (at_ms - p).max(0) as u64);
        let mut out = Vec::with_capacity(runs.len());
        let mut usec_now = HashMap::new();
        for r in runs {
            let mut stats = RunStats {
                processes: r.members.len() as u32,
                ..RunStats::default()
            };
            let mut used_ticks = 0;
            for &i in &r.members {
                let p = &procs[i];
                stats.threads += p.threads;
                stats.rss_bytes += p.rss_bytes;
                if let Some(prev) = self.prev_ticks.get(&p.pid) {
                    used_ticks += p.cpu_ticks.saturating_sub(*prev);
                }
            }
            // A cgroup's own count is complete: prefer it when it had a figure before. µs per
            // ms elapsed is tenths of a percent; ticks / (seconds × ticks per second) × 1000
            // is too.
            let tenths = match (r.cgroup_cpu_usec, self.prev_usec.get(&r.run)) {
                (Some(now), Some(prev)) => now.saturating_sub(*prev).checked_div(elapsed_ms),
                _ => (used_ticks * 1000 * 1000).checked_div(elapsed_ms * ticks_per_sec),
            };
            stats.cpu_tenths = tenths.map_or(0, |t| u32::try_from(t).unwrap_or(u32::MAX));
            if let Some(u) = r.cgroup_cpu_usec {
                usec_now.insert(r.run, u);
            }
            out.push((r.run, stats));
        }
        self.prev_ticks = procs.iter().map(|p| (p.pid, p.cpu_ticks)).collect();
        self.prev_usec = usec_now;
        self.prev_at_ms = Some(at_ms);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pid: u32, ppid: u32, pgrp: u32, ticks: u64) -> ProcSample {
        ProcSample {
            pid,
            ppid,
            pgrp,
            cpu_ticks: ticks,
            threads: 1,
            rss_bytes: 1000,
            start_time: 0,
        }
    }

    #[test]
    fn a_tree_is_the_group_plus_descendants_and_nothing_else() {
        let procs = vec![
            p(1, 0, 1, 0),       // init
            p(100, 1, 100, 0),   // leader
            p(101, 100, 100, 0), // child in the group
            p(102, 101, 102, 0), // grandchild that made its own group
            p(103, 102, 102, 0), // its child
            p(104, 1, 100, 0),   // orphan still in the group
            p(200, 1, 200, 0),   // an unrelated process
        ];
        let members: Vec<u32> = tree_members(&procs, 100)
            .iter()
            .map(|&i| procs[i].pid)
            .collect();
        assert_eq!(members, vec![100, 101, 102, 103, 104]);
    }

    #[test]
    fn cpu_is_the_tick_rate_since_the_last_sample() {
        let mut meter = CpuMeter::default();
        let run = RunId(1);
        let first = meter.sample(&[p(10, 1, 10, 500), p(11, 10, 10, 0)], &[(run, 10)], 0, 100);
        assert_eq!(first[0].1.cpu_tenths, 0, "no rate from a single sample");
        assert_eq!((first[0].1.processes, first[0].1.rss_bytes), (2, 2000));
        // 2 s later: the leader used 100 ticks (half a core at 100 Hz), the child 200 (one core).
        let procs = [p(10, 1, 10, 600), p(11, 10, 10, 200), p(12, 11, 10, 50)];
        let second = meter.sample(&procs, &[(run, 10)], 2000, 100);
        assert_eq!(
            second[0].1.cpu_tenths, 1500,
            "50% + 100%; the new process counts from now"
        );
        assert_eq!(second[0].1.threads, 3);
    }

    #[test]
    fn a_cgroups_cpu_time_counts_processes_that_ended_between_samples() {
        let mut meter = CpuMeter::default();
        let run = RunId(1);
        let members = |usec| RunMembers {
            run,
            members: vec![0],
            cgroup_cpu_usec: Some(usec),
        };
        meter.sample_members(&[p(10, 1, 10, 0)], &[members(1_000_000)], 0, 100);
        // 1 s later the leader used nothing, but a child that already ended used 0.5 s.
        let second = meter.sample_members(&[p(10, 1, 10, 0)], &[members(1_500_000)], 1000, 100);
        assert_eq!(second[0].1.cpu_tenths, 500);
        assert_eq!(second[0].1.processes, 1);
    }
}
