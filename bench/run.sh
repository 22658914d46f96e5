#!/usr/bin/env bash
# The benchmark: our service, the shared peer (FastAPI CRUD) and the shared ceiling (Litestar + asyncpg near-limit),
# in turn, for every scenario and worker count, on freshly seeded data; then a table appended to bench/REPORT.md.
#
# Usage (from anywhere):  bash bench/run.sh
# Knobs (env): DURATION (20) WARMUP (5) CONNS (32) WORKERS ("1 2") REPEAT (1)
#   SCENARIOS ("create get list toggle mixed feed")  TARGETS ("ours-defaults ours peer ceiling")
#   PORT (8100) WRK_THREADS (1) BENCH_OUT (/tmp/task-bench) REPORT (bench/REPORT.md)
#   TASKS_VENV (a venv with our package; default: made in $BENCH_OUT) CEILING_SERVER (uvicorn|granian)
#   CEILING_WRITE_MODE / CEILING_POOL_RESET / PEER_POOL_SIZE ... (passed to the references)
#   QUIET_MAX_BUSY (0.25) QUIET_MAX_WAIT (300) SEED_DESCRIPTION (text|null) WRK_TOKENS (bearer tokens file)
#   TASKS_* settings are passed to our service unchanged (and listed in the report), except to ours-defaults:
#   that row runs `tasks serve` with no TASKS_* setting but the signing secret (INFO logging, the default pool).
#   BASE_REPO (a checkout of an older commit: TARGETS may then name "base", the same service before a change)
#   LISTENERS (0|1: SSE clients, a feed reader and, in PROBE_SCENARIOS, the feed latency probe on ours)
#   PGHOST/PGPORT (another PostgreSQL, e.g. the slow-flush one) PG_NOTE (what that server is, for the report)
# See bench/README.md.
set -uo pipefail
# Which knobs the caller set (before common.sh fills in the defaults): they go into the recorded command.
_SET_ENV="$(env | grep -E '^(PORT|WRK_THREADS|CEILING_[A-Z_]+|PEER_[A-Z_]+|TASKS_[A-Z_]+|SEED_DESCRIPTION|QUIET_MAX_[A-Z]+|BENCH_OUT|SHARED_BENCH|WRK_TOKENS|REPORT|PGHOST|PGPORT|PGUSER|BASE_REPO|LISTENERS|LISTEN_[A-Z]+|PROBE_[A-Z]+|OURS_DB|PEER_DB|CEILING_DB|PG_NOTE)=' \
            | grep -v '^TASKS_VENV=' | sort \
            | sed -E 's/^([A-Z_]*(SECRET|PASSWORD|KEY|TOKEN)[A-Z_]*)=.*/\1=<set>/' || true)"
D="$(cd "$(dirname "$0")" && pwd)"
source "$D/lib/common.sh"

RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
export RUN_DIR="$BENCH_OUT/runs/$RUN_ID"
mkdir -p "$RUN_DIR/logs" "$RUN_DIR/cwd-ours"
SUMMARY="$RUN_DIR/summary.txt"; : >"$SUMMARY"
q() { printf '%q' "$1"; }
CMD="DURATION=$DURATION WARMUP=$WARMUP CONNS=$CONNS WORKERS=$(q "$WORKERS") REPEAT=$REPEAT SCENARIOS=$(q "$SCENARIOS") TARGETS=$(q "$TARGETS")"
[ -n "$_SET_ENV" ] && CMD="$CMD $(echo "$_SET_ENV" | while IFS= read -r kv; do printf '%s=%s ' "${kv%%=*}" "$(q "${kv#*=}")"; done)"
CMD="${CMD% } bash bench/run.sh"
echo "run $RUN_ID: $CMD" >&2
echo "results: $RUN_DIR" >&2

wants() { [[ " $TARGETS " == *" $1 "* ]]; }

bash "$D/setup.sh" || { echo "setup failed" >&2; exit 1; }
# WARNING unless the caller sets it: the default, INFO, adds an access-log line per request.
OURS_ENV=(env DATABASE_URL="$OURS_DSN" TASKS_LOG_LEVEL="${TASKS_LOG_LEVEL:-WARNING}")
BASE_ENV=(env DATABASE_URL="$BASE_DSN" TASKS_LOG_LEVEL="${TASKS_LOG_LEVEL:-WARNING}")
if wants base; then
  [ -n "$BASE_REPO" ] && [ -x "$BASE_VENV/bin/tasks" ] || {
    echo "TARGETS has base: set BASE_REPO to a checkout with a venv (git worktree add DIR COMMIT; DIR/.venv)" >&2; exit 1; }
  mkdir -p "$RUN_DIR/cwd-base"
