#!/usr/bin/env bash
# One HTTP measurement (adapted from shared/bench/lib/run_http.sh): start a server on fresh data (the caller
# has reset it), wait for /health, probe the scenario's endpoint, warm up, measure with wrk while sampling CPU
# per process group, sample how the connections spread over the workers, read the workers' RSS, stop the server
# by its PID (and its workers' PIDs), append one summary line to $RUN_DIR/summary.txt.
#
# Usage: lib/measure.sh "LABEL" SCENARIO APP_DIR -- server command...
#   LABEL: key=value words that start the summary line (target=.. server=.. workers=..)
# Env: RUN_DIR, SLUG (log file names), PROBE ("METHOD PATH USER": a request that answers 404/405 if the scenario's endpoint is missing;
#      then the scenario is skipped and a "skip" line is written), WRK_TOKENS (bearer tokens; only for our service)
set -euo pipefail
source "$(dirname "$0")/common.sh"
LABEL="$1"; SCENARIO="$2"; APP_DIR="$3"; shift 3
[ "$1" = "--" ] && shift
LUA="$BENCH_DIR/wrk/$SCENARIO.lua"
[ -f "$LUA" ] || { echo "unknown scenario $SCENARIO" >&2; exit 2; }
: "${RUN_DIR:?RUN_DIR}"
LOGS="$RUN_DIR/logs"; mkdir -p "$LOGS"
URL="http://127.0.0.1:$PORT"
export WRK_LUA_DIR="$BENCH_DIR/wrk"
SUMMARY="$RUN_DIR/summary.txt"

pg_ready
if curl -s -o /dev/null --max-time 2 "$URL/health"; then
  echo "port $PORT already serves something; refusing to start (set PORT)" >&2; exit 1
fi

SLUG="${SLUG:-$(echo "$LABEL-$SCENARIO" | tr ' =' '_-')}"   # file names of this run's logs
SRV_LOG="$LOGS/server-$SLUG.log"
( cd "$APP_DIR" && exec "$@" ) >"$SRV_LOG" 2>&1 &
SRV_PID=$!

stop_server() {
  [ -n "${SRV_PID:-}" ] || return 0
  local kids
  kids="$(ps -o pid= --ppid "$SRV_PID" 2>/dev/null | tr -s ' \n' ' ' || true)"
  kill -TERM "$SRV_PID" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SRV_PID" 2>/dev/null && kill -KILL "$SRV_PID" 2>/dev/null || true
  wait "$SRV_PID" 2>/dev/null || true
  for k in $kids; do
    for _ in $(seq 1 50); do kill -0 "$k" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$k" 2>/dev/null && kill -KILL "$k" 2>/dev/null || true
  done
  SRV_PID=""
}
trap stop_server EXIT

for _ in $(seq 1 600); do
  curl -sf -o /dev/null --max-time 2 "$URL/health" && break
  kill -0 "$SRV_PID" 2>/dev/null || { echo "server died; log:" >&2; cat "$SRV_LOG" >&2; exit 1; }
  sleep 0.1
done
curl -sf -o /dev/null --max-time 2 "$URL/health" || { echo "server not healthy; log:" >&2; cat "$SRV_LOG" >&2; exit 1; }

token_for() { [ -n "${WRK_TOKENS:-}" ] && awk -v u="$1" '$1 == u {print $2; exit}' "$WRK_TOKENS" || true; }

# Does the scenario's endpoint exist? (A missing route answers 404, or 405 when the path exists for another method.)
if [ -n "${PROBE:-}" ]; then
  read -r P_METHOD P_PATH P_USER <<<"$PROBE"
  P_TOKEN="$(token_for "$P_USER")"
  P_BODY=()
  [ "$P_METHOD" = POST ] && P_BODY=(-H "Content-Type: application/json" --data '{"title":"probe"}')
  P_CODE="$(curl -s -o "$LOGS/probe-$SLUG.txt" -w '%{http_code}' --max-time 10 -X "$P_METHOD" "${P_BODY[@]}" \
            ${P_TOKEN:+-H "Authorization: Bearer $P_TOKEN"} "$URL$P_PATH" || echo 000)"
  # A token the server refuses would measure the cost of a 401: stop rather than report it.
  if [ -n "$P_TOKEN" ] && { [ "$P_CODE" = 401 ] || [ "$P_CODE" = 403 ]; }; then
    echo "probe $P_METHOD $P_PATH with a token answered $P_CODE: $(cat "$LOGS/probe-$SLUG.txt")" >&2; exit 1
  fi
  if [ "$P_CODE" = 404 ] || [ "$P_CODE" = 405 ]; then
    stop_server; trap - EXIT
    echo "skip $LABEL scenario=$SCENARIO reason=endpoint_answered_$P_CODE probe=${P_METHOD}:${P_PATH}" | tee -a "$SUMMARY"
    exit 0
  fi
  case "$P_CODE" in 2??|3??) ;; *) echo "warning: probe $P_METHOD $P_PATH answered $P_CODE (see $LOGS/probe-$SLUG.txt)" >&2 ;; esac
