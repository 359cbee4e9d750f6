-- Posts, and accounts with their ledger: deposits, transfers, and idempotency keys.
-- Money is bigint minor units. A balance can never go negative (CHECK), whatever the code
-- does; transfers and deposits keep their history, so an account with history cannot be
-- deleted (RESTRICT), and neither can a user who owns accounts.
CREATE TABLE posts (
    id          uuid        PRIMARY KEY,
    title       text        NOT NULL,
    content     text,
    published   boolean     NOT NULL DEFAULT false,
    author_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT posts_title_length CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT posts_content_length CHECK (content IS NULL OR char_length(content) <= 100000)
);
CREATE INDEX posts_created_at_id_idx ON posts (created_at DESC, id DESC);
CREATE INDEX posts_author_id_idx ON posts (author_id, created_at DESC);
CREATE INDEX posts_title_trgm_idx ON posts USING gin (title gin_trgm_ops);

CREATE TABLE accounts (
    id          uuid        PRIMARY KEY,
    owner_id    uuid        NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    balance     bigint      NOT NULL DEFAULT 0,
    currency    text        NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT accounts_balance_non_negative CHECK (balance >= 0),
    CONSTRAINT accounts_currency_code CHECK (currency ~ '^[A-Z]{3}$')
);
CREATE INDEX accounts_owner_id_idx ON accounts (owner_id, created_at);

CREATE TABLE deposits (
    id          uuid        PRIMARY KEY,
    account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    amount      bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    CONSTRAINT deposits_amount_positive CHECK (amount > 0)
);
CREATE INDEX deposits_account_id_idx ON deposits (account_id);

CREATE TABLE transfers (
    id               uuid        PRIMARY KEY,
    from_account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    to_account_id    uuid        NOT NULL REFERENCES accounts (id) ON DELETE RESTRICT,
    amount           bigint      NOT NULL,
    currency         text        NOT NULL,
    created_at       timestamptz NOT NULL,
    CONSTRAINT transfers_amount_positive CHECK (amount > 0),
    CONSTRAINT transfers_distinct_accounts CHECK (from_account_id <> to_account_id)
);
CREATE INDEX transfers_from_idx ON transfers (from_account_id, created_at DESC, id DESC);
CREATE INDEX transfers_to_idx ON transfers (to_account_id, created_at DESC, id DESC);

-- A client's Idempotency-Key, per user, for 24 hours: the first request's fingerprint and
-- the id of what it created (a transfer or a deposit).
CREATE TABLE idempotency_keys (
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text        NOT NULL,
    fingerprint  text        NOT NULL,
    resource_id  uuid        NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
