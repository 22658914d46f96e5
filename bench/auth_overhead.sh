#!/usr/bin/env bash
# What authentication costs per request: GET /api/u{1..5000}/tasks with wrk (2 threads,
# 32 connections, 10 s after a 3 s warm-up) against one `tasks serve` worker, with
# authentication on and off in turn, three times; prints requests/s and the server's
# CPU time per request (read from /proc, steadier than requests/s on a shared machine).
# Needs wrk, DATABASE_URL (a migrated database) and the shared wrk scripts (BENCH_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?set DATABASE_URL to a migrated database}"
BENCH_DIR="${BENCH_DIR:-/work/shared/bench}"
SECRET="bench-secret-$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
TOKENS="$(mktemp)"
trap 'rm -f "$TOKENS"' EXIT
.venv/bin/python -c "
from app.tokens import mint
for n in range(1, 5001):
    print(f'u{n}', mint('$SECRET', f'u{n}', ttl=3600))" > "$TOKENS"

run() {  # $1: on | off
  local port=$((20000 + RANDOM % 10000)) off=false
  [ "$1" = off ] && off=true
  TASKS_LOG_LEVEL=WARNING TASKS_AUTH_SECRET="$SECRET" TASKS_AUTH_DISABLED="$off" \
    .venv/bin/tasks serve --port "$port" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.1; done
  local wrk=(env WRK_LUA_DIR="$BENCH_DIR/wrk" WRK_TOKENS="$TOKENS" wrk -t2 -c32)
  "${wrk[@]}" -d3s -s "$BENCH_DIR/wrk/list.lua" "http://127.0.0.1:$port" >/dev/null
  local t0 t1 out requests
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  out=$("${wrk[@]}" -d10s -s "$BENCH_DIR/wrk/list.lua" "http://127.0.0.1:$port")
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "auth=$1 $(echo "$out" | grep -E 'Requests/sec|Non-2xx' | tr -s ' \n' ' ')" \
    "server_cpu_us_per_request=$(( (t1 - t0) * 10000 / requests ))"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}

for _ in 1 2 3; do run on; run off; done