fi

quiet_wait
# Readers on our service during warm-up and measurement (run.sh sets LISTEN=1; see lib/listeners.py).
LISTEN_PID=""; LISTEN_LINE=""
stop_listeners() {
  [ -n "$LISTEN_PID" ] || return 0
  kill -TERM "$LISTEN_PID" 2>/dev/null || true
  wait "$LISTEN_PID" 2>/dev/null || true
  LISTEN_PID=""
}
if [ "${LISTEN:-0}" = 1 ]; then
  LISTEN_OUT="$LOGS/listeners-$SLUG.txt"; LISTEN_READY="$LOGS/listeners-$SLUG.ready"; rm -f "$LISTEN_READY"
  python3 "$BENCH_DIR/lib/listeners.py" --url "$URL" --tokens "$WRK_TOKENS" --seed "${LISTEN_SEED:-100000}" \
    --streams "$LISTEN_STREAMS" --global "$LISTEN_GLOBAL" --probe-rate "${LISTEN_PROBE_RATE:-0}" \
    --ready-file "$LISTEN_READY" >"$LISTEN_OUT" 2>"$LOGS/listeners-$SLUG.log" &
  LISTEN_PID=$!
  trap 'stop_listeners; stop_server' EXIT
  for _ in $(seq 1 200); do [ -f "$LISTEN_READY" ] && break; kill -0 "$LISTEN_PID" 2>/dev/null || break; sleep 0.1; done
  [ -f "$LISTEN_READY" ] || { echo "listeners did not start:" >&2; cat "$LOGS/listeners-$SLUG.log" >&2; exit 1; }
fi
# warm-up (discarded)
wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 5s -s "$LUA" "$URL" >/dev/null 2>&1 || true

cpu_start --server-pid "$SRV_PID"
WRK_FILE="$LOGS/wrk-$SLUG.txt"
wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency -s "$LUA" "$URL" >"$WRK_FILE" 2>&1 &
WRK_PID=$!
# How the keep-alive connections are spread over the server processes (sampled once, a third of the way in).
sleep "$(( DURATION >= 9 ? 3 : (DURATION + 2) / 3 ))"
CONN_DIST="$(ss -tnpH state established "( sport = :$PORT )" 2>/dev/null | grep -o 'pid=[0-9]*' | sort | uniq -c \
             | awk '{print $1}' | sort -rn | paste -sd/ -)"
wait "$WRK_PID" || true
cpu_stop
if [ -n "$LISTEN_PID" ]; then
  stop_listeners
  LISTEN_LINE="$(grep '^listeners ' "$LISTEN_OUT" | sed -e 's/^listeners //' -e 's/\([a-z0-9_]*\)=/l_\1=/g' || true)"
  [ -n "$LISTEN_LINE" ] || LISTEN_LINE="l_ok=no l_error=no_result"
fi
RSS="$(python3 "$BENCH_DIR/lib/rss.py" "$SRV_PID")"
stop_server
trap - EXIT

WRK_LINE="$(grep '^WRK ' "$WRK_FILE" | sed 's/^WRK //' || true)"
[ -n "$WRK_LINE" ] || { echo "wrk produced no result:" >&2; cat "$WRK_FILE" >&2; exit 1; }
echo "http $LABEL scenario=$SCENARIO conns=$CONNS wrk_threads=$WRK_THREADS dur_s=$DURATION $WRK_LINE" \
     "conn_split=${CONN_DIST:-?} $RSS $CPU $QUIET${LISTEN_LINE:+ $LISTEN_LINE}" | tee -a "$SUMMARY"
