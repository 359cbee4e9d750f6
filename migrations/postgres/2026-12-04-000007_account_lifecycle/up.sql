-- Account lifecycle: verified email addresses, sessions a user can list and revoke, and
-- email-verification tokens.
--
-- A session is a refresh-token family (refresh_tokens.family_id = sessions.id) together with
-- what the user sees of it. Access tokens carry their session id; the authenticator refuses
-- a token whose session is revoked.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

CREATE TABLE sessions (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_agent    text,
    ip            text,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    CONSTRAINT sessions_user_agent_length CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC, id DESC);

-- The families that exist already become sessions (without a user agent or address).
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at)
SELECT family_id, user_id, min(created_at), max(created_at), max(expires_at),
       CASE WHEN count(revoked_at) = count(*) THEN max(revoked_at) END
FROM refresh_tokens
GROUP BY family_id, user_id;

ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_family_id_fkey
    FOREIGN KEY (family_id) REFERENCES sessions (id) ON DELETE CASCADE;

-- One live token per user (a newer one supersedes the older); `email` is the address the
-- token verifies, so that a token sent before an address change cannot verify the new one.
CREATE TABLE email_verification_tokens (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       text        NOT NULL,
    token_hash  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT email_verification_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX email_verification_tokens_user_id_idx ON email_verification_tokens (user_id);
