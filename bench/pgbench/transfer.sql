-- The statements of one POST /api/v1/transfers (no idempotency key) as the service sends
-- them: read both accounts (one statement), debit and credit in account-id order, insert the transfer.
-- Ids come from bench_accounts (n -> id), filled by compare.sh.
\set a random(1, :accounts)
\set b (:a % :accounts) + 1
BEGIN;
SELECT id, owner_id, balance, currency FROM accounts WHERE id IN (SELECT id FROM bench_accounts WHERE n IN (:a, :b));
UPDATE accounts SET balance = balance + CASE WHEN n = :b THEN 1 ELSE -1 END, updated_at = now() FROM bench_accounts WHERE bench_accounts.id = accounts.id AND n IN (:a, :b) AND accounts.id = (SELECT id FROM bench_accounts WHERE n IN (:a, :b) ORDER BY id LIMIT 1);
UPDATE accounts SET balance = balance + CASE WHEN n = :b THEN 1 ELSE -1 END, updated_at = now() FROM bench_accounts WHERE bench_accounts.id = accounts.id AND n IN (:a, :b) AND accounts.id = (SELECT id FROM bench_accounts WHERE n IN (:a, :b) ORDER BY id DESC LIMIT 1);
INSERT INTO transfers (id, from_account_id, to_account_id, amount, currency, created_at)
  SELECT gen_random_uuid(), f.id, t.id, 1, 'USD', now() FROM bench_accounts f, bench_accounts t WHERE f.n = :a AND t.n = :b;
COMMIT;
