//! The project's SQLite database: what must survive a restart (features, jobs, runs).

pub mod backlog;
mod breakers;
mod features;
mod jobs;
mod runs;
mod worktrees;

pub use backlog::FeatureRecord;
pub use features::{NewFeature, parse_feature_status};
pub use runs::StoredRun;
pub use worktrees::WorktreeRecord;

use super::schema::MIGRATIONS;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}: schema version {found} is newer than this corral understands ({known}); upgrade corral"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error(
        "{path}: schema version {found} is older than this corral's ({known}); `corral` or \
         `corral run --headless` brings it up to date (a read never changes it)"
    )]
    TooOld {
        path: PathBuf,
        found: u32,
        known: u32,
    },
    #[error("{path}: feature {id}: {reason}")]
    BadFeature {
        path: PathBuf,
        id: i64,
        reason: String,
    },
}

/// The directory corral keeps a project's state in.
pub fn state_dir(project: &Path) -> PathBuf {
    project.join(".corral")
}

/// Creates `<project>/.corral` (mode 0700: logs may hold what agents printed) and `runs/` in it,
/// and a `.gitignore` of `*` there, so git neither lists nor commits corral's state.
pub fn ensure_state_dir(project: &Path) -> Result<PathBuf, StoreError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let dir = state_dir(project);
    let io = |source| StoreError::Io {
        path: dir.clone(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join("runs"))
        .map_err(io)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "# corral's state: never committed\n*\n").map_err(io)?;
    }
    Ok(dir)
}

/// How long a statement waits for another connection's lock. Generous: with a rollback journal
/// a writer excludes readers for the moment of its commit, and a hundred agents reporting at
/// once queue behind each other.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// (device, inode) of the file opened, to notice it deleted or replaced (see `relink`).
    file_id: Option<(u64, u64)>,
}

/// (device, inode) of the file at `path`, if there is one.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

impl Store {
    /// Opens (creating if needed) `<project>/.corral/corral.db` and brings its schema up to date.
    pub fn open(project: &Path) -> Result<Store, StoreError> {
        let dir = ensure_state_dir(project)?;
        Store::open_path(&dir.join("corral.db"))
    }

    /// Opens the database at `path`: a rollback journal, a busy timeout, foreign keys,
    /// migrations.
    pub fn open_path(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            file_id: file_id(path),
        };
        store.setup()?;
        Ok(store)
    }

    /// Opens the database at `path` for reading only (`SQLITE_OPEN_READ_ONLY`): no
    /// migration, no change of journal mode, nothing written. A file of another schema
    /// version is refused with what to do, since its columns may not be the ones read here.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Sqlite {
                path: path.to_path_buf(),
                source,
            })?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            file_id: file_id(path),
        };
        store
            .conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| store.err(e))?;
        let found = store.schema_version()?;
        let known = MIGRATIONS.len() as u32;
        if found > known {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        if found < known {
            return Err(StoreError::TooOld {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        Ok(store)
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn setup(&mut self) -> Result<(), StoreError> {
        // A second corral (or `corral status`) may hold a lock briefly; wait rather than fail.
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.err(e))?;
        // Not WAL: WAL shares its index through a memory-mapped `-shm` file, and a write into
        // that mapping once the file cannot take it (made immutable, or its file system full)
        // is a SIGBUS that kills corral and orphans its agents. A rollback journal does plain
        // file I/O, so the same trouble is an error corral can report and wait out. Writers
        // take the lock up front (`BEGIN IMMEDIATE`) and wait the busy timeout for readers.
        // An older database in WAL mode is converted here (when nothing else has it open).
        self.conn
            .pragma_update(None, "journal_mode", "DELETE")
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "mmap_size", 0)
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        self.migrate()
    }

    /// The schema version recorded in the file.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let known = MIGRATIONS.len() as u32;
        if found > known {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
            tx.execute_batch(sql)
                .and_then(|_| tx.pragma_update(None, "user_version", index as u32 + 1))
                .and_then(|_| tx.commit())
                .map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
        }
        Ok(())
    }

    /// Runs `f` in one write transaction (`BEGIN IMMEDIATE`): committed when it returns
    /// `Ok`, rolled back (nothing written) when it returns an error.
    pub fn transaction<T, E: From<StoreError>>(
        &mut self,
        f: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let value = match f(self) {
            Ok(value) => value,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err(e).into());
        }
        Ok(value)
    }

    /// Raw access for the read-only `status` dump.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl Store {
    /// Puts the database back at its path if the file was deleted (or replaced) while open:
    /// everything this corral knows is in the file it still has open, so that is copied to
    /// the path and opened there. A different file found at the path is kept beside it.
    /// Says what it did, if anything.
    pub fn relink(&mut self) -> Result<Option<String>, StoreError> {
        if self.file_id.is_some() && file_id(&self.path) == self.file_id {
            return Ok(None);
        }
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        if let Some(project) = self.path.parent().and_then(Path::parent) {
            ensure_state_dir(project)?;
        }
        let mut said = format!(
            "{} was deleted; written again from memory",
            self.path.display()
        );
        if self.path.exists() {
            let aside = self
                .path
                .with_extension(format!("db.found-{}", super::now_ms()));
            std::fs::rename(&self.path, &aside).map_err(io)?;
            said = format!(
                "{} was replaced; corral's own copy is back and the other file is {}",
                self.path.display(),
                aside.display()
            );
        }
        let target = self.path.to_string_lossy().into_owned();
        self.conn
            .execute("VACUUM INTO ?1", [&target])
            .map_err(|e| self.err(e))?;
        let fresh = Store::open_path(&self.path)?;
        *self = fresh;
        Ok(Some(said))
    }

    /// A write that changes nothing, to learn whether the database takes writes (again).
    pub fn probe_write(&self) -> Result<(), StoreError> {
        let version = self.schema_version()?;
        self.conn
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; PRAGMA user_version = {version}; COMMIT;"
            ))
            .map_err(|e| {
                let _ = self.conn.execute_batch("ROLLBACK");
                self.err(e)
            })
    }
}
