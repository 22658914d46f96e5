#!/usr/bin/env bash
# Idempotent preparation, run by bench/run.sh (or alone): wrk, PostgreSQL reachable, the three virtualenvs,
# fresh copies of the shared peer/ceiling apps. Adapted from shared/bench/setup.sh; writes only under $BENCH_OUT.
# Env: TASKS_VENV (a ready venv with our package; default $BENCH_OUT/.venv-tasks, created with
#      `python3 -m venv` + `pip install -e <repo>`), TARGETS (only the venvs of these are prepared).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

if ! command -v wrk >/dev/null; then
  echo "installing wrk" >&2
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
if ! pg_isready -q -h "$PGHOST" -p "$PGPORT" && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster 15 main start || true
fi
pg_ready
[ -d "$SHARED_BENCH/peer" ] && [ -d "$SHARED_BENCH/ceiling" ] || {
  echo "shared references not found in $SHARED_BENCH (set SHARED_BENCH)" >&2; exit 1; }

wants() { [[ " $TARGETS " == *" $1 "* ]]; }

if wants ours || wants ours-defaults; then
  stamp="$(sha256sum "$REPO_DIR/pyproject.toml" | cut -c1-16)"
  if [ ! -x "$TASKS_VENV/bin/tasks" ] || { [ "$TASKS_VENV" = "$BENCH_OUT/.venv-tasks" ] && \
       [ "$(cat "$TASKS_VENV/.bench-stamp" 2>/dev/null)" != "$stamp" ]; }; then
    [ "$TASKS_VENV" = "$BENCH_OUT/.venv-tasks" ] || { echo "TASKS_VENV=$TASKS_VENV has no bin/tasks" >&2; exit 1; }
    echo "creating $TASKS_VENV (pip install -e $REPO_DIR)" >&2
    [ -x "$TASKS_VENV/bin/pip" ] || python3 -m venv "$TASKS_VENV"
    "$TASKS_VENV/bin/pip" install -q -e "$REPO_DIR"
    echo "$stamp" >"$TASKS_VENV/.bench-stamp"
  fi
fi
if wants peer && [ ! -x "$PEER_VENV/bin/uvicorn" ]; then
  echo "creating $PEER_VENV" >&2
  python3 -m venv "$PEER_VENV"
  "$PEER_VENV/bin/pip" install -q -r "$SHARED_BENCH/peer/requirements.lock.txt"
fi
if wants ceiling && [ ! -x "$CEILING_VENV/bin/granian" ]; then
  echo "creating $CEILING_VENV" >&2
  python3 -m venv "$CEILING_VENV"
  "$CEILING_VENV/bin/pip" install -q -r "$SHARED_BENCH/ceiling/requirements.lock.txt"
fi

# The reference apps run from copies: Python writes __pycache__ next to the code it imports, and as root
# it would do so even in the read-only shared/ folder.
rm -rf "$APPS_DIR"; mkdir -p "$APPS_DIR"
cp -r "$SHARED_BENCH/peer" "$SHARED_BENCH/ceiling" "$APPS_DIR/"
chmod -R u+w "$APPS_DIR"
find "$APPS_DIR" -name __pycache__ -prune -exec rm -rf {} +
echo "setup ok" >&2
