-- The statements of one POST /api/v1/transfers (no idempotency key) as the service sends
-- them on PostgreSQL: BEGIN, one statement that locks both accounts in id order, debits,
-- credits and records the transfer (adapters/persistence/src/accounts.rs, POSTGRES_TRANSFER),
-- COMMIT. Ids come from bench_accounts (n -> id), filled by compare.sh.
\set a random(1, :accounts)
\set b (:a % :accounts) + 1
BEGIN;
WITH ids AS (
    SELECT (SELECT id FROM bench_accounts WHERE n = :a) AS source,
           (SELECT id FROM bench_accounts WHERE n = :b) AS target
), locked AS (
    SELECT a.id, a.owner_id, a.balance, a.currency, a.created_at, a.updated_at
    FROM accounts a, ids WHERE a.id IN (ids.source, ids.target) ORDER BY a.id FOR UPDATE OF a
), moved AS (
    UPDATE accounts
    SET balance = locked.balance + CASE WHEN locked.id = ids.target THEN 1 ELSE -1 END,
        updated_at = now()
    FROM locked, ids
    WHERE accounts.id = locked.id
      AND (SELECT count(*) FROM locked) = 2
      AND (SELECT count(DISTINCT currency) FROM locked) = 1
      AND (SELECT balance FROM locked WHERE locked.id = ids.source) >= 1
    RETURNING accounts.id
), recorded AS (
    INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at)
    SELECT gen_random_uuid(), ids.source, ids.target, 1, locked.currency, now()
    FROM locked, ids
    WHERE locked.id = ids.source AND (SELECT count(*) FROM moved) = 2
    RETURNING id
)
SELECT locked.*, EXISTS (SELECT FROM recorded) AS recorded FROM locked;
COMMIT;