fi
if [ "$LISTENERS" = 1 ] && ! wants ours; then echo "LISTENERS=1 listens to ours: add it to TARGETS" >&2; exit 1; fi
# ours-defaults: the settings a user runs (issue 13): every TASKS_* knob unset but the signing secret.
DEFAULTS_ENV=(env)
for v in $(env | grep -oE '^TASKS_[A-Z_]+' | grep -vxE 'TASKS_AUTH_SECRET|TASKS_VENV' || true); do DEFAULTS_ENV+=(-u "$v"); done
DEFAULTS_ENV+=(DATABASE_URL="$OURS_DSN")

# --- AUTH HOOK ----------------------------------------------------------------------------------------
# Requests to our service carry bearer tokens when WRK_TOKENS names a file of "user token" lines (users
# u1..u5000 and w1..w1000, and "@feed" with role auditor for the global feed). Without WRK_TOKENS, the
# tokens are minted with our own `tasks token` (lib/tokens.py), in the environment the service runs with, so
# both see the same signing secret. As long as `tasks token` does not exist, requests carry no token.
OURS_TOKENS=""
if wants ours || wants ours-defaults || wants base; then
  # One signing secret per run (unless the caller set one), for our server and for minting the tokens:
  # with DATABASE_URL set the service refuses to start without it. Never written into the report.
  if [ -z "${TASKS_AUTH_SECRET:-}" ]; then
    TASKS_AUTH_SECRET="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
  fi
  export TASKS_AUTH_SECRET
  if [ -n "${WRK_TOKENS:-}" ]; then
    OURS_TOKENS="$WRK_TOKENS"; AUTH="bearer tokens from WRK_TOKENS=$WRK_TOKENS"
  else
    ( cd "$RUN_DIR/cwd-ours" && "${OURS_ENV[@]}" "$TASKS_VENV/bin/python" "$D/lib/tokens.py" "$RUN_DIR/tokens.txt" ) \
      2>"$RUN_DIR/logs/tokens.log"
    case $? in
      0) OURS_TOKENS="$RUN_DIR/tokens.txt"; AUTH="on: every request carries a bearer token minted by \`tasks token\` (lib/tokens.py)" ;;
      3) AUTH="not measured: this build has no \`tasks token\` (authentication not implemented yet), requests carry no token" ;;
      *) echo "minting tokens failed:" >&2; cat "$RUN_DIR/logs/tokens.log" >&2; exit 1 ;;
    esac
  fi
else
  AUTH="n/a (our service not measured)"
fi
echo "authentication: $AUTH" >&2

# --- reference databases: created once per run, reset before each measurement ----------------------------
if wants peer; then
  fresh_db "$PEER_DB"
  ( cd "$APPS_DIR/peer" && PEER_DATABASE_URL="$PEER_DSN" "$PEER_VENV/bin/python" init_db.py ) || { echo "peer init_db failed" >&2; exit 1; }
fi
if wants ceiling; then
  fresh_db "$CEILING_DB"
  psql_q -d "$CEILING_DB" -f "$SHARED_BENCH/sql/es_schema.sql" >/dev/null || { echo "ceiling schema failed" >&2; exit 1; }
