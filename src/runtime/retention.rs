//! Log retention on disk: list `<project>/.corral/runs/`, let `core::retention` decide, delete.
//!
//! Every failure is collected into [`Swept::errors`] instead of returned: a sweep is housekeeping,
//! and one unreadable file must neither stop the others from being cleaned nor stop corral.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::core::retention::{LogFile, RetentionPolicy, logs_to_delete};

/// What a sweep did.
#[derive(Debug, Default)]
pub struct Swept {
    /// Runs whose log was deleted, sorted by run id.
    pub deleted: Vec<i64>,
    /// Bytes those logs held when listed.
    pub freed_bytes: u64,
    /// One line per file or directory that could not be read or deleted; those were skipped.
    pub errors: Vec<String>,
}

/// Lists `runs_dir` (only regular files named `<digits>.log`, as corral writes them; anything
/// else is left alone), decides with [`logs_to_delete`], deletes.
///
/// A missing directory is an empty sweep. An unreadable file or a failed delete is reported in
/// `errors` and skipped, never a panic; an unreadable file is then also left out of the totals.
/// `now_ms` is milliseconds since the Unix epoch, the clock file modification times are read in.
pub fn sweep_logs(
    runs_dir: &Path,
    policy: &RetentionPolicy,
    live: &HashSet<i64>,
    now_ms: i64,
) -> Swept {
    let mut swept = Swept::default();
    let entries = match fs::read_dir(runs_dir) {
        Ok(entries) => entries,
        // No run has written a log yet: nothing to keep or delete.
        Err(e) if e.kind() == ErrorKind::NotFound => return swept,
        Err(e) => {
            swept
                .errors
                .push(format!("{}: cannot list: {e}", runs_dir.display()));
            return swept;
        }
    };

    let mut files = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                swept
                    .errors
                    .push(format!("{}: cannot list: {e}", runs_dir.display()));
                continue;
            }
        };
        let Some(run) = entry.file_name().to_str().and_then(run_of) else {
            continue;
        };
        let path = entry.path();
        // symlink_metadata: a symlink named `7.log` is not a log corral wrote, and following it
        // could size (and later count) a file outside `runs_dir`.
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                swept.errors.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        if !meta.is_file() {
            continue;
        }
        match meta.modified() {
            Ok(time) => files.push(LogFile {
                run,
                bytes: meta.len(),
                modified_ms: epoch_ms(time),
            }),
            Err(e) => swept.errors.push(format!("{}: {e}", path.display())),
        }
    }

    let sizes: HashMap<i64, u64> = files.iter().map(|f| (f.run, f.bytes)).collect();
    for run in logs_to_delete(&files, policy, live, now_ms) {
        let path = runs_dir.join(format!("{run}.log"));
        match fs::remove_file(&path) {
            Ok(()) => {
                swept.deleted.push(run);
                swept.freed_bytes = swept
                    .freed_bytes
                    .saturating_add(sizes.get(&run).copied().unwrap_or(0));
            }
            // Gone between listing and deleting (another sweep, a user's `rm`): the goal is
            // reached, but this sweep freed nothing and nothing failed.
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => swept
                .errors
                .push(format!("{}: cannot delete: {e}", path.display())),
        }
    }
    swept
}

/// The run id of a file named `<digits>.log`, or `None` for any other name.
///
/// Only the exact form corral writes (`format!("{run}.log")`) counts: `007.log` or `+7.log` would
/// parse to 7 but are not the path `7.log` that deleting run 7 removes, so they are left alone.
fn run_of(name: &str) -> Option<i64> {
    let digits = name.strip_suffix(".log")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let run: i64 = digits.parse().ok()?;
    (run.to_string() == digits).then_some(run)
}

