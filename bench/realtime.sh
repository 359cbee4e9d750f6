#!/usr/bin/env bash
# The socket.io gateway under load: 1,000 websocket clients in 20 rooms, messages sent at a
# steady rate, fan-out latency (send -> every member's receive), deliveries per second, and
# the server's memory. From the repository root:
#
#   bench/realtime.sh
#
# 1. builds release; installs the load generator's dependencies (bench/realtime, npm ci,
#    only when missing or outdated);
# 2. starts the release binary on a fresh SQLite file (production settings, REST rate
#    limits out of the way so that the users can be registered, request log off);
# 3. runs bench/realtime/load.mjs: registers USERS users through the API, connects CLIENTS
#    websocket clients (client i uses user i % USERS and joins room i % ROOMS), then
#    SENDERS_PER_ROOM clients per room send RATE messages a second each for DURATION s;
# 4. appends the run (date, commit, parameters, results) to bench/results/realtime.md.
#
# The load generator runs on the same 2 cores as the server: its own JSON parsing and
# timers are part of the measured latency, so the numbers are an upper bound.
#
# Env: CLIENTS (1000), USERS (100), ROOMS (20), SENDERS_PER_ROOM (2), RATE (4; the
#      per-socket limit is 5/s), DURATION (20), PORT (3921).
set -euo pipefail
# Production refuses patterned secrets: a fresh random one per run.
BENCH_JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CLIENTS="${CLIENTS:-1000}" USERS="${USERS:-100}" ROOMS="${ROOMS:-20}"
export SENDERS_PER_ROOM="${SENDERS_PER_ROOM:-2}" RATE="${RATE:-4}" DURATION="${DURATION:-20}"
PORT="${PORT:-3921}"
TARGET="${CARGO_TARGET_DIR:-target}"
WORK="$(mktemp -d)"
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() { if [[ -n "${SERVER_PID:-}" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi; rm -rf "$WORK"; }
trap cleanup EXIT

log "building release"
cargo build --release --quiet -p bootstrap
STAMP=bench/realtime/node_modules/.installed-from-package-lock.json
if ! cmp -s bench/realtime/package-lock.json "$STAMP"; then
  log "installing the load generator (npm ci)"
  (cd bench/realtime && npm ci --no-audit --no-fund --loglevel=error)
  cp bench/realtime/package-lock.json "$STAMP"
fi

APP_ENV=production JWT_SECRET="$BENCH_JWT_SECRET" PORT="$PORT" \
  DATABASE_URL="sqlite://$WORK/bench.db" MAIL_OUTBOX_DIR="$WORK/outbox" DATA_DIR="$WORK" \
  RATE_LIMIT_MAX=1000000000 AUTH_RATE_LIMIT_MAX=1000000000 USER_RATE_LIMIT_MAX=1000000000 RUST_LOG=warn \
  "$TARGET/release/backend" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/server.log"; exit 1; }

log "running the load ($CLIENTS clients, $ROOMS rooms, $SENDERS_PER_ROOM senders per room at $RATE/s, ${DURATION}s)"
BASE_URL="http://127.0.0.1:$PORT" SERVER_PID="$SERVER_PID" node bench/realtime/load.mjs > "$WORK/result.json"
RESULT="$(cat "$WORK/result.json")"
field() { python3 -c "import json,sys; value = json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, value))" "$RESULT" "$1"; }
fmt() { python3 -c "import sys; print(f'{float(sys.argv[1]):.1f}')" "$1"; }

mkdir -p bench/results
REPORT="bench/results/realtime.md"
[[ -f "$REPORT" ]] || printf '# Realtime gateway under load (bench/realtime.sh)\n' > "$REPORT"
CONNECTED="$(field "serverMemoryMiB['connectedRss']")"
BEFORE="$(field "serverMemoryMiB['beforeConnectingRss']")"
PER_CLIENT_KIB="$(python3 -c "import sys; print(f'{(float(sys.argv[1]) - float(sys.argv[2])) * 1024 / float(sys.argv[3]):.0f}')" "$CONNECTED" "$BEFORE" "$CLIENTS")"
{
  echo
  echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)"
  echo
  echo "$(nproc) cores shared by the server and the load generator (one Node.js process); release"
  echo "build, SQLite, request log off. $(field clients) websocket clients of $(field users) users in $(field rooms) rooms"
  echo "($(field membersPerRoom) members each); $(field senders) senders ($SENDERS_PER_ROOM per room) sending $(field ratePerSender) messages a second each"
  echo "for $(field durationSeconds) s. Latency: from the sender's \`emit\` to each member's \`message\` event, every delivery."
  echo
  echo "| measure | value |"
  echo "|---|---:|"
  echo "| connecting and joining all clients | $(field connectSeconds) s |"
  echo "| messages sent (acknowledged ok) / refused | $(field messagesSent) / $(field messagesRefused) |"
  echo "| deliveries received / expected | $(field deliveriesReceived) / $(field deliveriesExpected) |"
  echo "| deliveries per second | $(field deliveriesPerSecond) |"
  echo "| fan-out latency p50 | $(fmt "$(field "latencyMs['p50']")") ms |"
  echo "| fan-out latency p99 | $(fmt "$(field "latencyMs['p99']")") ms |"
  echo "| fan-out latency max | $(fmt "$(field "latencyMs['max']")") ms |"
  echo "| CPU while sending: server / load generator | $(field "cpuCores['server']") / $(field "cpuCores['loadGenerator']") cores |"
  echo "| server RSS before connecting (users registered) | $(fmt "$BEFORE") MiB |"
  echo "| server RSS, all connected, idle | $(fmt "$CONNECTED") MiB (${PER_CLIENT_KIB} KiB per client) |"
  echo "| server RSS under load | $(fmt "$(field "serverMemoryMiB['rssUnderLoad']")") MiB |"
  echo "| server peak RSS (VmHWM) | $(fmt "$(field "serverMemoryMiB['peak']")") MiB |"
} >> "$REPORT"
tail -n 22 "$REPORT"
