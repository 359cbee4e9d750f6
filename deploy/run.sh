#!/usr/bin/env bash
# Starts N instances of the service on one PostgreSQL database and one Redis, behind
# HAProxy (deploy/haproxy.cfg), in the foreground; Ctrl-C stops them all.
#
#   deploy/run.sh [N]                      # N instances, default 2
#
# Settings (environment; every other variable of API.md is passed to the instances):
#   DATABASE_URL   PostgreSQL, created when missing (default postgres://postgres@127.0.0.1:5432/backend)
#   REDIS_URL      default redis://127.0.0.1:6379/0; set and empty: no Redis
#   HAPROXY_BIND   where clients connect (default 127.0.0.1:8080)
#   FIRST_PORT     the first instance's port; the others follow (default 3001)
#   BACKEND_BIN    the executable (default target/release/backend, built when missing)
#   JWT_SECRET     shared by every instance (default: a random one for this run)
#   LOG_DIR        the instances' logs (default a temporary directory)
#
# HAProxy comes from the Debian package and is installed when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

instances="${1:-2}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/backend}"
# Set and empty: no Redis (each instance counts and delivers alone).
export REDIS_URL="${REDIS_URL-redis://127.0.0.1:6379/0}"
export HAPROXY_BIND="${HAPROXY_BIND:-127.0.0.1:8080}"
first_port="${FIRST_PORT:-3001}"
backend="${BACKEND_BIN:-target/release/backend}"
export JWT_SECRET="${JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
export TRUSTED_PROXIES="${TRUSTED_PROXIES:-127.0.0.1}"
log_dir="${LOG_DIR:-$(mktemp -d)}"

bash deploy/install-haproxy.sh
if [ ! -x "$backend" ]; then
  echo "building $backend"
  cargo build --release --bin backend
fi
if command -v psql >/dev/null; then
  database="${DATABASE_URL##*/}"
  server="${DATABASE_URL%/*}/postgres"
  if [ "$(psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
    psql "$server" -qc "CREATE DATABASE \"$database\""
  fi
fi

pids=()
stop() {
  trap - EXIT INT TERM
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

config="$log_dir/haproxy.cfg"
cp deploy/haproxy.cfg "$config"
for i in $(seq 1 "$instances"); do
  port=$((first_port + i - 1))
  HOST=127.0.0.1 PORT="$port" "$backend" >"$log_dir/instance-$i.log" 2>&1 &
  pids+=($!)
  echo "    server instance-$i 127.0.0.1:$port cookie instance-$i" >>"$config"
done
for i in $(seq 1 "$instances"); do
  port=$((first_port + i - 1))
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || {
    echo "instance $i did not become ready; its log:"
    cat "$log_dir/instance-$i.log"
    exit 1
  }
done

echo "$instances instances behind http://$HAPROXY_BIND (logs in $log_dir)"
haproxy -f "$config" -db &
pids+=($!)
wait "${pids[-1]}"
