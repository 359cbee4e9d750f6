#!/usr/bin/env bash
# Login throughput against its bound, and /health latency while logins saturate the CPU.
#
#   bench/login.sh            (from the repository root; builds release first)
#
# 1. Measures one argon2id verify on one core (the service's parameters): the bound on
#    login throughput is cores / verify time.
# 2. Starts the release binary on a fresh SQLite file (rate limits out of the way), and
#    registers one user.
# 3. Runs wrk on POST /api/v1/auth/login (-c LOGIN_CONNS, default 4) for DURATION: the
#    login throughput. Then again, while a paced prober (health_probe.py: one GET /health
#    every 10 ms on a keep-alive connection, like a load balancer) measures /health latency.
# 4. Prints a table and appends it to bench/results/login-<date>.md.
#
# Env: DURATION (15s), LOGIN_CONNS (4), PORT (3917).
set -euo pipefail
# Production refuses patterned secrets: a fresh random one per run.
BENCH_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DURATION="${DURATION:-15}"; LOGIN_CONNS="${LOGIN_CONNS:-4}"; PORT="${PORT:-3917}"
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }; }

cargo build --release --quiet -p bootstrap
cargo build --release --quiet -p adapter-crypto --example argon2_verify
VERIFY_LINE="$(cargo run --release --quiet -p adapter-crypto --example argon2_verify 40)"
VERIFY_MS="$(sed -E 's/.*verify: ([0-9.]+) ms.*/\1/' <<<"$VERIFY_LINE")"
CORES="$(nproc)"
# The same verify on every core at once: memory bandwidth (19 MiB per hash) makes the
# machine's real capacity lower than cores / single-core time.
PARALLEL_RATE="$(for _ in $(seq 1 "$CORES"); do ./target/release/examples/argon2_verify 40 & done | \
  sed -E 's/.*verify: ([0-9.]+) ms.*/\1/' | awk '{rate += 1000 / $1} END {printf "%.1f", rate}')"

WORK="$(mktemp -d)"
trap 'kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
APP_ENV=production JWT_SECRET="$BENCH_JWT_SECRET" PORT="$PORT" \
  DATABASE_URL="sqlite://$WORK/bench.db" MAIL_OUTBOX_DIR="$WORK/outbox" DATA_DIR="$WORK" \
  RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 USER_RATE_LIMIT_MAX=1000000000 RUST_LOG=warn \
  ./target/release/backend > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
curl -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password 123"}'

cat > "$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench@example.com","password":"bench password 123"}'
LUA
wrk -t2 -c"$LOGIN_CONNS" -d3s -s "$WORK/login.lua" "http://127.0.0.1:$PORT/api/v1/auth/login" >/dev/null  # warm-up
wrk -t2 -c"$LOGIN_CONNS" -d"${DURATION}s" --latency -s "$WORK/login.lua" "http://127.0.0.1:$PORT/api/v1/auth/login" > "$WORK/login.txt"
python3 bench/health_probe.py "http://127.0.0.1:$PORT/health" "$DURATION" > "$WORK/health.txt" &
PROBE=$!
wrk -t2 -c"$LOGIN_CONNS" -d"${DURATION}s" --latency -s "$WORK/login.lua" "http://127.0.0.1:$PORT/api/v1/auth/login" > "$WORK/login-probed.txt"
wait "$PROBE"
HEALTH="$(cat "$WORK/health.txt")"
field() { sed -E "s/.*$1=([0-9.]+).*/\1/" <<<"$HEALTH"; }

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '$1 == "99%" {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {n = $5} END {print n + 0}' "$1"; }
LOGIN_RPS="$(rps "$WORK/login.txt")"
BOUND="$(awk -v c="$CORES" -v ms="$VERIFY_MS" 'BEGIN {printf "%.1f", c * 1000 / ms}')"
SHARE="$(awk -v r="$LOGIN_RPS" -v b="$BOUND" 'BEGIN {printf "%.0f", 100 * r / b}')"
PARALLEL_SHARE="$(awk -v r="$LOGIN_RPS" -v b="$PARALLEL_RATE" 'BEGIN {printf "%.0f", 100 * r / b}')"

mkdir -p bench/results
REPORT="bench/results/login-$(date -u +%Y%m%d).md"
{
  echo "## Login under load, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)"
  echo
  echo "$CORES cores shared by the server and wrk; release build, SQLite, rate limits off; $VERIFY_LINE."
  echo
  echo "| measure | value |"
  echo "|---|---:|"
  echo "| argon2id verify (one core) | ${VERIFY_MS} ms |"
  echo "| bound: cores / verify time | ${BOUND} logins/s |"
  echo "| argon2id verifies/s with $CORES running at once (no server) | ${PARALLEL_RATE} |"
  echo "| POST /api/v1/auth/login, -c$LOGIN_CONNS | ${LOGIN_RPS} req/s: ${SHARE} % of cores / verify time, ${PARALLEL_SHARE} % of the parallel verify rate; p99 $(p99 "$WORK/login.txt") |"
  echo "| login non-2xx responses | $(non2xx "$WORK/login.txt") |"
  echo "| logins while probed | $(rps "$WORK/login-probed.txt") req/s |"
  echo "| GET /health every 10 ms meanwhile | p50 $(field p50_ms) ms, p99 $(field p99_ms) ms, max $(field max_ms) ms, $(field failures) failures of $(field requests) |"
  echo
} | tee -a "$REPORT"
