-- The job queue, in the same database as the data it is about, so that a use case can
-- store a row and the job about it in one transaction (the transactional outbox).
--
-- Workers claim ready jobs with FOR UPDATE SKIP LOCKED (several processes share the queue)
-- under a lease (locked_by, locked_until); an expired lease makes the job runnable again.
-- Status predicates are literals in the queries so that the partial indexes apply.
CREATE TABLE jobs (
    id            uuid        PRIMARY KEY,
    queue         text        NOT NULL,
    kind          text        NOT NULL,
    payload       text        NOT NULL,
    status        text        NOT NULL,
    attempts      integer     NOT NULL DEFAULT 0,
    max_attempts  integer     NOT NULL,
    run_at        timestamptz NOT NULL,
    locked_by     uuid,
    locked_until  timestamptz,
    last_error    text,
    dedup_key     text,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT jobs_status_known
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'dead')),
    CONSTRAINT jobs_attempts_range CHECK (attempts >= 0 AND max_attempts >= 1),
    CONSTRAINT jobs_running_has_lease
        CHECK ((status = 'running') = (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);
-- What workers claim, in order.
CREATE INDEX jobs_ready_idx ON jobs (run_at, id) WHERE status IN ('queued', 'failed');
-- Leases to recover.
CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
-- What pruning deletes.
CREATE INDEX jobs_finished_idx ON jobs (updated_at) WHERE status IN ('succeeded', 'dead');
-- The admins' listing, newest first.
CREATE INDEX jobs_created_at_id_idx ON jobs (created_at DESC, id DESC);
-- At most one pending job per queue and deduplication key.
CREATE UNIQUE INDEX jobs_pending_dedup_key_idx ON jobs (queue, dedup_key)
    WHERE dedup_key IS NOT NULL AND status IN ('queued', 'running', 'failed');
