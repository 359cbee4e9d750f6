-- The job queue (see the PostgreSQL migration of the same name). SQLite serves one
-- process: its claim is one UPDATE under the database's write lock.
CREATE TABLE jobs (
    id            TEXT    NOT NULL PRIMARY KEY,
    queue         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    max_attempts  INTEGER NOT NULL,
    run_at        TEXT    NOT NULL,
    locked_by     TEXT,
    locked_until  TEXT,
    last_error    TEXT,
    dedup_key     TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    CONSTRAINT jobs_status_known
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    CONSTRAINT jobs_attempts_range CHECK (attempts >= 0 AND max_attempts >= 1),
    CONSTRAINT jobs_running_has_lease
        CHECK ((status = 'running') = (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);
CREATE INDEX jobs_ready_idx ON jobs (run_at, id) WHERE status IN ('queued', 'failed');
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_finished_idx ON jobs (updated_at) WHERE status IN ('succeeded', 'dead');
CREATE INDEX jobs_created_at_id_idx ON jobs (created_at DESC, id DESC);
CREATE UNIQUE INDEX jobs_pending_dedup_key_idx ON jobs (queue, dedup_key)
    WHERE dedup_key IS NOT NULL AND status IN ('queued', 'running', 'failed');
