#!/usr/bin/env bash
# Instructions per request, counted by callgrind: repeatable for the same binary and input
# whatever else the machine does, unlike req/s. A release build with line tables runs under
# valgrind on SQLite; after a warm-up, the counters are zeroed, N sequential requests are
# sent, and the total is divided by N.
#
#   bash bench/instructions.sh [N] [COMMIT]   # default: 2000 requests, the working tree
#
# ACCEPT_ENCODING=gzip sends `Accept-Encoding: gzip` with every request, as the load kit does
# (the responses are too small to compress, but the decision is made). Job workers are off
# (JOB_WORKERS=0 unless set), so their polling is not counted.
#
# With COMMIT, that commit is built in a worktree under bench/state/ab (as bench/ab.sh does).
# Prints one line per endpoint (`/health`, `/users/{id}` with a JWT). The profile of each is
# kept under bench/state/instructions/ for `callgrind_annotate`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
requests="${1:-2000}"
commit="${2:-}"
state="bench/state/instructions${commit:+-$commit}"
rm -rf "$state" && mkdir -p "$state"
source_dir="."
if [ -n "$commit" ]; then
  source_dir="bench/state/ab/$commit"
  [ -d "$source_dir" ] || git worktree add -q --detach "$source_dir" "$commit"
fi
binary="$PWD/target/instructions${commit:+-$commit}/release/backend"
(cd "$source_dir" && CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  CARGO_TARGET_DIR="$(dirname "$(dirname "$binary")")" cargo build --release -q)
port=4201
APP_ENV=test PORT=$port DATABASE_URL="sqlite://$state/app.db" DATA_DIR="$state" \
  MAIL_OUTBOX_DIR="$state/outbox" RUST_LOG=warn JOB_WORKERS="${JOB_WORKERS:-0}" \
  RATE_LIMIT_MAX=100000000 AUTH_RATE_LIMIT_MAX=100000000 USER_RATE_LIMIT_MAX=100000000 \
  JWT_SECRET="instructions-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" \
  valgrind --tool=callgrind --instr-atstart=yes --callgrind-out-file="$state/callgrind.%p" \
  "$binary" </dev/null >"$state/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.2; done
curl -sf "localhost:$port/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench"}' \
  >"$state/session.json"
token=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['accessToken'])" "$state/session.json")
id=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['user']['id'])" "$state/session.json")

encoding="${ACCEPT_ENCODING:+Accept-Encoding: $ACCEPT_ENCODING}"
measure() { # name path [header]
  python3 bench/sequential.py "$port" "$2" 200 "${3:-}" "$encoding"     # warm-up
  callgrind_control --zero "$server" >/dev/null 2>&1
  python3 bench/sequential.py "$port" "$2" "$requests" "${3:-}" "$encoding"
  callgrind_control --dump="$1" "$server" >/dev/null 2>&1
  local dump total
  dump=$(ls -t "$state"/callgrind.* | head -n 1)
  total=$(awk '/^summary:/ {print $2}' "$dump")
  echo "$1: $((total / requests)) instructions per request ($requests requests; $dump)"
}
measure health /health
measure users "/api/v1/users/$id" "Authorization: Bearer $token"
