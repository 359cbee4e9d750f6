#!/usr/bin/env bash
# Several instances behind HAProxy (deploy/run.sh), in one window: `GET /users/{id}` and
# `POST /transfers` driven by the shared kit's load.sh through the balancer, with one
# instance and with two, with the Redis rate limiter (REDIS_URL) on and off, plus one
# instance without the balancer as the reference. From the repository root:
#
#   bench/balancer.sh            # writes bench/results/balancer-<date>.md
#
# For every configuration it also states
# - the Redis round trips per request: INFO commandstats before and after 200 sequential
#   requests of each kind, without the commands run inside Lua scripts (no other client of
#   that Redis may run meanwhile);
# - where the CPU went during the measured runs: the instances, HAProxy, Redis and
#   PostgreSQL, in CPU-seconds (from /proc/<pid>/stat), against the requests served.
#
# Env: DURATION (10s), REPEAT (3), CONNS (64), PG_ADMIN_URL, REDIS_BENCH_URL
#      (redis://127.0.0.1:6379/14), KIT (../shared/bench), CONFIGS (instances-redis-direct
#      triples, default "1-off-yes 1-off-no 1-on-no 2-off-no 2-on-no"), BACKEND_BIN
#      (target/release/backend), OUT (bench/results/balancer-<date>.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
KIT="$(cd "${KIT:-../shared/bench}" && pwd)"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_BENCH_URL="${REDIS_BENCH_URL:-redis://127.0.0.1:6379/14}"
export DURATION="${DURATION:-10s}" REPEAT="${REPEAT:-3}" CONNS="${CONNS:-64}"
export ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=admin-password-123
export ENDPOINTS="user transfer" WARMUP=3s
WORK="$(mktemp -d)"
OUT="${OUT:-bench/results/balancer-$(date +%Y%m%d).md}"
# The executable under test (deploy/run.sh reads it too): another build for an A/B.
export BACKEND_BIN="${BACKEND_BIN:-target/release/backend}"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
RUN_PID=
stop_cluster() {
  [ -n "$RUN_PID" ] && { kill "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" 2>/dev/null || true; }
  RUN_PID=
}
trap 'stop_cluster; rm -rf "$WORK"' EXIT

log "building release"
cargo build --release --quiet --bin backend
bash deploy/install-haproxy.sh
psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS balancer_bench WITH (FORCE)" -c "CREATE DATABASE balancer_bench"
redis_cli() { redis-cli -u "$REDIS_BENCH_URL" "$@"; }
redis_cli FLUSHDB >/dev/null

