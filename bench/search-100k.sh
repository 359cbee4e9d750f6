#!/usr/bin/env bash
# The users search under load with 100,000 users, on PostgreSQL. From the repository root:
#
#   bench/search-100k.sh
#
# Starts the service on a fresh database, lets the load kit register its users
# (PREP_ONLY), bulk-inserts USERS (100000) more with names from the kit's 20 words (so every
# search term matches 1/10 of them; one shared dummy hash, not argon2), VACUUM ANALYZE, then
# runs the kit's list endpoint (wrk -c64, GET /api/v1/users?limit=10&search=<term>) and
# appends the table to bench/results/search-100k-<date>.md.
#
# Env: USERS (100000), DURATION (10s), REPEAT (3), PG_ADMIN_URL, PORT (3010), KIT (../shared/bench).
set -euo pipefail
# Production refuses patterned secrets: a fresh random one per run.
BENCH_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KIT="$(cd "${KIT:-../shared/bench}" && pwd)"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB_URL="${PG_ADMIN_URL%/*}/svc_search_100k"
PORT="${PORT:-3010}"; BULK="${USERS:-100000}"
export ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password-123
WORK="$(mktemp -d)"
trap 'kill "${SVC_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --quiet -p bootstrap
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS svc_search_100k WITH (FORCE)" -c "CREATE DATABASE svc_search_100k"
APP_ENV=production PORT="$PORT" DATABASE_URL="$DB_URL" DATABASE_MAX_CONNECTIONS=10 \
  JWT_SECRET="$BENCH_JWT_SECRET" RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 USER_RATE_LIMIT_MAX=1000000000 \
  MAIL_OUTBOX_DIR="$WORK/outbox" DATA_DIR="$WORK" RUST_LOG=warn ./target/release/backend > "$WORK/svc.log" 2>&1 &
SVC_PID=$!
until curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null; do sleep 0.05; done

PREP_ONLY=1 FRESH=1 STATE_DIR="$WORK/state" "$KIT/load.sh" "http://127.0.0.1:$PORT" search-100k-prep >/dev/null 2>&1
psql -q -v ON_ERROR_STOP=1 "$DB_URL" <<SQL
INSERT INTO users (id, email, password_hash, name, role, created_at, updated_at)
SELECT gen_random_uuid(), 'bulk' || i || '@example.com', '\$argon2id\$v=19\$m=19456,t=2,p=1\$c2FsdHNhbHQ\$aGFzaGhhc2hoYXNo',
       (string_to_array('$(sed -n 's/^export FIRST_NAMES="\(.*\)"/\1/p' "$KIT/load.sh")', ' '))[1 + i % 10] || ' ' ||
       (string_to_array('$(sed -n 's/^export LAST_NAMES="\(.*\)"/\1/p' "$KIT/load.sh")', ' '))[1 + (i / 10) % 10],
       'user', now() - (i || ' seconds')::interval, now()
FROM generate_series(1, $BULK) AS i;
VACUUM ANALYZE users;
SQL
TOTAL="$(psql -Atq "$DB_URL" -c 'SELECT count(*) FROM users')"
mkdir -p bench/results
OUT="bench/results/search-100k-$(date -u +%Y%m%d).md"
ENDPOINTS=list REPEAT="${REPEAT:-3}" DURATION="${DURATION:-10s}" SERVER_PID="$SVC_PID" STATE_DIR="$WORK/state" \
  RESULTS_DIR="$WORK/results" "$KIT/load.sh" "http://127.0.0.1:$PORT" "search-$TOTAL-users" > "$WORK/list.md" 2>"$WORK/list.log"
{
  echo "## Users search with $TOTAL users, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)"
  echo
  echo "Each of the kit's 20 search terms matches about 1/10 of the users; page and count use the trigram index."
  echo
  sed -n '/^| endpoint/,/^$/p' "$WORK/list.md"
} | tee -a "$OUT"
