#!/usr/bin/env bash
# A PostgreSQL cluster of the tests' own (`restartable`, port 5433, trust authentication on
# loopback), which the fault tests may restart with `pg_ctlcluster` without taking the
# machine's main cluster (and every other suite) down with it. Creates it when missing and
# starts it when down; prints the URL to export as TEST_RESTARTABLE_DATABASE_URL, and nothing
# else on stdout (the tools' own messages, such as "Removed stale pid file." after a machine
# restart, go to stderr: on stdout they would become part of the URL).
set -euo pipefail
version="$(ls /etc/postgresql | sort -n | tail -n 1)"
name=restartable
port="${RESTARTABLE_PORT:-5433}"
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$name"; then
  pg_createcluster "$version" "$name" --port "$port" -- --auth=trust >&2
fi
if ! pg_isready -h 127.0.0.1 -p "$port" -q; then
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >&2
  for _ in $(seq 1 30); do
    pg_isready -h 127.0.0.1 -p "$port" -q && break
    sleep 1
  done
fi
pg_isready -h 127.0.0.1 -p "$port" -q
echo "postgres://postgres@127.0.0.1:$port/postgres"
