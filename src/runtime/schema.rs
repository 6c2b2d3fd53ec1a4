//! Schema migrations, applied in order and recorded in `PRAGMA user_version`.

/// Each entry moves the schema from version `index` to `index + 1`. Never edit a shipped entry:
/// add a new one, so every existing database walks the same path.
pub const MIGRATIONS: &[&str] = &[
    // 1: backlog, jobs and runs.
    "
    CREATE TABLE features (
        id          INTEGER PRIMARY KEY,
        category    TEXT    NOT NULL DEFAULT '',
        name        TEXT    NOT NULL CHECK (name <> ''),
        description TEXT    NOT NULL DEFAULT '',
        steps       TEXT    NOT NULL DEFAULT '[]',   -- JSON array of strings
        priority    INTEGER NOT NULL DEFAULT 0,
        status      TEXT    NOT NULL DEFAULT 'pending',
        attempts    INTEGER NOT NULL DEFAULT 0,
        last_error  TEXT,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        passed_at   INTEGER
    );
    CREATE TABLE feature_deps (
        feature_id  INTEGER NOT NULL REFERENCES features(id) ON DELETE CASCADE,
        depends_on  INTEGER NOT NULL REFERENCES features(id) ON DELETE CASCADE,
        PRIMARY KEY (feature_id, depends_on),
        CHECK (feature_id <> depends_on)
    );
    CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY,
        profile      TEXT    NOT NULL,
        feature_id   INTEGER REFERENCES features(id) ON DELETE SET NULL,
        priority     INTEGER NOT NULL DEFAULT 0,
        state        TEXT    NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL DEFAULT 1,
        last_error   TEXT,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE runs (
        id              INTEGER PRIMARY KEY,
        job_id          INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        feature_id      INTEGER REFERENCES features(id) ON DELETE SET NULL,
        profile         TEXT    NOT NULL,
        role            TEXT    NOT NULL,
        pid             INTEGER,
        pgid            INTEGER,
        proc_start_time INTEGER,   -- field 22 of /proc/<pid>/stat, to tell our process from a reused pid
        started_at      INTEGER NOT NULL,
        finished_at     INTEGER,
        exit_code       INTEGER,
        signal          INTEGER,
        status          TEXT    NOT NULL,
        log_path        TEXT    NOT NULL
    );
    CREATE INDEX runs_by_status ON runs(status);
    CREATE INDEX jobs_by_state ON jobs(state);
    ",
    // 2: what agents report, per-feature overrides, testing recency, what each run used.
    "
    ALTER TABLE features ADD COLUMN model TEXT;
    ALTER TABLE features ADD COLUMN effort TEXT;
    ALTER TABLE features ADD COLUMN profile TEXT;
    ALTER TABLE features ADD COLUMN last_tested_at INTEGER;
    ALTER TABLE runs ADD COLUMN model TEXT;
    ALTER TABLE runs ADD COLUMN effort TEXT;
    CREATE TABLE reports (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER,
        feature_id INTEGER NOT NULL REFERENCES features(id) ON DELETE CASCADE,
        passed     INTEGER NOT NULL,
        reason     TEXT,
        at         INTEGER NOT NULL
    );
    CREATE INDEX reports_by_run ON reports(run_id);
    ",
    // 3: jobs as a real queue (role, account, transient retries, backoff), usage per run.
    "
    ALTER TABLE jobs ADD COLUMN role TEXT NOT NULL DEFAULT 'coding';
    ALTER TABLE jobs ADD COLUMN account TEXT NOT NULL DEFAULT '';
    ALTER TABLE jobs ADD COLUMN transient_attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN transient_budget INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN available_at INTEGER;
    UPDATE jobs SET account = profile,
        role = COALESCE((SELECT role FROM runs WHERE runs.job_id = jobs.id LIMIT 1), 'coding');
    ALTER TABLE runs ADD COLUMN input_tokens INTEGER;
    ALTER TABLE runs ADD COLUMN output_tokens INTEGER;
    ALTER TABLE runs ADD COLUMN cache_read_tokens INTEGER;
    ALTER TABLE runs ADD COLUMN cache_write_tokens INTEGER;
    ALTER TABLE runs ADD COLUMN cost_micros INTEGER;
    CREATE INDEX runs_by_job ON runs(job_id);
    CREATE INDEX runs_by_feature ON runs(feature_id);
    ",
    // 4: circuit breakers survive a restart.
    "
    CREATE TABLE breakers (
        account     TEXT PRIMARY KEY,
        state       TEXT    NOT NULL,            -- closed | open | half_open
        failures    INTEGER NOT NULL DEFAULT 0,  -- consecutive transient failures while closed
        until_ms    INTEGER,                     -- open: when a probe may start; NULL: until closed by hand
        cooldown_ms INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    ",
    // 5: each feature's git worktree and where its merge stands; settings such as the base
    // branch recorded when worktrees were first used.
    "
    CREATE TABLE worktrees (
        feature_id   INTEGER PRIMARY KEY,   -- no foreign key: a deleted feature's worktree is still cleaned up
        path         TEXT    NOT NULL,
        branch       TEXT    NOT NULL,
        base         TEXT    NOT NULL,
        base_commit  TEXT    NOT NULL,
        merge_state  TEXT    NOT NULL DEFAULT '',   -- '' | merged | waiting | conflict | review | pr | left
        merge_note   TEXT    NOT NULL DEFAULT '',
        conflicts    INTEGER NOT NULL DEFAULT 0,    -- merge conflicts met so far
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    ",
    // 6: the agent's session each run had (Claude's and Gemini's session_id, Codex's
    // thread_id), for `{session_id}`.
    "
    ALTER TABLE runs ADD COLUMN session TEXT;
    ",
];
