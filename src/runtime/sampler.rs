//! Measures live runs about once a second, on its own task, and sends the figures to the
//! supervisor as one `Input::Sample`, while someone looks (a dashboard is subscribed to the
//! runs' output). When nothing is live or nobody looks it waits and does no work at all.

use super::capture::LogHub;
use crate::api::RunId;
use crate::core::Input;
use crate::core::stats::{CpuMeter, ProcSample, RunMembers};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often live runs are measured.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);

/// Reads every process's figures from `/proc`. Processes that vanish mid-read are skipped.
pub fn read_process_table(page_size: u64) -> Vec<ProcSample> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            parse_stat(
                pid,
                &std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?,
                page_size,
            )
        })
        .collect()
}

/// The state letter (`R`, `S`, `T`, `Z`, …) of one process, `None` once it is gone.
pub fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.get(stat.rfind(')')? + 1..)?
        .trim_start()
        .chars()
        .next()
}

/// (process group, state letter) of every process: enough to tell whether a group still has
/// a process that has not ended.
pub fn read_states() -> Vec<(u32, char)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let mut f = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
            let state = f.next()?.chars().next()?;
            let pgrp = f.nth(1)?.parse().ok()?;
            Some((pgrp, state))
        })
        .collect()
}

/// Parses `/proc/<pid>/stat` (see proc(5)); the name in parentheses may hold anything, so
/// fields are counted after its last `)`.
pub fn parse_stat(pid: u32, stat: &str, page_size: u64) -> Option<ProcSample> {
    let f: Vec<&str> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .collect();
    // f[0] is field 3 (state): field N is f[N - 3].
    let num = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
    Some(ProcSample {
        pid,
        ppid: num(4)? as u32,
        pgrp: num(5)? as u32,
        cpu_ticks: num(14)? + num(15)?,
        threads: num(20)? as u32,
        rss_bytes: num(24)? * page_size,
        start_time: num(22)?,
    })
}

fn sysconf(var: nix::unistd::SysconfVar, fallback: u64) -> u64 {
    match nix::unistd::sysconf(var) {
        Ok(Some(v)) if v > 0 => v as u64,
        _ => fallback,
    }
}

/// Runs until the supervisor goes away. `live` holds the (run, leader pid) pairs to measure.
pub async fn run_sampler(
    mut live: watch::Receiver<Vec<(RunId, u32)>>,
    tx: mpsc::UnboundedSender<Input>,
    logs: LogHub,
    escaped: super::process::Escapees,
) {
    let ticks_per_sec = sysconf(nix::unistd::SysconfVar::CLK_TCK, 100);
    let page_size = sysconf(nix::unistd::SysconfVar::PAGE_SIZE, 4096);
    let mut meter = CpuMeter::default();
    loop {
        // Idle: sleep until something is live.
        while live.borrow_and_update().is_empty() {
            if live.changed().await.is_err() {
                return;
            }
        }
        // Nobody looks at the figures (headless, or no dashboard attached): nothing is read.
        // Escapees are still looked for whenever a run is signalled, and a run's cgroup holds
        // what it forks.
        // The runs' streams are still read once a second for what they ask (a permission
        // request, a question): a headless corral must see a run that needs a person.
        if !logs.watched() {
            tokio::select! {
                changed = live.changed() => if changed.is_err() { return },
                () = logs.someone_looks() => {}
                () = tokio::time::sleep(SAMPLE_EVERY) => {
                    if tx.send(Input::Look).is_err() {
                        return;
                    }
                }
            }
            continue;
        }
        let leaders = live.borrow().clone();
        let at_ms = super::now_ms();
        let table = tokio::task::spawn_blocking(move || read_process_table(page_size))
            .await
            .unwrap_or_default();
        escaped.remember(&table, &leaders);
        let runs = members(&table, &leaders, &escaped);
        let mut stats = meter.sample_members(&table, &runs, at_ms, ticks_per_sec);
        for (run, s) in &mut stats {
            s.log_bytes = logs.bytes(*run);
        }
        if tx.send(Input::Sample { at_ms, stats }).is_err() {
            return;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}

/// Each live run's processes: its tree, whatever is in its cgroup, and its tracked escapees.
fn members(
    table: &[ProcSample],
    leaders: &[(RunId, u32)],
    escaped: &super::process::Escapees,
) -> Vec<RunMembers> {
    let index: std::collections::HashMap<u32, usize> =
        table.iter().enumerate().map(|(i, p)| (p.pid, i)).collect();
    leaders
        .iter()
        .map(|&(run, leader)| {
            let mut members: std::collections::BTreeSet<usize> =
                crate::core::stats::tree_members(table, leader)
                    .into_iter()
                    .collect();
            let cgroup = super::process::cgroup_of(leader);
            let in_cgroup = cgroup.as_ref().map(|cg| cg.pids()).unwrap_or_default();
            members.extend(in_cgroup.iter().filter_map(|pid| index.get(pid).copied()));
            // An escapee counts only while its pid still names the process we saw.
            members.extend(escaped.of(leader).into_iter().filter_map(|(pid, start)| {
                index
                    .get(&pid)
                    .copied()
                    .filter(|&i| table[i].start_time == start)
            }));
            RunMembers {
                run,
                members: members.into_iter().collect(),
                cgroup_cpu_usec: cgroup.and_then(|cg| cg.cpu_usec()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_names_parse() {
        let line = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 70 30 0 0 20 0 3 0 12345 1000 250 18446744073709551615";
        let p = parse_stat(4242, line, 4096).unwrap();
        assert_eq!(
            (p.ppid, p.pgrp, p.cpu_ticks, p.threads, p.rss_bytes),
            (1, 4242, 100, 3, 250 * 4096)
        );
        assert!(parse_stat(1, "garbage", 4096).is_none());
    }

    #[test]
    fn this_process_is_in_the_table() {
        let table = read_process_table(4096);
        let me = std::process::id();
        let row = table.iter().find(|p| p.pid == me).expect("own row");
        assert!(row.rss_bytes > 0 && row.threads >= 1);
    }
}
