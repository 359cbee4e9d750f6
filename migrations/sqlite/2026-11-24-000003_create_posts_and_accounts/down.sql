DROP TABLE idempotency_keys;
DROP TABLE transfers;
DROP TABLE deposits;
DROP TABLE accounts;
DROP TABLE posts;
