-- Account lifecycle (see the PostgreSQL migration of the same name). SQLite cannot add a
-- foreign key to an existing table: refresh tokens reference their session by convention
-- here, and both go with their user (ON DELETE CASCADE).
ALTER TABLE users ADD COLUMN email_verified_at TEXT;

CREATE TABLE sessions (
    id            TEXT NOT NULL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent    TEXT,
    ip            TEXT,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    revoked_at    TEXT,
    CONSTRAINT sessions_user_agent_length CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC, id DESC);

INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at)
SELECT family_id, user_id, min(created_at), max(created_at), max(expires_at),
       CASE WHEN count(revoked_at) = count(*) THEN max(revoked_at) END
FROM refresh_tokens
GROUP BY family_id, user_id;

CREATE TABLE email_verification_tokens (
    id          TEXT NOT NULL PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    token_hash  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    CONSTRAINT email_verification_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX email_verification_tokens_user_id_idx ON email_verification_tokens (user_id);