/// Milliseconds since the Unix epoch, negative before it, clamped to the i64 range.
fn epoch_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_millis()).map_or(i64::MIN, |ms| -ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::Duration;

    const DAY_MS: i64 = 86_400_000;

    /// A fixed "now" well after the epoch, so test mtimes do not depend on the real clock.
    const NOW: i64 = 20_000 * DAY_MS;

    fn policy(keep_days: u32, keep_files: u32, keep_bytes: u64) -> RetentionPolicy {
        RetentionPolicy {
            keep_days,
            keep_files,
            keep_bytes,
        }
    }

    /// Writes `name` with `bytes` bytes into `dir`, last modified `days_ago` days before NOW.
    fn write(dir: &Path, name: &str, bytes: usize, days_ago: i64) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, vec![b'x'; bytes]).expect("write test file");
        let ms = u64::try_from(NOW - days_ago * DAY_MS).expect("after the epoch");
        let file = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open test file");
        file.set_modified(UNIX_EPOCH + Duration::from_millis(ms))
            .expect("set mtime");
        path
    }

    fn live(runs: &[i64]) -> HashSet<i64> {
        runs.iter().copied().collect()
    }

    #[test]
    fn deletes_by_age_and_reports_freed_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "1.log", 100, 30);
        write(dir.path(), "2.log", 50, 10);
        let young = write(dir.path(), "3.log", 7, 1);

        let swept = sweep_logs(dir.path(), &policy(7, 0, 0), &live(&[]), NOW);

        assert_eq!(swept.deleted, vec![1, 2]);
        assert_eq!(swept.freed_bytes, 150);
        assert!(swept.errors.is_empty(), "{:?}", swept.errors);
        assert!(!dir.path().join("1.log").exists());
        assert!(!dir.path().join("2.log").exists());
        assert!(young.exists());
    }

    #[test]
    fn count_and_size_rules_delete_oldest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "10.log", 40, 4);
        write(dir.path(), "11.log", 40, 3);
        write(dir.path(), "12.log", 40, 2);
        write(dir.path(), "13.log", 40, 1);

        // Count leaves 3 (120 bytes), size then needs one more gone.
        let swept = sweep_logs(dir.path(), &policy(0, 3, 100), &live(&[]), NOW);

        assert_eq!(swept.deleted, vec![10, 11]);
        assert_eq!(swept.freed_bytes, 80);
        assert!(dir.path().join("12.log").exists());
        assert!(dir.path().join("13.log").exists());
    }

    #[test]
    fn non_log_files_are_left_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let others = [
            write(dir.path(), "notes.txt", 10, 90),
            write(dir.path(), "abc.log", 10, 90),
            write(dir.path(), "007.log", 10, 90),
            write(dir.path(), "-5.log", 10, 90),
            write(dir.path(), ".log", 10, 90),
            write(dir.path(), "8.log.gz", 10, 90),
            write(dir.path(), "99999999999999999999.log", 10, 90),
        ];
        fs::create_dir(dir.path().join("6.log")).expect("mkdir");
        write(dir.path(), "5.log", 10, 90);

        let swept = sweep_logs(dir.path(), &policy(1, 0, 0), &live(&[]), NOW);

        assert_eq!(swept.deleted, vec![5]);
        assert!(swept.errors.is_empty(), "{:?}", swept.errors);
        for path in others {
            assert!(path.exists(), "{} was deleted", path.display());
        }
        assert!(dir.path().join("6.log").is_dir());
    }

    #[test]
    fn live_runs_old_huge_log_is_kept_and_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let huge = write(dir.path(), "1.log", 1_000_000, 365);
        write(dir.path(), "2.log", 10, 2);
        write(dir.path(), "3.log", 10, 1);

        // The live log alone is over every limit: both other logs go, it stays.
        let swept = sweep_logs(dir.path(), &policy(7, 1, 1_000), &live(&[1]), NOW);

        assert_eq!(swept.deleted, vec![2, 3]);
        assert_eq!(swept.freed_bytes, 20);
        assert!(huge.exists());
        assert_eq!(fs::metadata(&huge).expect("stat").len(), 1_000_000);
    }

    #[test]
    fn missing_directory_is_an_empty_sweep() {
        let dir = tempfile::tempdir().expect("tempdir");
        let swept = sweep_logs(
            &dir.path().join("no/such/runs"),
            &policy(1, 1, 1),
            &live(&[]),
            NOW,
        );
        assert!(swept.deleted.is_empty());
        assert_eq!(swept.freed_bytes, 0);
        assert!(swept.errors.is_empty(), "{:?}", swept.errors);
    }

    #[test]
    fn unlistable_directory_is_reported_not_a_panic() {
        let dir = tempfile::tempdir().expect("tempdir");
        let not_a_dir = write(dir.path(), "runs", 3, 0);

        let swept = sweep_logs(&not_a_dir, &policy(1, 1, 1), &live(&[]), NOW);

        assert!(swept.deleted.is_empty());
        assert_eq!(swept.errors.len(), 1, "{:?}", swept.errors);
        assert!(
            swept.errors[0].contains("cannot list"),
            "{:?}",
            swept.errors
        );
    }

    #[cfg(unix)]
    #[test]
    fn failed_delete_is_reported_and_skipped() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().expect("tempdir");
        let runs = dir.path().join("runs");
        fs::create_dir(&runs).expect("mkdir");
        let old = write(&runs, "4.log", 10, 30);
        fs::set_permissions(&runs, fs::Permissions::from_mode(0o555)).expect("chmod");
        // Root (and some sandboxes) ignore directory permissions; then there is no way to make
        // the delete fail, and the test has nothing to check.
        let privileged = fs::write(runs.join("probe"), b"").is_ok();

        let swept = sweep_logs(&runs, &policy(7, 0, 0), &live(&[]), NOW);
        fs::set_permissions(&runs, fs::Permissions::from_mode(0o755)).expect("chmod back");
        if privileged {
            return;
        }

        assert!(swept.deleted.is_empty());
        assert_eq!(swept.freed_bytes, 0);
        assert_eq!(swept.errors.len(), 1, "{:?}", swept.errors);
        assert!(
            swept.errors[0].contains("cannot delete"),
            "{:?}",
            swept.errors
        );
        assert!(old.exists());
    }

    #[test]
    fn run_names_and_epoch_conversion() {
        assert_eq!(run_of("0.log"), Some(0));
        assert_eq!(run_of("42.log"), Some(42));
        assert_eq!(run_of(&format!("{}.log", i64::MAX)), Some(i64::MAX));
        for name in [
            "042.log", "+4.log", "-4.log", "4.LOG", "4", ".log", "4 .log",
        ] {
            assert_eq!(run_of(name), None, "{name}");
        }
        assert_eq!(epoch_ms(UNIX_EPOCH + Duration::from_millis(1_500)), 1_500);
        assert_eq!(epoch_ms(UNIX_EPOCH - Duration::from_millis(2_000)), -2_000);
    }
}
