//! Which run logs to delete: the `[logs]` retention rules as a pure function over a listing.
//!
//! The file-system side (listing `runs/`, deleting) is `runtime::retention`; keeping the
//! decision here means every rule is tested without a disk or a clock.

use std::collections::HashSet;

/// Milliseconds in one day, the unit of `keep_days`.
const DAY_MS: i64 = 86_400_000;

/// The limits from `[logs]` in corral.toml.
///
/// A limit of 0 disables that rule: `keep_days = 0` keeps logs of any age, `keep_files = 0`
/// keeps any number of logs, `keep_bytes = 0` keeps any total size. With all three at 0 no log
/// is ever deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Logs last modified more than this many days ago are deleted; 0 disables the age rule.
    pub keep_days: u32,
    /// At most this many logs are kept, oldest deleted first; 0 disables the count rule.
    pub keep_files: u32,
    /// At most this many bytes of logs are kept, oldest deleted first; 0 disables the size rule.
    pub keep_bytes: u64,
}

/// One run log as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// The run id, from the file name `<run>.log`.
    pub run: i64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Last modification time, milliseconds since the Unix epoch.
    pub modified_ms: i64,
}

/// Which logs to delete: first every log older than `keep_days`, then, oldest first, as many as
/// needed to get to at most `keep_files` files and at most `keep_bytes` bytes.
///
/// A limit of 0 disables its rule. "Older than `keep_days`" means modified strictly before
/// `now_ms - keep_days` days; a log exactly at the cut-off is kept. A log whose run is in `live`
/// is never chosen and still counts towards the totals, so live logs alone may exceed the limits:
/// then every non-live log goes. Age is `modified_ms`; ties in age: lower run id is older.
/// The result is sorted by run id, without duplicates.
#[must_use]
pub fn logs_to_delete(
    files: &[LogFile],
    policy: &RetentionPolicy,
    live: &HashSet<i64>,
    now_ms: i64,
) -> Vec<i64> {
    // `None` for a disabled age rule; saturating so a clock near i64::MIN cannot overflow.
    let cutoff =
        (policy.keep_days > 0).then(|| now_ms.saturating_sub(i64::from(policy.keep_days) * DAY_MS));
    let max_files =
        (policy.keep_files > 0).then(|| usize::try_from(policy.keep_files).unwrap_or(usize::MAX));
    // u128 so the sum of any number of u64 sizes is exact and never saturates.
    let max_bytes = (policy.keep_bytes > 0).then_some(u128::from(policy.keep_bytes));

    let mut count = files.len();
    let mut total: u128 = files.iter().map(|f| u128::from(f.bytes)).sum();

    // Oldest first, sorted once. The age-expired logs are then a prefix of this order, so a single
    // pass sees every age deletion before it weighs count and size against the limits.
    let mut order: Vec<&LogFile> = files.iter().collect();
    order.sort_unstable_by_key(|f| (f.modified_ms, f.run));

    let mut doomed = Vec::new();
    for f in order {
        if live.contains(&f.run) {
            // Still in `count`/`total`, so a younger non-live log goes in its place.
            continue;
        }
        let expired = cutoff.is_some_and(|c| f.modified_ms < c);
        let too_many = max_files.is_some_and(|m| count > m);
        let too_big = max_bytes.is_some_and(|m| total > m);
        if expired || too_many || too_big {
            doomed.push(f.run);
            count -= 1;
            total -= u128::from(f.bytes);
        }
    }
    doomed.sort_unstable();
    // Two entries with one run id would be one path on disk; report it once.
    doomed.dedup();
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000 * DAY_MS;

    /// A log of `bytes` bytes for `run`, last written `days_ago` days before NOW.
    fn log(run: i64, days_ago: i64, bytes: u64) -> LogFile {
        LogFile {
            run,
            bytes,
            modified_ms: NOW - days_ago * DAY_MS,
        }
    }

    fn policy(keep_days: u32, keep_files: u32, keep_bytes: u64) -> RetentionPolicy {
        RetentionPolicy {
            keep_days,
            keep_files,
            keep_bytes,
        }
    }

    struct Case {
        name: &'static str,
        files: Vec<LogFile>,
        policy: RetentionPolicy,
        live: Vec<i64>,
        want: Vec<i64>,
    }

    fn check(cases: Vec<Case>) {
        for c in cases {
            let live: HashSet<i64> = c.live.iter().copied().collect();
            let got = logs_to_delete(&c.files, &c.policy, &live, NOW);
            assert_eq!(got, c.want, "case `{}`", c.name);
        }
    }

    #[test]
    fn age_rule() {
        check(vec![
            Case {
                name: "older than keep_days go, younger stay",
                files: vec![log(1, 10, 5), log(2, 8, 5), log(3, 6, 5), log(4, 1, 5)],
                policy: policy(7, 0, 0),
                live: vec![],
                want: vec![1, 2],
            },
            Case {
                name: "exactly at the cut-off is kept, one ms older is not",
                files: vec![
                    log(1, 7, 5),
                    LogFile {
                        run: 2,
                        bytes: 5,
                        modified_ms: NOW - 7 * DAY_MS - 1,
                    },
                ],
                policy: policy(7, 0, 0),
                live: vec![],
                want: vec![2],
            },
            Case {
                name: "a modification time in the future is young",
                files: vec![log(1, -3, 5)],
                policy: policy(1, 0, 0),
                live: vec![],
                want: vec![],
            },
        ]);
    }

    #[test]
    fn count_rule() {
        check(vec![
            Case {
                name: "oldest go until keep_files remain",
                files: vec![
                    log(5, 1, 1),
                    log(3, 3, 1),
                    log(4, 2, 1),
                    log(1, 5, 1),
                    log(2, 4, 1),
                ],
                policy: policy(0, 2, 0),
                live: vec![],
                want: vec![1, 2, 3],
            },
            Case {
                name: "at the limit nothing goes",
                files: vec![log(1, 2, 1), log(2, 1, 1)],
                policy: policy(0, 2, 0),
                live: vec![],
                want: vec![],
            },
        ]);
    }

    #[test]
    fn bytes_rule() {
        check(vec![
            Case {
                name: "oldest go until the total fits",
                files: vec![log(1, 3, 40), log(2, 2, 40), log(3, 1, 40)],
                policy: policy(0, 0, 100),
                live: vec![],
                want: vec![1],
            },
            Case {
                name: "oldest first even when a newer big one alone would do",
                files: vec![log(1, 3, 10), log(2, 2, 10), log(3, 1, 100)],
                policy: policy(0, 0, 100),
                live: vec![],
                want: vec![1, 2],
            },
            Case {
                name: "exactly keep_bytes fits",
                files: vec![log(1, 2, 50), log(2, 1, 50)],
                policy: policy(0, 0, 100),
                live: vec![],
                want: vec![],
            },
            Case {
                name: "sizes near u64::MAX do not overflow the total",
                files: vec![log(1, 2, u64::MAX), log(2, 1, u64::MAX)],
                policy: policy(0, 0, u64::MAX),
                live: vec![],
                want: vec![1],
            },
        ]);
    }

    #[test]
    fn all_three_rules() {
        check(vec![Case {
            name: "age first, then count, then size on what is left",
            files: vec![
                log(1, 30, 10),
                log(2, 20, 10),
                log(3, 5, 10),
                log(4, 4, 60),
                log(5, 3, 10),
                log(6, 2, 10),
                log(7, 1, 10),
            ],
            // Age takes 1 and 2 (5 left); count takes 3 (4 left, 90 bytes);
            // size then takes 4 (30 bytes left).
            policy: policy(10, 4, 50),
            live: vec![],
            want: vec![1, 2, 3, 4],
        }]);
    }

    #[test]
    fn live_logs_never_chosen_and_still_counted() {
        check(vec![
            Case {
                name: "an old live log survives the age rule",
                files: vec![log(1, 30, 5), log(2, 30, 5)],
                policy: policy(7, 0, 0),
                live: vec![1],
                want: vec![2],
            },
            Case {
                name: "a live log counts, so the next oldest goes instead",
                files: vec![log(1, 3, 1), log(2, 2, 1), log(3, 1, 1)],
                policy: policy(0, 2, 0),
                live: vec![1],
                want: vec![2],
            },
            Case {
                name: "live bytes count towards keep_bytes",
                files: vec![log(1, 3, 90), log(2, 2, 20), log(3, 1, 5)],
                policy: policy(0, 0, 100),
                live: vec![1],
                want: vec![2],
            },
            Case {
                name: "live logs alone over the limits: every non-live log goes",
                files: vec![log(1, 3, 500), log(2, 2, 1), log(3, 1, 500), log(4, 0, 1)],
                policy: policy(0, 1, 100),
                live: vec![1, 3],
                want: vec![2, 4],
            },
            Case {
                name: "a live id with no file changes nothing",
                files: vec![log(1, 2, 1), log(2, 1, 1)],
                policy: policy(0, 1, 0),
                live: vec![99],
                want: vec![1],
            },
        ]);
    }

    #[test]
    fn ties_in_age_lower_run_is_older() {
        check(vec![
            Case {
                name: "same mtime: lower run ids go first",
                files: vec![log(9, 1, 1), log(7, 1, 1), log(8, 1, 1)],
                policy: policy(0, 1, 0),
                live: vec![],
                want: vec![7, 8],
            },
            Case {
                name: "age beats run id",
                files: vec![log(1, 1, 1), log(2, 5, 1)],
                policy: policy(0, 1, 0),
                live: vec![],
                want: vec![2],
            },
        ]);
    }

    #[test]
    fn disabled_rules_and_empty_input() {
        check(vec![
            Case {
                name: "all limits 0: nothing goes, however old or big",
                files: vec![log(1, 10_000, u64::MAX), log(2, 5_000, 1), log(3, 0, 1)],
                policy: policy(0, 0, 0),
                live: vec![],
                want: vec![],
            },
            Case {
                name: "keep_days 0 does not mean `delete everything older than now`",
                files: vec![log(1, 1, 1)],
                policy: policy(0, 5, 1_000),
                live: vec![],
                want: vec![],
            },
            Case {
                name: "empty listing",
                files: vec![],
                policy: policy(1, 1, 1),
                live: vec![1],
                want: vec![],
            },
            Case {
                name: "duplicate run ids are reported once",
                files: vec![log(1, 9, 1), log(1, 8, 1), log(2, 1, 1)],
                policy: policy(7, 0, 0),
                live: vec![],
                want: vec![1],
            },
        ]);
    }
}
