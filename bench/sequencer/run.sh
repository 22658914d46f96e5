#!/usr/bin/env bash
# The append path's alternatives on a PostgreSQL whose every flush takes DELAY_US longer
# (shared/bench/slowflush), pgbench, CLIENTS clients, SECONDS each: tps of
#   old_locked  positions at insert, one global lock held to commit, NOTIFY (before issue 11)
#   old_notify  the same without the lock (the NOTIFY alone)
#   old_plain   neither: what the disk and CPU allow
#   queue       today's append_task_events, with the sequencer moving events meanwhile
# Usage (from the repository root, with the project's venv): bash bench/sequencer/run.sh
set -euo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$D/../.." && pwd)"
DELAY_US="${DELAY_US:-1000}"; PORT="${PORT:-5499}"; CLIENTS="${CLIENTS:-32}"; SECONDS_EACH="${SECONDS:-15}"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
[ -d "$SHARED" ] || SHARED="$ROOT/../../shared/bench"
URL="$(BENCH_OUT="${BENCH_OUT:-/tmp/task-bench}" bash "$SHARED/slowflush/start.sh" "$DELAY_US" "$PORT")"
DB="postgresql://postgres@127.0.0.1:$PORT/tasks_sequencer_bench"
psql "$URL" -qc "DROP DATABASE IF EXISTS tasks_sequencer_bench" -c "CREATE DATABASE tasks_sequencer_bench"
DATABASE_URL="$DB" "$ROOT/.venv/bin/tasks" migrate >/dev/null 2>&1
psql "$DB" -q -f "$D/variants.sql"
bench() { pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -f "$D/$1.sql" "$DB" 2>&1 \
            | awk '/^tps/{printf "%.0f", $3}'; }
for v in old_locked old_notify old_plain; do echo "$v: $(bench "$v") tps"; done
LOOP="$(mktemp)"
pgbench -n -M prepared -c 1 -T "$((SECONDS_EACH + 1))" -f "$D/sequencer.sql" "$DB" >"$LOOP" 2>&1 &
queue="$(bench append)"; wait
echo "queue: $queue tps, with the sequencer looking $(awk '/^tps/{printf "%.0f", $3}' "$LOOP") times/s"
rm -f "$LOOP"
psql "$DB" -Atc "SELECT 'pending after the run: ' || count(*) FROM pending_events"