# CPU ticks (user + system) of a process and its children's.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ="$(getconf CLK_TCK)"
# PostgreSQL: every live process of its user, plus what the postmasters' exited children
# used (cutime + cstime), so that a backend that ends during the run still counts.
pg_ticks() {
  local live exited=0 pid
  live=$(sum_ticks $(pgrep -u postgres))
  for pid in $(head -q -n 1 /var/run/postgresql/*.pid 2>/dev/null); do
    exited=$((exited + $(awk '{print $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo $((live + exited))
}
REDIS_PID="$(pgrep -o redis-server)"

# Starts `instances` instances (and the balancer unless `direct`), Redis on or off.
start_cluster() { # instances redis(on|off) direct(yes|no)
  local instances="$1" redis="$2" direct="$3" url
  url=$([ "$redis" = on ] && echo "$REDIS_BENCH_URL" || echo "")
  if [ "$direct" = yes ]; then
    APP_ENV=production HOST=127.0.0.1 PORT=3001 DATABASE_URL="${PG_ADMIN_URL%/*}/balancer_bench" \
      REDIS_URL="$url" JWT_SECRET="$JWT_SECRET" DATA_DIR="$WORK" RUST_LOG=warn \
      "$BACKEND_BIN" > "$WORK/direct.log" 2>&1 &
    RUN_PID=$!
    BASE=http://127.0.0.1:3001
  else
    APP_ENV=production REDIS_URL="$url" DATABASE_URL="${PG_ADMIN_URL%/*}/balancer_bench" \
      HAPROXY_BIND=127.0.0.1:8080 LOG_DIR="$WORK" RUST_LOG=warn DATA_DIR="$WORK" \
      deploy/run.sh "$instances" > "$WORK/run.log" 2>&1 &
    RUN_PID=$!
    BASE=http://127.0.0.1:8080
  fi
  for _ in $(seq 1 200); do curl -sf "$BASE/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf "$BASE/health/ready" >/dev/null
  sleep 1
}

# The pids whose CPU is reported: instances, haproxy.
instance_pids() { pgrep -f "$BACKEND_BIN" | tr '\n' ' '; }
sum_ticks() { local total=0 p; for p in "$@"; do total=$((total + $(ticks "$p"))); done; echo "$total"; }

# Redis commands per request: 200 sequential GET /users/{id} and 200 transfers.
round_trips() {
  local token account_a account_b me before after users transfers
  token=$(curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
  me=$(curl -sf "$BASE/api/v1/auth/me" -H "authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  account_a=$(curl -sf "$BASE/api/v1/accounts" -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"currency":"USD"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  account_b=$(curl -sf "$BASE/api/v1/accounts" -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"currency":"USD"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  curl -sf "$BASE/api/v1/accounts/$account_a/deposits" -H "authorization: Bearer $token" -H 'content-type: application/json' -d '{"amount":100000}' >/dev/null
  # Round trips: commands sent by the instances. INFO counts the commands a Lua script runs
  # too (INCR, PTTL, PEXPIRE, GET: only ever run inside the rate-limit scripts here), and
  # this script's own INFO, and the pub/sub connections' heartbeat PINGs.
  calls() { redis_cli INFO commandstats | awk -F'[=,:]' '/^cmdstat_/ && !/cmdstat_(info|ping|incr|pttl|pexpire|get)[:|]/ {s += $3} END {print s + 0}'; }
  before=$(calls)
  for _ in $(seq 1 200); do curl -sf -o /dev/null "$BASE/api/v1/users/$me" -H "authorization: Bearer $token"; done
  after=$(calls); users=$(python3 -c "print(round(($after - $before) / 200, 2))")
  before=$(calls)
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "$BASE/api/v1/transfers" -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"fromAccountId\":\"$account_a\",\"toAccountId\":\"$account_b\",\"amount\":1}"
  done
  after=$(calls); transfers=$(python3 -c "print(round(($after - $before) / 200, 2))")
  echo "$users $transfers"
}

export RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 USER_RATE_LIMIT_MAX=1000000000
export MAIL_OUTBOX_DIR="$WORK/outbox"
export JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
printf '| configuration | endpoint | req/s | p50 ms | p99 ms | non-2xx | CPU-s instances | CPU-s HAProxy | CPU-s Redis | CPU-s PostgreSQL | Redis commands / request |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n' > "$WORK/table.md"
for config in ${CONFIGS:-1-off-yes 1-off-no 1-on-no 2-off-no 2-on-no}; do
  config="${config//-/ }"
  read -r instances redis direct <<<"$config"
  label="$instances instance(s), Redis $redis$([ "$direct" = yes ] && echo ', no balancer' || echo ', HAProxy')"
  log "$label"
  start_cluster "$instances" "$redis" "$direct"
  # shellcheck disable=SC2046
  set -- $(instance_pids)
  HAPROXY_PID="$(pgrep -n haproxy || true)"
  t_inst=$(sum_ticks "$@"); t_ha=$(ticks "${HAPROXY_PID:-0}"); t_redis=$(ticks "$REDIS_PID"); t_pg=$(pg_ticks)
  STATE_DIR="$WORK/state" RESULTS_DIR="$WORK/results" OUT_TSV="$WORK/summary.tsv" \
    "$KIT/load.sh" "$BASE" "balancer" > "$WORK/load.log" 2>&1 || { cat "$WORK/load.log"; exit 1; }
  d_inst=$(( $(sum_ticks "$@") - t_inst )); d_ha=$(( $(ticks "${HAPROXY_PID:-0}") - t_ha )); d_redis=$(( $(ticks "$REDIS_PID") - t_redis ))
  d_pg=$(( $(pg_ticks) - t_pg ))
  read -r rt_users rt_transfers <<<"$(round_trips)"
  awk -F'\t' -v label="$label" -v hz="$HZ" -v ci="$d_inst" -v ch="$d_ha" -v cr="$d_redis" -v cp="$d_pg" \
      -v ru="$rt_users" -v rt="$rt_transfers" -v direct="$direct" 'NR > 1 {
    name = ($1 == "user") ? "GET /users/{id}" : "POST /transfers"
    ha = (direct == "yes") ? "-" : sprintf("%.1f", ch / hz)
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", label, name, $3, $4, $5, $6,
      (NR == 2 ? sprintf("%.1f", ci / hz) : "″"), (NR == 2 ? ha : "″"), (NR == 2 ? sprintf("%.1f", cr / hz) : "″"),
      (NR == 2 ? sprintf("%.1f", cp / hz) : "″"), ($1 == "user") ? ru : rt }' "$WORK/summary.tsv" >> "$WORK/table.md"
  stop_cluster
  sleep 2
done

{
  echo "# Several instances behind HAProxy ($(date +%Y-%m-%d), commit $(git rev-parse --short HEAD), $BACKEND_BIN)"
  echo
  echo "\`bench/balancer.sh\`: the kit's load.sh (wrk -t2 -c$CONNS, $DURATION × $REPEAT after a 3 s warm-up, medians) on"
  echo "$(nproc) cores, PostgreSQL and Redis on the same machine; APP_ENV=production, pool 10 per instance."
  echo "CPU-seconds cover the whole load.sh run of that configuration (both endpoints, warm-ups included)."
  echo
  cat "$WORK/table.md"
} > "$OUT"
cat "$OUT"
