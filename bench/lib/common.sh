# Settings and helpers for the benchmark scripts (sourced). Adapted from shared/bench/lib/common.sh:
# the same knobs, but every output goes under $BENCH_OUT and the databases are our own.
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_DIR="$(cd "$BENCH_DIR/.." && pwd)"
# The shared references (peer, ceiling, CPU sampler). Only ever read: it may be read-only.
# Beside the repository, or beside its main checkout when this is a git worktree elsewhere.
if [ -z "${SHARED_BENCH:-}" ]; then
  SHARED_BENCH="$(cd "$REPO_DIR/.." && pwd)/shared/bench"
  _main="$(git -C "$REPO_DIR" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)"
  if [ ! -d "$SHARED_BENCH" ] && [ -n "$_main" ] && [ -d "$(dirname "$(dirname "$_main")")/shared/bench" ]; then
    SHARED_BENCH="$(dirname "$(dirname "$_main")")/shared/bench"
  fi
fi

# --- knobs -------------------------------------------------------------------------------------------
DURATION="${DURATION:-20}"          # measured seconds per run
WARMUP="${WARMUP:-5}"               # warm-up seconds (discarded) per run
CONNS="${CONNS:-32}"                # HTTP connections
WORKERS="${WORKERS:-1 2}"           # worker process counts to measure, e.g. "2" or "1 2"
SCENARIOS="${SCENARIOS:-create get list toggle mixed feed}"
TARGETS="${TARGETS:-ours-defaults ours peer ceiling}"
REPEAT="${REPEAT:-1}"               # runs per configuration (the table shows the median)
WRK_THREADS="${WRK_THREADS:-1}"     # wrk threads (1 leaves more CPU to the server on 2 cores)
PORT="${PORT:-8100}"
CEILING_SERVER="${CEILING_SERVER:-uvicorn}"   # uvicorn | granian
QUIET_MAX_BUSY="${QUIET_MAX_BUSY:-0.25}"      # wait before each run until fewer cores than this are busy ...
QUIET_MAX_WAIT="${QUIET_MAX_WAIT:-300}"       # ... but at most this many seconds
SEED_DESCRIPTION="${SEED_DESCRIPTION:-text}"  # text | null: description of our seeded tasks
BENCH_OUT="${BENCH_OUT:-/tmp/task-bench}"     # venvs, logs, raw results (never inside shared/)
REPORT="${REPORT:-$BENCH_DIR/REPORT.md}"

# PostgreSQL: the machine's cluster; the role needs CREATEDB (trust auth for postgres by default).
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
OURS_DB="${OURS_DB:-tasks_bench}"
PEER_DB="${PEER_DB:-tasks_bench_peer}"
CEILING_DB="${CEILING_DB:-tasks_bench_ceiling}"
_pgauth="$PGUSER${PGPASSWORD:+:$PGPASSWORD}"
OURS_DSN="postgresql://$_pgauth@$PGHOST:$PGPORT/$OURS_DB"
PEER_DSN="postgresql+asyncpg://$_pgauth@$PGHOST:$PGPORT/$PEER_DB"
CEILING_DSN_DEFAULT="postgresql://$_pgauth@$PGHOST:$PGPORT/$CEILING_DB"

# The same service before a change (TARGETS with "base"): a checkout of that commit (git worktree add DIR COMMIT)
# with its own venv; measured like ours, seeded with that checkout's own bench/sql/seed_tasks.sql.
BASE_REPO="${BASE_REPO:-}"
BASE_VENV="${BASE_VENV:-${BASE_REPO:+$BASE_REPO/.venv}}"
BASE_DB="${BASE_DB:-${OURS_DB}_base}"
BASE_DSN="postgresql://$_pgauth@$PGHOST:$PGPORT/$BASE_DB"

# Readers connected to our service during each of its measurements (LISTENERS=1, lib/listeners.py): SSE clients on
# the event stream and one feed reader, all checked gap-free; in the scenarios of PROBE_SCENARIOS, a probe that
# creates PROBE_RATE tasks a second and times each from its 2xx to its event on the streams.
LISTENERS="${LISTENERS:-0}"
LISTEN_STREAMS="${LISTEN_STREAMS:-8}"         # SSE clients ...
LISTEN_GLOBAL="${LISTEN_GLOBAL:-6}"           # ... of which on the whole log (the others on one user's events each)
PROBE_SCENARIOS="${PROBE_SCENARIOS:-mixed}"
PROBE_RATE="${PROBE_RATE:-50}"
# The cluster's data folder, so the CPU sampler finds its postmaster (also a slow-flush one on another PGPORT).
if [ -z "${PG_DATA_DIR:-}" ]; then
  PG_DATA_DIR="$(PGCONNECT_TIMEOUT=3 psql -X -A -t -q -c 'SHOW data_directory' -d postgres 2>/dev/null || true)"
fi
[ -n "${PG_DATA_DIR:-}" ] && export PG_DATA_DIR

TASKS_VENV="${TASKS_VENV:-$BENCH_OUT/.venv-tasks}"
PEER_VENV="$BENCH_OUT/.venv-peer"
CEILING_VENV="$BENCH_OUT/.venv-ceiling"
APPS_DIR="$BENCH_OUT/apps"          # copies of shared peer/ and ceiling/ (Python writes __pycache__ beside them)

mkdir -p "$BENCH_OUT"

pg_ready() {
  pg_isready -q -h "$PGHOST" -p "$PGPORT" || {
    echo "PostgreSQL not reachable on $PGHOST:$PGPORT (start it: pg_ctlcluster 15 main start)" >&2; exit 1; }
}
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 "$@"; }
# Drop and create a database (no one may be connected: the server using it is stopped first).
fresh_db() {
  psql_q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" >/dev/null
}

# Wait until the machine is idle; sets $QUIET (shared tool, run directly: writes nothing beside itself).
quiet_wait() {
  QUIET="$(python3 "$SHARED_BENCH/lib/quiet_wait.py" --max-busy "$QUIET_MAX_BUSY" --max-wait "$QUIET_MAX_WAIT")"
}
# CPU per process group during the measured window (shared tool). cpu_start sets CPU_PID/CPU_OUT, cpu_stop sets $CPU.
cpu_start() { CPU_OUT="$(mktemp)"; python3 "$SHARED_BENCH/lib/cpusample.py" "$@" >"$CPU_OUT" 2>&1 & CPU_PID=$!; }
cpu_stop()  { kill -TERM "$CPU_PID" 2>/dev/null || true; wait "$CPU_PID" 2>/dev/null || true; CPU="$(cat "$CPU_OUT")"; rm -f "$CPU_OUT"; }