fi

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: cd $(q "$REPO_DIR") && $CMD"
  echo "commit: $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo 'none yet') ($(git -C "$REPO_DIR" status --porcelain 2>/dev/null | wc -l) path(s) changed or untracked)"
  echo "duration_s: $DURATION"; echo "warmup_s: $WARMUP"; echo "conns: $CONNS"; echo "repeat: $REPEAT"
  echo "wrk_threads: $WRK_THREADS"; echo "wrk: $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "postgres: $(psql -X -Atc 'SHOW server_version' -d postgres 2>/dev/null) (fsync=$(psql -X -Atc 'SHOW fsync' -d postgres), synchronous_commit=$(psql -X -Atc 'SHOW synchronous_commit' -d postgres), shared_buffers=$(psql -X -Atc 'SHOW shared_buffers' -d postgres), max_connections=$(psql -X -Atc 'SHOW max_connections' -d postgres))"
  echo "server: $PGHOST:$PGPORT, data ${PG_DATA_DIR:-?}${PG_NOTE:+ ($PG_NOTE)}"
  if wants base; then echo "base: $BASE_REPO at $(git -C "$BASE_REPO" rev-parse --short HEAD 2>/dev/null || echo '?'), $BASE_VENV/bin/python"; fi
  if [ "$LISTENERS" = 1 ]; then echo "listeners: $LISTEN_STREAMS SSE clients on ours ($LISTEN_GLOBAL on the whole log, the others on one user's events) and one feed reader, all from the seed on; in $PROBE_SCENARIOS a probe creating $PROBE_RATE tasks/s timed from 2xx to its event on the streams (lib/listeners.py)"; fi
  echo "tasks_python: $TASKS_VENV/bin/python"; echo "peer_python: $PEER_VENV/bin/python"; echo "ceiling_python: $CEILING_VENV/bin/python"
  echo "peer_pool: ${PEER_POOL_SIZE:-5}+${PEER_MAX_OVERFLOW:-10} per worker"
  echo "ceiling: $CEILING_SERVER, write mode ${CEILING_WRITE_MODE:-tx}, pool ${CEILING_POOL_MIN:-5}-${CEILING_POOL_MAX:-15} per worker, pool reset ${CEILING_POOL_RESET:-default}"
  echo "data: 5,000 users u1..u5000 with 20 tasks each (100,000 tasks), reset before every measurement; ours: a fresh database, \`tasks migrate\`, one TaskCreated event (version 1) per task and its read row (version 1), descriptions $( [ "$SEED_DESCRIPTION" = null ] && echo null || echo "\"seed description n\" as in the references")"
  echo "auth: $AUTH"
  echo "env: $(echo "$_SET_ENV" | paste -sd' ' -)"
} >"$RUN_DIR/meta.txt"

