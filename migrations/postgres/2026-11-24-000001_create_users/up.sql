-- Users. The email is stored lower-cased by the application; the unique constraint on it
-- is what makes "email taken" reliable under concurrent sign-ups (the adapter recognises
-- the constraint by name: users_email_key).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    email          text        NOT NULL,
    password_hash  text        NOT NULL,
    name           text,
    role           text        NOT NULL DEFAULT 'user',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lower_case CHECK (email = lower(email)),
    CONSTRAINT users_role_known CHECK (role IN ('user', 'admin')),
    CONSTRAINT users_name_length CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 100)
);

-- Listing order.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);
-- Case-insensitive substring search (`ILIKE '%term%'`) on name and email without a full scan.
CREATE INDEX users_name_trgm_idx ON users USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
