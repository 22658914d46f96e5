#!/usr/bin/env bash
# `tasks import-crud` on ROWS rows (100,000 by default) of the CRUD service's table:
# a fresh source database with the old schema, a fresh migrated target, the import timed,
# then a rerun (everything skipped) timed, then `tasks verify` on the result.
#   flock /tmp/bench.lock bash bench/import/run.sh
# Settings: ROWS, BATCH (rows per transaction, default the command's), PGBASE (server URL
# without a database), SRC_DB / DST_DB (dropped and made again), TASKS (the tasks command).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ROWS=${ROWS:-100000}
PGBASE=${PGBASE:-postgresql://postgres@127.0.0.1:5432}
SRC_DB=${SRC_DB:-tasks_import_src}
DST_DB=${DST_DB:-tasks_import_dst}
TASKS=${TASKS:-$root/.venv/bin/tasks}
batch=()
[[ -n ${BATCH:-} ]] && batch=(--batch-size "$BATCH")

for db in "$SRC_DB" "$DST_DB"; do
    psql -q "$PGBASE/postgres" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\""
done
psql -q "$PGBASE/$SRC_DB" -f "$root/tests/fixtures/crud/tasks.sql"
psql -q "$PGBASE/$SRC_DB" -v rows="$ROWS" -f "$here/fill_crud.sql"
export DATABASE_URL="$PGBASE/$DST_DB" TASKS_LOG_LEVEL=WARNING
"$TASKS" migrate >/dev/null

echo "== import of $ROWS rows"
"$TASKS" import-crud "$PGBASE/$SRC_DB" "${batch[@]}"
echo "== rerun (everything already here)"
"$TASKS" import-crud "$PGBASE/$SRC_DB" "${batch[@]}"
echo "== verify"
"$TASKS" verify
psql -q -t "$PGBASE/$DST_DB" -c "SELECT count(*) AS events, count(*) FILTER (WHERE type = 'TaskImported') AS imported FROM events"
