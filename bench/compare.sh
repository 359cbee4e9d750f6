#!/usr/bin/env bash
# The service against the Express peer (shared/bench/peer-express), side by side, in one
# command, and the limits that bound both. From the repository root:
#
#   bench/compare.sh
#
# 1. builds release; recreates the databases svc_bench and peer_bench on the local
#    PostgreSQL; installs the peer's dependencies (npm ci, idempotent);
# 2. starts this service (production settings, pool 10, rate limits off, request log off)
#    and measures start-to-healthy time and idle RSS; starts the peer (`node app.js`, pool 10,
#    request log off);
# 3. runs the kit's compare.sh: load.sh against both, alternated A B A B A B (ROUNDS), medians;
# 4. measures the limits in the same window: pgbench select-by-id, the users search page
#    and the transfer transaction (bench/pgbench/*.sql, 10 clients like the pools, prepared statements like
#    the service), one argon2id verify;
# 5. writes bench/RESULTS.md (date, commit, tables) and keeps the kit's raw output under
#    shared/bench/results/.
#
# Env: ROUNDS (3), DURATION (10s), PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
#      SVC_PORT (3000), PEER_PORT (3100), KIT (../shared/bench).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
KIT="$(cd "${KIT:-../shared/bench}" && pwd)"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_BASE="${PG_ADMIN_URL%/*}"
SVC_PORT="${SVC_PORT:-3000}"; PEER_PORT="${PEER_PORT:-3100}"
export ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-10s}"
export ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password-123
WORK="$(mktemp -d)"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
cleanup() { kill "${SVC_PID:-}" "${PEER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

log "building release"
cargo build --release --quiet -p bootstrap
cargo build --release --quiet -p adapter-crypto --example argon2_verify
for db in svc_bench peer_bench; do
  psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
done
(cd "$KIT/peer-express" && ./setup.sh >/dev/null)

log "starting the service"
STARTED="$(date +%s%N)"
APP_ENV=production PORT="$SVC_PORT" DATABASE_URL="$PG_BASE/svc_bench" DATABASE_MAX_CONNECTIONS=10 \
  JWT_SECRET="bench-secret-bench-secret-bench-secret!!" RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 \
  MAIL_OUTBOX_DIR="$WORK/outbox" DATA_DIR="$WORK" RUST_LOG=warn \
  ./target/release/backend > "$WORK/svc.log" 2>&1 &
SVC_PID=$!
until curl -sf "http://127.0.0.1:$SVC_PORT/health/ready" >/dev/null; do sleep 0.005; done
COLD_START_MS=$(( ($(date +%s%N) - STARTED) / 1000000 ))
sleep 1; IDLE_RSS="$(rss_mib "$SVC_PID")"
# Start to healthy on an existing database: stop and start again.
kill "$SVC_PID"; wait "$SVC_PID" 2>/dev/null || true
STARTED="$(date +%s%N)"
APP_ENV=production PORT="$SVC_PORT" DATABASE_URL="$PG_BASE/svc_bench" DATABASE_MAX_CONNECTIONS=10 \
  JWT_SECRET="bench-secret-bench-secret-bench-secret!!" RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 \
  MAIL_OUTBOX_DIR="$WORK/outbox" DATA_DIR="$WORK" RUST_LOG=warn \
  ./target/release/backend > "$WORK/svc.log" 2>&1 &
SVC_PID=$!
until curl -sf "http://127.0.0.1:$SVC_PORT/health/ready" >/dev/null; do sleep 0.005; done
WARM_START_MS=$(( ($(date +%s%N) - STARTED) / 1000000 ))

log "starting the peer"
(cd "$KIT/peer-express" && NODE_ENV=production PORT="$PEER_PORT" DATABASE_URL="$PG_BASE/peer_bench" \
  DATABASE_MAX_CONNECTIONS=10 JWT_SECRET="bench-secret-bench-secret-bench-secret!!" \
  exec node app.js > "$WORK/peer.log" 2>&1) &
PEER_PID=$!
until curl -sf "http://127.0.0.1:$PEER_PORT/health" >/dev/null; do sleep 0.05; done
PEER_IDLE_RSS="$(rss_mib "$PEER_PID")"

log "A/B comparison: $ROUNDS rounds"
BASE_A="http://127.0.0.1:$SVC_PORT" PID_A="$SVC_PID" LABEL_A=rust \
BASE_B="http://127.0.0.1:$PEER_PORT" PID_B="$PEER_PID" LABEL_B=express \
  "$KIT/compare.sh" | tee "$WORK/compare.md"

log "limits: pgbench and argon2"
psql -q "$PG_BASE/svc_bench" -c "DROP TABLE IF EXISTS bench_users, bench_accounts" \
  -c "CREATE TABLE bench_users AS SELECT row_number() OVER () AS n, id FROM users" \
  -c "CREATE TABLE bench_accounts AS SELECT row_number() OVER () AS n, id FROM accounts" \
  -c "CREATE UNIQUE INDEX ON bench_users (n)" -c "CREATE UNIQUE INDEX ON bench_accounts (n)"
USERS_N="$(psql -Atq "$PG_BASE/svc_bench" -c 'SELECT count(*) FROM bench_users')"
ACCOUNTS_N="$(psql -Atq "$PG_BASE/svc_bench" -c 'SELECT count(*) FROM bench_accounts')"
pgbench_tps() { pgbench -n -M prepared -c 10 -j 2 -T 10 --max-tries=10 "$@" 2>/dev/null | awk '/^tps/ {printf "%.0f", $3}'; }
SELECT_TPS="$(pgbench_tps -D users="$USERS_N" -f bench/pgbench/select-by-id.sql "$PG_BASE/svc_bench")"
TRANSFER_TPS="$(pgbench_tps -D accounts="$ACCOUNTS_N" -f bench/pgbench/transfer.sql "$PG_BASE/svc_bench")"
SEARCH_TPS="$(pgbench_tps -f bench/pgbench/search.sql "$PG_BASE/svc_bench")"
VERIFY="$(./target/release/examples/argon2_verify 40)"

log "writing bench/RESULTS.md"
{
  echo "# Benchmark results"
  echo
  echo "Written by \`bench/compare.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD),"
  echo "$(nproc) cores shared by both servers, PostgreSQL $(psql -Atq "$PG_ADMIN_URL" -c 'SHOW server_version' | cut -d' ' -f1) and wrk."
  echo "A = this service (release, \`APP_ENV=production\`, pool 10, rate limits at 10^9, request log off);"
  echo "B = the Express peer (\`node app.js\`, one process, pool 10, request log off, no rate limiter)."
  echo "Each round runs shared/bench/load.sh against A then B; figures are medians over the rounds."
  echo
  sed -n '/^## A\/B/,$p' "$WORK/compare.md"
  echo
  echo "## Limits measured in the same window"
  echo
  echo "| measure | value |"
  echo "|---|---:|"
  echo "| pgbench select-by-id (10 clients, prepared) | $SELECT_TPS tps |"
  echo "| pgbench transfer transaction (10 clients, prepared, the service's statements) | $TRANSFER_TPS tps |"
  echo "| pgbench users search page (10 clients, prepared, the service's statement) | $SEARCH_TPS tps |"
  echo "| argon2id verify, one core | $(sed -E 's/.*verify: ([0-9.]+) ms.*/\1/' <<<"$VERIFY") ms |"
  echo "| service: start to healthy, new database (migrations) | $COLD_START_MS ms |"
  echo "| service: start to healthy, existing database | $WARM_START_MS ms |"
  echo "| service: RSS at idle | $IDLE_RSS MiB |"
  echo "| peer: RSS at idle | $PEER_IDLE_RSS MiB |"
} > bench/RESULTS.md
cat bench/RESULTS.md
