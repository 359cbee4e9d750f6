-- Posts, accounts and their ledger (see the PostgreSQL migration of the same name).
CREATE TABLE posts (
    id          TEXT    NOT NULL PRIMARY KEY,
    title       TEXT    NOT NULL,
    content     TEXT,
    published   BOOLEAN NOT NULL DEFAULT 0,
    author_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CONSTRAINT posts_title_length CHECK (length(title) BETWEEN 1 AND 200),
    CONSTRAINT posts_content_length CHECK (content IS NULL OR length(content) <= 100000)
);
CREATE INDEX posts_created_at_id_idx ON posts (created_at DESC, id DESC);
CREATE INDEX posts_author_id_idx ON posts (author_id, created_at DESC);

CREATE TABLE accounts (
    id          TEXT    NOT NULL PRIMARY KEY,
    owner_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    balance     BIGINT  NOT NULL DEFAULT 0,
    currency    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    CONSTRAINT accounts_balance_non_negative CHECK (balance >= 0),
    CONSTRAINT accounts_currency_code CHECK (length(currency) = 3 AND currency = upper(currency))
);
CREATE INDEX accounts_owner_id_idx ON accounts (owner_id, created_at);

CREATE TABLE deposits (
    id          TEXT   NOT NULL PRIMARY KEY,
    account_id  TEXT   NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    amount      BIGINT NOT NULL,
    created_at  TEXT   NOT NULL,
    CONSTRAINT deposits_amount_positive CHECK (amount > 0)
);
CREATE INDEX deposits_account_id_idx ON deposits (account_id);

CREATE TABLE transfers (
    id               TEXT   NOT NULL PRIMARY KEY,
    from_account_id  TEXT   NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    to_account_id    TEXT   NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    amount           BIGINT NOT NULL,
    currency         TEXT   NOT NULL,
    created_at       TEXT   NOT NULL,
    CONSTRAINT transfers_amount_positive CHECK (amount > 0),
    CONSTRAINT transfers_distinct_accounts CHECK (from_account_id <> to_account_id)
);
CREATE INDEX transfers_from_idx ON transfers (from_account_id, created_at DESC, id DESC);
CREATE INDEX transfers_to_idx ON transfers (to_account_id, created_at DESC, id DESC);

CREATE TABLE idempotency_keys (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
