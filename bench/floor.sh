#!/usr/bin/env bash
# What the framework alone costs on `GET /health`: three servers in one window, rounds
# alternated, wrk -t2 -c64 (8 s after 2 s of warm-up, `Accept-Encoding: gzip` as the kit
# sends), with the CPU time each server spends per request (user and system, from /proc):
#   service   the working tree's release build, every middleware on;
#   bare      the same tree without its middleware (bench/patches/no-middleware.patch): our
#             server, poem, poem-openapi's routes and the handler, and nothing else (no
#             request log, metrics, security headers, CORS, rate limits, compression,
#             panic recovery);
#   peer      the lean axum peer (../shared/bench/peer-axum), no middleware either.
#
#   bash bench/floor.sh [ROUNDS]        # default 3; needs PostgreSQL (PG, as compare.sh)
#
# `bare` is built from HEAD with the patch in a worktree under bench/state/floor (its own
# target directory, kept for the next run). It is a measuring device, never a way to run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-3}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"
database=bench_floor
secret=floor-secret-floor-secret-0123456789abcdef
peer_dir=../shared/bench/peer-axum
state=bench/state/floor

cargo build --release -q
(cd "$peer_dir" && cargo build --release -q)
rm -rf "$state" && git worktree prune
git worktree add -q --detach "$state" HEAD
git -C "$state" apply "$PWD/bench/patches/no-middleware.patch"
(cd "$state" && CARGO_TARGET_DIR="$PWD/../target-floor" cargo build --release -q 2>/dev/null)
declare -A binary=(
  [service]=target/release/backend
  [bare]=bench/state/target-floor/release/backend
  [peer]="$peer_dir/target/release/peer-axum"
)

psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1
psql "$PG/postgres" -qc "CREATE DATABASE $database" >/dev/null
declare -A port pid
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
next_port=4400
for name in service bare peer; do
  next_port=$((next_port + 1))
  port[$name]=$next_port
  env APP_ENV=production HOST=127.0.0.1 PORT="$next_port" DATABASE_URL="$PG/$database" \
    DATABASE_MAX_CONNECTIONS=10 JWT_SECRET="$secret" RUST_LOG=warn \
    RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 USER_RATE_LIMIT_MAX=1000000000 \
    MAIL_OUTBOX_DIR="$state/outbox" "${binary[$name]}" >"$state/$name.log" 2>&1 &
  pid[$name]=$!
  pids+=("$!")
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$next_port/health" >/dev/null 2>&1 && break
    sleep 0.2
  done
done

cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)
echo "| round | server | req/s | user µs/req | system µs/req |"
echo "|---:|---|---:|---:|---:|"
for round in $(seq "$rounds"); do
  for name in service bare peer; do
    url="http://127.0.0.1:${port[$name]}/health"
    wrk -t2 -c64 -d2s -H 'Accept-Encoding: gzip' "$url" >/dev/null 2>&1
    read -r user_before system_before < <(cpu_ticks "${pid[$name]}")
    out=$(wrk -t2 -c64 -d8s -H 'Accept-Encoding: gzip' "$url")
    read -r user_after system_after < <(cpu_ticks "${pid[$name]}")
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    awk -v round="$round" -v name="$name" -v n="$requests" -v rate="$rate" -v hz="$ticks_per_second" \
      -v user_ticks=$((user_after - user_before)) -v system_ticks=$((system_after - system_before)) \
      'BEGIN {printf "| %d | %s | %.0f | %.2f | %.2f |\n", round, name, rate, user_ticks * 1e6 / hz / n, system_ticks * 1e6 / hz / n}'
  done
done
psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1
