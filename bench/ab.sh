#!/usr/bin/env bash
# A/B of two commits' release builds in one window: `GET /health` and `GET /users/{id}` (with
# a JWT) on SQLite, wrk -t2 -c64, rounds alternated so that the host's drift hits both.
#
#   bash bench/ab.sh BEFORE_COMMIT [AFTER_COMMIT] [ROUNDS]
#
# AFTER defaults to the working tree; `-` on either side is the working tree too. Each commit is built in a worktree under
# bench/state/ab (its own target directory, kept for the next run). Prints one line per
# round and the medians; a refactor's before/after numbers come from here.
#
# ENV_BEFORE / ENV_AFTER add variables to one side's environment, to compare one build with
# a feature off and on, e.g. span export to bench/otlp_sink.py:
#   python3 bench/otlp_sink.py 4318 &
#   ENV_AFTER="OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318" bash bench/ab.sh -
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
before="${1:?usage: bench/ab.sh BEFORE_COMMIT [AFTER_COMMIT] [ROUNDS]}"
after="${2:-}"
rounds="${3:-3}"
state="bench/state/ab"
mkdir -p "$state"

build() { # commit -> path of its binary
  local commit="$1" dir="$state/$1"
  if [ ! -d "$dir" ]; then git worktree add -q --detach "$dir" "$commit"; fi
  (cd "$dir" && CARGO_TARGET_DIR="$PWD/../target-$commit" cargo build --release -q)
  echo "$state/target-$commit/release/backend"
}
working_tree() { cargo build --release -q; echo "target/release/backend"; }
if [ "$before" = "-" ]; then binary_a="$(working_tree)"; else binary_a="$(build "$before")"; fi
if [ -n "$after" ] && [ "$after" != "-" ]; then binary_b="$(build "$after")"; else binary_b="$(working_tree)"; fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
start() { # binary port [VAR=value ...]
  local binary="$1" port="$2" dir="$state/run-$2"
  shift 2
  rm -rf "$dir" && mkdir -p "$dir"
  env "$@" APP_ENV=test PORT="$port" DATABASE_URL="sqlite://$dir/app.db" DATA_DIR="$dir" \
    MAIL_OUTBOX_DIR="$dir/outbox" RUST_LOG=warn JOB_WORKERS=1 \
    RATE_LIMIT_MAX=100000000 AUTH_RATE_LIMIT_MAX=100000000 USER_RATE_LIMIT_MAX=100000000 \
    JWT_SECRET="ab-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')" \
    "$binary" </dev/null >"$dir/server.log" 2>&1 &
  pids+=("$!")
}
# shellcheck disable=SC2086 # each side's variables are words on purpose
start "$binary_a" 4101 ${ENV_BEFORE:-}
# shellcheck disable=SC2086
start "$binary_b" 4102 ${ENV_AFTER:-}
for port in 4101 4102; do
  for _ in $(seq 50); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.1; done
  curl -sf "localhost:$port/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"bench@example.com","password":"correct horse battery","name":"Bench"}' \
    >"$state/run-$port/session.json"
done

rate() { wrk -t2 -c64 -d8s "$@" | awk '/Requests\/sec/ {print $2}'; }
declare -A results
for round in $(seq "$rounds"); do
  for port in 4101 4102; do
    session="$state/run-$port/session.json"
    token=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['accessToken'])" "$session")
    id=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['user']['id'])" "$session")
    health=$(rate "http://127.0.0.1:$port/health")
    users=$(rate -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/users/$id")
    echo "round $round  $([ $port = 4101 ] && echo before || echo after)  /health $health  /users/{id} $users"
    results[$port-health]+="$health "
    results[$port-users]+="$users "
  done
done
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for endpoint in health users; do
  a=$(echo "${results[4101-$endpoint]}" | median); b=$(echo "${results[4102-$endpoint]}" | median)
  echo "median $endpoint: before $a  after $b  after/before $(python3 -c "print(f'{$b/$a:.3f}')")"
done
