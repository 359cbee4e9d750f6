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
# 5. writes bench/RESULTS.md (date, commit, tables, each target of issue 7 against this run)
#    and keeps the kit's raw output under
#    shared/bench/results/.
#
# Env: ROUNDS (3), DURATION (10s), PG_ADMIN_URL (postgres://postgres@127.0.0.1:5432/postgres),
#      SVC_PORT (3000), PEER_PORT (3100), KIT (../shared/bench).
#
# Before and after a change: BASELINE=<commit> bench/compare.sh puts this service built at
# that commit (a worktree under bench/state/ab, as bench/ab.sh builds it) in the peer's
# place, with the same settings on a database of its own, runs steps 2 and 3 only, and
# writes bench/results/before-after-<commit>-<date>.md: A = the working tree, B = the
# baseline, so an A/B req/s below 1 is an endpoint that got slower.
set -euo pipefail
# Production refuses patterned secrets: a fresh random one per run.
BENCH_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
KIT="$(cd "${KIT:-../shared/bench}" && pwd)"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_BASE="${PG_ADMIN_URL%/*}"
SVC_PORT="${SVC_PORT:-3000}"; PEER_PORT="${PEER_PORT:-3100}"
export ROUNDS="${ROUNDS:-3}" DURATION="${DURATION:-10s}"
export ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password-123
BASELINE="${BASELINE:-}"
WORK="$(mktemp -d)"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
cleanup() { kill "${SVC_PID:-}" "${PEER_PID:-}" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

# Starts a build of the service in the background on a database of the local PostgreSQL,
# with the settings every run uses: `start_service BINARY PORT DATABASE NAME`.
start_service() {
  mkdir -p "$WORK/$4"
  APP_ENV=production PORT="$2" DATABASE_URL="$PG_BASE/$3" DATABASE_MAX_CONNECTIONS=10 \
    JWT_SECRET="$BENCH_JWT_SECRET" RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 \
    USER_RATE_LIMIT_MAX=1000000000 MAIL_OUTBOX_DIR="$WORK/outbox-$4" DATA_DIR="$WORK/$4" \
    RUST_LOG=warn "$1" > "$WORK/$4.log" 2>&1 &
}
wait_ready() { until curl -sf "http://127.0.0.1:$1/health/ready" >/dev/null; do sleep 0.005; done; }
recreate_databases() {
  for db in "$@"; do
    psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  done
}

log "building release"
cargo build --release --quiet -p bootstrap

if [ -n "$BASELINE" ]; then
  baseline="$(git rev-parse --short "$BASELINE")"
  dir="bench/state/ab/$baseline"
  log "building the baseline $baseline"
  mkdir -p bench/state/ab
  if [ ! -d "$dir" ]; then git worktree add -q --detach "$dir" "$baseline"; fi
  (cd "$dir" && CARGO_TARGET_DIR="$PWD/../target-$baseline" cargo build --release --quiet -p bootstrap)
  recreate_databases svc_bench base_bench
  start_service ./target/release/backend "$SVC_PORT" svc_bench after
  SVC_PID=$!
  start_service "bench/state/ab/target-$baseline/release/backend" "$PEER_PORT" base_bench before
  PEER_PID=$!
  wait_ready "$SVC_PORT"; wait_ready "$PEER_PORT"
  log "A/B comparison: $ROUNDS rounds, A = the working tree, B = $baseline"
  out="bench/results/before-after-$baseline-$(date +%Y%m%d).md"
  BASE_A="http://127.0.0.1:$SVC_PORT" PID_A="$SVC_PID" LABEL_A=after \
  BASE_B="http://127.0.0.1:$PEER_PORT" PID_B="$PEER_PID" LABEL_B="before-$baseline" \
    "$KIT/compare.sh" | tee "$WORK/compare.md"
  {
    echo "# Before and after: $baseline against the working tree on $(git rev-parse --short HEAD)"
    echo
    echo "Written by \`BASELINE=$baseline bench/compare.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ),"
    echo "$(nproc) cores shared by both builds, each on a PostgreSQL database of its own with the"
    echo "same settings (release, \`APP_ENV=production\`, pool 10, rate limits at 10^9, request log"
    echo "off). A = after (the working tree), B = before ($baseline); each round runs"
    echo "shared/bench/load.sh against A then B; figures are medians over the rounds. A req/s A/B"
    echo "below 1 is an endpoint that got slower."
    echo
    sed -n '/^## A\/B/,$p' "$WORK/compare.md"
  } > "$out"
  log "wrote $out"
  exit 0
fi

cargo build --release --quiet -p adapter-crypto --example argon2_verify
recreate_databases svc_bench peer_bench
(cd "$KIT/peer-express" && ./setup.sh >/dev/null)

log "starting the service"
STARTED="$(date +%s%N)"
start_service ./target/release/backend "$SVC_PORT" svc_bench service
SVC_PID=$!
wait_ready "$SVC_PORT"
COLD_START_MS=$(( ($(date +%s%N) - STARTED) / 1000000 ))
sleep 1; IDLE_RSS="$(rss_mib "$SVC_PID")"
# Start to healthy on an existing database: stop and start again.
kill "$SVC_PID"; wait "$SVC_PID" 2>/dev/null || true
STARTED="$(date +%s%N)"
start_service ./target/release/backend "$SVC_PORT" svc_bench service
SVC_PID=$!
wait_ready "$SVC_PORT"
WARM_START_MS=$(( ($(date +%s%N) - STARTED) / 1000000 ))

log "starting the peer"
(cd "$KIT/peer-express" && NODE_ENV=production PORT="$PEER_PORT" DATABASE_URL="$PG_BASE/peer_bench" \
  DATABASE_MAX_CONNECTIONS=10 JWT_SECRET="$BENCH_JWT_SECRET" \
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

# One column (1-based, counting the empty field before the first `|`) of an endpoint's row
# in the kit's A/B table (the per-round tables before it have other columns): 3 = A req/s,
# 5 = ratio, 6/7 = A/B p99, 9 = A cpu%, 11 = A RSS.
column() {
  awk -F'|' -v row="$1" -v col="$2" '/^## A\/B/ {ab = 1} ab && $2 ~ row {gsub(/[ *]/, "", $col); print $col; exit}' "$WORK/compare.md"
}
verdict() { awk "BEGIN {exit !($1)}" && echo met || echo "**not met**"; }

# Each target of issue 7 against this run's numbers, and for a missed one what bounds it.
targets() {
  local verify_ms health_r user_r user_p99a user_p99b search_r search_rps search_cpu
  local transfer_r transfer_rps login_rps login_bound peak_rss
  verify_ms="$(sed -E 's/.*verify: ([0-9.]+) ms.*/\1/' <<<"$VERIFY")"
  health_r="$(column 'GET /health' 5)"
  user_r="$(column 'users/[{]id[}]' 5)"; user_p99a="$(column 'users/[{]id[}]' 6)"; user_p99b="$(column 'users/[{]id[}]' 7)"
  search_r="$(column 'search' 5)"; search_rps="$(column 'search' 3)"; search_cpu="$(column 'search' 9)"
  transfer_r="$(column 'transfers' 5)"; transfer_rps="$(column 'transfers' 3)"
  login_rps="$(column 'login' 3)"
  login_bound="$(awk -v c="$(nproc)" -v ms="$verify_ms" 'BEGIN {printf "%.1f", c * 1000 / ms}')"
  peak_rss="$(for e in 'GET /health' 'users/[{]id[}]' search transfers login; do column "$e" 11; done | sort -g | tail -1)"
  echo "## Against the targets (issue 7)"
  echo
  echo "| target | this run | status |"
  echo "|---|---|---|"
  echo "| GET /health >= 10x the peer | ${health_r}x | $(verdict "$health_r >= 10") |"
  echo "| GET /users/{id} >= 10x, p99 below the peer's | ${user_r}x, p99 $user_p99a vs $user_p99b ms | $(verdict "$user_r >= 10 && $user_p99a < $user_p99b") |"
  echo "| GET /users?search >= 20x | ${search_r}x; $search_rps req/s = $(awk -v a="$search_rps" -v b="$SEARCH_TPS" 'BEGIN {printf "%.0f", 100 * a / b}') % of PostgreSQL's rate for the page statement alone ($SEARCH_TPS/s) with the service using $search_cpu % of a core | $(verdict "$search_r >= 20") |"
  echo "| POST /transfers >= 2.5x and >= 70 % of pgbench | ${transfer_r}x; $(awk -v a="$transfer_rps" -v b="$TRANSFER_TPS" 'BEGIN {printf "%.0f", 100 * a / b}') % of pgbench's transfer transaction | $(verdict "$transfer_r >= 2.5 && $transfer_rps >= 0.7 * $TRANSFER_TPS") |"
  echo "| login >= 90 % of cores / verify time | $login_rps/s = $(awk -v a="$login_rps" -v b="$login_bound" 'BEGIN {printf "%.0f", 100 * a / b}') % of $login_bound/s | $(verdict "$login_rps >= 0.9 * $login_bound") |"
  echo "| peak RSS under load < 64 MiB | $peak_rss MiB (highest endpoint) | $(verdict "$peak_rss < 64") |"
  echo "| start to healthy < 300 ms, existing database | $WARM_START_MS ms | $(verdict "$WARM_START_MS < 300") |"
  echo
  echo "Where a target is not met, bench/README.md (\"Where the service stands\") has the profile"
  echo "and the limit it shows. The search at 100,000 users is measured by bench/search-100k.sh,"
  echo "login with /health probed meanwhile by bench/login.sh."
}

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
  echo
  targets
} > bench/RESULTS.md
cat bench/RESULTS.md
