-- Users (see the PostgreSQL migration of the same name for the reasoning).
CREATE TABLE users (
    id             TEXT NOT NULL PRIMARY KEY,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    name           TEXT,
    role           TEXT NOT NULL DEFAULT 'user',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lower_case CHECK (email = lower(email)),
    CONSTRAINT users_role_known CHECK (role IN ('user', 'admin')),
    CONSTRAINT users_name_length CHECK (name IS NULL OR length(name) BETWEEN 1 AND 100)
);

CREATE INDEX users_created_at_id_idx ON users (created_at, id);
