#!/usr/bin/env bash
# Job queue throughput and enqueue latency on PostgreSQL.
#
#   bench/queue.sh            (from the repository root; builds release first)
#
# Drives the worker runtime itself (adapters/worker/examples/queue_bench.rs) with a no-op
# handler, so that what is measured is the queue: claims, prefetch, batched success
# records. For each scenario, ROUNDS times: empty the queue, enqueue JOBS jobs (16
# concurrent clients), drain it, and time from the first claim to the last run.
#
#   1 worker, 4 workers, and two processes of 4 workers sharing the queue (FOR UPDATE
#   SKIP LOCKED); enqueue latency from one client (one INSERT + commit per job, the
#   durability a user's welcome email gets), and enqueue throughput from 16 clients.
#
# Writes bench/results/queue-<date>.md (medians of the rounds).
# Env: JOBS (20000), ROUNDS (3), PGURL (postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JOBS="${JOBS:-20000}"; ROUNDS="${ROUNDS:-3}"; PGURL="${PGURL:-postgres://postgres@127.0.0.1:5432}"
DB=queue_bench; URL="$PGURL/$DB"
cargo build --release --quiet -p adapter-worker --example queue_bench
BENCH=./target/release/examples/queue_bench
psql "$PGURL/postgres" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
OUT="$(mktemp)"; trap 'rm -f "$OUT"' EXIT

fresh_queue() {
  psql "$URL" -qc "TRUNCATE jobs" 2>/dev/null || true
  "$BENCH" enqueue "$URL" "$JOBS" 16 > /dev/null
  psql "$URL" -qc "VACUUM ANALYZE jobs"
}

"$BENCH" enqueue "$URL" 2000 1 | sed 's/^/latency /' >> "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  psql "$URL" -qc "TRUNCATE jobs"
  "$BENCH" enqueue "$URL" "$JOBS" 16 | sed 's/^/enqueue16 /' >> "$OUT"
  fresh_queue; "$BENCH" drain "$URL" 1 | sed 's/^/w1 /' >> "$OUT"
  fresh_queue; "$BENCH" drain "$URL" 4 | sed 's/^/w4 /' >> "$OUT"
  fresh_queue
  "$BENCH" drain "$URL" 4 > "$OUT.a" & A=$!
  "$BENCH" drain "$URL" 4 > "$OUT.b" & B=$!
  wait "$A" "$B"
  python3 - "$OUT.a" "$OUT.b" >> "$OUT" <<'PY'
import json, sys
runs = [json.load(open(path)) for path in sys.argv[1:]]
jobs = sum(run["jobs"] for run in runs)
seconds = (max(run["end_ms"] for run in runs) - min(run["start_ms"] for run in runs)) / 1000
print("p2 " + json.dumps({"jobs": jobs, "seconds": seconds, "per_second": round(jobs / seconds),
                         "split": [run["jobs"] for run in runs]}))
PY
  rm -f "$OUT.a" "$OUT.b"
done

python3 - "$OUT" "$JOBS" "$ROUNDS" "$(git rev-parse --short HEAD)" > "bench/results/queue-$(date -u +%Y%m%d).md" <<'PY'
import json, statistics, sys, datetime
lines = [line.split(" ", 1) for line in open(sys.argv[1]) if line.strip()]
by = {}
for tag, body in lines:
    by.setdefault(tag, []).append(json.loads(body))
median = lambda tag, key: statistics.median(run[key] for run in by[tag])
jobs, rounds, commit = sys.argv[2], sys.argv[3], sys.argv[4]
print(f"# Job queue on PostgreSQL — {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, commit {commit}\n")
print(f"No-op handler, {jobs} jobs per run, median of {rounds} rounds; 2 shared cores "
      "(PostgreSQL, the workers and the enqueuers on the same machine).\n")
print("| scenario | jobs/s | seconds |")
print("|---|---:|---:|")
for tag, name in [("w1", "1 worker"), ("w4", "4 workers"), ("p2", "2 processes x 4 workers")]:
    print(f"| {name} | {median(tag, 'per_second'):,.0f} | {median(tag, 'seconds'):.2f} |")
print(f"\nTwo-process split of the jobs (per round): {[run['split'] for run in by['p2']]}\n")
latency = by["latency"][0]
print("| enqueue | per second | p50 ms | p99 ms |")
print("|---|---:|---:|---:|")
print(f"| 1 client, {latency['jobs']} jobs | {latency['per_second']:,} | {latency['p50_ms']:.2f} | {latency['p99_ms']:.2f} |")
print(f"| 16 clients, {jobs} jobs (median) | {median('enqueue16', 'per_second'):,.0f} | "
      f"{median('enqueue16', 'p50_ms'):.2f} | {median('enqueue16', 'p99_ms'):.2f} |")
PY
cat "bench/results/queue-$(date -u +%Y%m%d).md"
