#!/usr/bin/env bash
# Query plan of the users search at scale, on PostgreSQL.
#
#   bench/search-plan.sh [ADMIN_URL]    (default postgres://postgres@127.0.0.1:5432/postgres)
#
# Creates a scratch database, applies migrations/postgres, bulk-inserts USERS (100000) users
# named like the load kit's ("<first> <last>" from 10 + 10 words, so each word matches 1/10 of
# them; not through argon2: one shared dummy hash), then prints EXPLAIN (ANALYZE, BUFFERS) of
# the two statements the repository sends for `GET /api/v1/users?search=<term>&limit=10`
# (on the generated column search_text = lower(name) || '\n' || email)
# (the page, then the count). VACUUM first: a bulk-loaded GIN index keeps its entries in a
# pending list until vacuumed, which makes the planner shun it; autovacuum does this in
# steady state.
# Drops the scratch database at the end.
set -euo pipefail
ADMIN_URL="${1:-postgres://postgres@127.0.0.1:5432/postgres}"
USERS="${USERS:-100000}"
TERM_="${TERM_:-quinn}"
DB="search_plan_$$"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DB_URL="${ADMIN_URL%/*}/$DB"

psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB"
trap 'psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
for migration in "$HERE"/migrations/postgres/*/up.sql; do psql -q -v ON_ERROR_STOP=1 "$DB_URL" -f "$migration"; done

psql -q -v ON_ERROR_STOP=1 "$DB_URL" <<SQL
INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at)
SELECT gen_random_uuid(),
       'user' || i || '@example.com',
       '\$argon2id\$v=19\$m=19456,t=2,p=1\$c2FsdHNhbHQ\$aGFzaGhhc2hoYXNo',
       (ARRAY['Alex','Blake','Casey','Drew','Emery','Finley','Gray','Harper','Indigo','Jules'])[1 + i % 10] || ' ' ||
       (ARRAY['Quinn','Reyes','Sato','Torres','Ueda','Vance','Wolfe','Xu','Young','Zimmer'])[1 + (i / 10) % 10],
       'user', now() - (i || ' seconds')::interval, now()
FROM generate_series(1, $USERS) AS i;
VACUUM ANALYZE users;
SQL

echo "== $USERS users; search '$TERM_' (matches $(psql -Atq "$DB_URL" -c "SELECT count(*) FROM users WHERE search_text LIKE '%$TERM_%'"))"
psql -q "$DB_URL" <<SQL
PREPARE page(text, bigint, bigint) AS
  SELECT users.id, users.email, users.name, users.role, users.created_at, users.updated_at
  FROM users
  WHERE users.search_text LIKE \$1 ESCAPE '\\'
  ORDER BY users.created_at ASC, users.id ASC
  LIMIT \$2 OFFSET \$3;
PREPARE total(text) AS
  SELECT COUNT(*) FROM users WHERE users.search_text LIKE \$1 ESCAPE '\\';
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page('%$TERM_%', 10, 0);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE total('%$TERM_%');
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE page('%user12345@%', 10, 0);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE total('%user12345@%');
SQL