# --- one measurement ------------------------------------------------------------------------------------
# Scenarios a reference service does not have are marked n/a without starting it.
na() {
  case "$1:$2" in peer:feed|ceiling:get|ceiling:feed) return 0 ;; esac; return 1
}
# A request per scenario (writes: ours only) whose 404/405 means "this endpoint does not exist (yet)": the scenario is skipped.
probe() {
  case "$1" in
    get)  echo "GET /api/u1/tasks/00000000-0000-4000-8000-000000000001 u1" ;;
    list) echo "GET /api/u1/tasks u1" ;;
    feed) echo "GET /api/events?after=0&limit=1000 @feed" ;;
    # Writes: probed on our service only (their 2xx proves the token is accepted; see lib/measure.sh).
    create) [[ "${2:-}" = ours* ]] && echo "POST /api/w1/tasks w1" ;;
    toggle|mixed) [[ "${2:-}" = ours* ]] && echo "PATCH /api/u1/tasks/00000000-0000-4000-8000-000000000001/complete u1" ;;
    *) echo "" ;;
  esac
}
measure() {  # TARGET SCENARIO WORKERS REPETITION
  local t="$1" s="$2" w="$3" label log rc
  export SLUG="$t-$s-w$w-r$4"
  case "$t" in
    ours)    label="target=ours server=tasks-serve workers=$w" ;;
    base)    label="target=base server=tasks-serve workers=$w" ;;
    ours-defaults) label="target=ours-defaults server=tasks-serve workers=$w" ;;
    peer)    label="target=peer server=uvicorn workers=$w pool=${PEER_POOL_SIZE:-5}+${PEER_MAX_OVERFLOW:-10}" ;;
    ceiling) label="target=ceiling server=$CEILING_SERVER workers=$w write_mode=${CEILING_WRITE_MODE:-tx} pool=${CEILING_POOL_MIN:-5}-${CEILING_POOL_MAX:-15} reset=${CEILING_POOL_RESET:-default}" ;;
  esac
  if na "$t" "$s"; then echo "na $label scenario=$s" | tee -a "$SUMMARY"; return; fi
  log="$RUN_DIR/logs/measure-$SLUG.log"
  {
    case "$t" in
      ours|ours-defaults)
        local envs=("${OURS_ENV[@]}")
        [ "$t" = ours-defaults ] && envs=("${DEFAULTS_ENV[@]}")
        fresh_db "$OURS_DB" &&
        ( cd "$RUN_DIR/cwd-ours" && "${OURS_ENV[@]}" "$TASKS_VENV/bin/tasks" migrate ) &&
        psql_q -d "$OURS_DB" -v seed_description="$SEED_DESCRIPTION" -f "$D/sql/seed_tasks.sql" &&
        LISTEN="$LISTENERS" LISTEN_PROBE_RATE="$( [[ " $PROBE_SCENARIOS " == *" $s "* ]] && echo "$PROBE_RATE" || echo 0)" \
        WRK_TOKENS="$OURS_TOKENS" PROBE="$(probe "$s" ours)" "$D/lib/measure.sh" "$label" "$s" "$RUN_DIR/cwd-ours" -- \
          "${envs[@]}" "$TASKS_VENV/bin/tasks" serve --host 127.0.0.1 --port "$PORT" --workers "$w"
        ;;
      base)
        fresh_db "$BASE_DB" &&
        ( cd "$RUN_DIR/cwd-base" && "${BASE_ENV[@]}" "$BASE_VENV/bin/tasks" migrate ) &&
        psql_q -d "$BASE_DB" -v seed_description="$SEED_DESCRIPTION" -f "$BASE_REPO/bench/sql/seed_tasks.sql" &&
        WRK_TOKENS="$OURS_TOKENS" PROBE="$(probe "$s" ours)" "$D/lib/measure.sh" "$label" "$s" "$RUN_DIR/cwd-base" -- \
          "${BASE_ENV[@]}" "$BASE_VENV/bin/tasks" serve --host 127.0.0.1 --port "$PORT" --workers "$w"
        ;;
      peer)
        psql_q -d "$PEER_DB" -f "$SHARED_BENCH/sql/peer_reset.sql" &&
        WRK_TOKENS="" PROBE="$(probe "$s")" "$D/lib/measure.sh" "$label" "$s" "$APPS_DIR/peer" -- \
          env PEER_DATABASE_URL="$PEER_DSN" "$PEER_VENV/bin/uvicorn" app.main:app --host 127.0.0.1 --port "$PORT" \
          --workers "$w" --loop uvloop --http httptools --no-access-log --log-level warning
        ;;
      ceiling)
        psql_q -d "$CEILING_DB" -f "$SHARED_BENCH/sql/es_reset.sql" &&
        if [ "$CEILING_SERVER" = granian ]; then
          WRK_TOKENS="" PROBE="$(probe "$s")" "$D/lib/measure.sh" "$label" "$s" "$APPS_DIR/ceiling" -- \
            env CEILING_DSN="${CEILING_DSN:-$CEILING_DSN_DEFAULT}" "$CEILING_VENV/bin/granian" --interface asgi \
            --host 127.0.0.1 --port "$PORT" --workers "$w" --loop uvloop --no-access-log --log-level warning app:app
        else
          WRK_TOKENS="" PROBE="$(probe "$s")" "$D/lib/measure.sh" "$label" "$s" "$APPS_DIR/ceiling" -- \
            env CEILING_DSN="${CEILING_DSN:-$CEILING_DSN_DEFAULT}" "$CEILING_VENV/bin/uvicorn" app:app \
            --host 127.0.0.1 --port "$PORT" --workers "$w" --loop uvloop --http httptools --no-access-log --log-level warning
        fi
        ;;
    esac
  } >"$log" 2>&1
  rc=$?
  grep -E '^(http|skip|warning)' "$log" >&2 || true
  if [ $rc -ne 0 ]; then
    echo "fail $label scenario=$s log=$log" | tee -a "$SUMMARY" >&2
    tail -n 20 "$log" >&2
  fi
}

for s in $SCENARIOS; do
  [ -f "$D/wrk/$s.lua" ] || { echo "unknown scenario $s (have: $(cd "$D/wrk" && ls *.lua | grep -v common | sed 's/.lua//' | paste -sd' ' -))" >&2; exit 2; }
done
for s in $SCENARIOS; do
  for w in $WORKERS; do
    for r in $(seq 1 "$REPEAT"); do
      for t in $TARGETS; do
        echo "== $s, $w worker(s), $t (run $r/$REPEAT)" >&2
        measure "$t" "$s" "$w" "$r"
      done
    done
  done
done

[ -f "$REPORT" ] || printf '# Benchmark report\n\nAppended by `bash bench/run.sh` (see bench/README.md); newest last.\n' >"$REPORT"
python3 "$D/lib/report.py" "$RUN_DIR" "$REPORT" || { echo "report failed (raw lines: $SUMMARY)" >&2; exit 1; }
echo "appended to $REPORT (raw lines: $SUMMARY)" >&2
