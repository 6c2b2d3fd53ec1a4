//! Measures live runs about once a second, on its own task, and sends the figures to the
//! supervisor as one `Input::Sample`. When nothing is live it waits and does no work at all.

use super::capture::LogHub;
use crate::api::RunId;
use crate::core::Input;
use crate::core::stats::{CpuMeter, ProcSample};
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
        let leaders = live.borrow().clone();
        let at_ms = super::now_ms();
        let table = tokio::task::spawn_blocking(move || read_process_table(page_size))
            .await
            .unwrap_or_default();
        let mut stats = meter.sample(&table, &leaders, at_ms, ticks_per_sec);
        escaped.remember(&table, &leaders);
        for (run, s) in &mut stats {
            s.log_bytes = logs.bytes(*run);
        }
        if tx.send(Input::Sample { at_ms, stats }).is_err() {
            return;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
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
