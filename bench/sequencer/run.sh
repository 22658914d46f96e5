#!/usr/bin/env bash
# The append path's alternatives, pgbench, CLIENTS clients, SECONDS_EACH seconds each: tps of
#   old_locked  positions at insert, one global lock held to commit, NOTIFY (before issue 11)
#   old_notify  the same without the lock (the NOTIFY alone)
#   old_plain   neither: what the disk and CPU allow
#   queue       today's append_task_events, with the sequencer moving events meanwhile
# on a PostgreSQL whose every flush takes DELAY_US longer (shared/bench/slowflush, started on PORT
# if it is not running), or with SERVER=normal on the machine's own (PGHOST/PGPORT, default
# 127.0.0.1:5432), in a database DB_NAME made afresh.
# Usage (from the repository root, with the project's venv; under `flock /tmp/bench.lock`):
#   bash bench/sequencer/run.sh                     # slow flush, 1 ms, port 5499
#   SERVER=normal DB_NAME=ab_seq bash bench/sequencer/run.sh
set -euo pipefail
D="$(cd "$(dirname "$0")" && pwd)"; ROOT="$(cd "$D/../.." && pwd)"
SERVER="${SERVER:-slowflush}"; DELAY_US="${DELAY_US:-1000}"; PORT="${PORT:-5499}"
CLIENTS="${CLIENTS:-32}"; SECONDS_EACH="${SECONDS_EACH:-15}"   # not $SECONDS: bash counts its own runtime in it
DB_NAME="${DB_NAME:-tasks_sequencer_bench}"; TASKS_VENV="${TASKS_VENV:-$ROOT/.venv}"
SHARED="${SHARED_BENCH:-$ROOT/../shared/bench}"
[ -d "$SHARED" ] || SHARED="$(dirname "$(dirname "$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir)")")/shared/bench"
if [ "$SERVER" = slowflush ]; then
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then   # start.sh fails on a running cluster: reuse it
    URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
  else
    URL="$(BENCH_OUT="${BENCH_OUT:-/tmp/task-bench}" bash "$SHARED/slowflush/start.sh" "$DELAY_US" "$PORT")"
  fi
  HOSTPORT="127.0.0.1:$PORT"
else
  HOSTPORT="${PGHOST:-127.0.0.1}:${PGPORT:-5432}"; URL="postgresql://${PGUSER:-postgres}@$HOSTPORT/postgres"
fi
DB="postgresql://${PGUSER:-postgres}@$HOSTPORT/$DB_NAME"
export PGOPTIONS="-c client_min_messages=warning"
psql "$URL" -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME"
DATABASE_URL="$DB" "$TASKS_VENV/bin/tasks" migrate >/dev/null 2>&1 || { echo "tasks migrate failed on $DB" >&2; exit 1; }
psql "$DB" -q -f "$D/variants.sql"
echo "server: $SERVER ($HOSTPORT$( [ "$SERVER" = slowflush ] && echo ", +${DELAY_US} us per flush")), $CLIENTS clients, ${SECONDS_EACH} s each"
bench() { pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -f "$D/$1.sql" "$DB" 2>&1 \
            | awk '/^tps/{printf "%.0f", $3}'; }
for v in old_locked old_notify old_plain; do echo "$v: $(bench "$v") tps"; done
LOOP="$(mktemp)"
before="$(psql "$DB" -Atc "SELECT position FROM log_head")"
pgbench -n -M prepared -c 1 -T "$((SECONDS_EACH + 1))" -f "$D/sequencer.sql" "$DB" >"$LOOP" 2>&1 &
queue="$(bench append)"; wait
moved="$(( $(psql "$DB" -Atc "SELECT position FROM log_head") - before ))"
looks="$(awk '/^number of transactions actually processed/{print $NF}' "$LOOP" | cut -d/ -f1)"
echo "queue: $queue tps, with the sequencer looking $(awk '/^tps/{printf "%.0f", $3}' "$LOOP") times/s ($moved events moved in $looks looks)"
rm -f "$LOOP"
psql "$DB" -Atc "SELECT 'pending after the run: ' || count(*) FROM pending_events"
