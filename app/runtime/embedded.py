"""An embedded PostgreSQL (pgserver) for running with no database installed."""

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("tasks.embedded")
HANDLES_FILE = ".handle_pids.json"


def pgdata(data_dir: Path) -> Path:
    """PostgreSQL's own folder inside the data folder (which also keeps the token secret).

    initdb wants an empty folder, so PostgreSQL gets a subfolder; a data folder made
    before that, with PostgreSQL's files at its top, is used as it is.
    """
    return data_dir if (data_dir / "PG_VERSION").exists() else data_dir / "pg"


def quiet_pgserver(level: str) -> None:
    """pgserver logs every command it runs, with its output (initdb's "Success. You can now
    start the database server using ..."), at INFO: about 40 lines a start. Only its
    warnings are ours to show, unless someone is debugging."""
    logging.getLogger("pgserver").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def _pgserver() -> Any:
    # pgserver looks up a runtime folder when imported, and warns when XDG_RUNTIME_DIR is unset
    # (it falls back to /tmp, which is fine).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver  # only embedded mode needs it
        from pgserver import postgres_server
    return pgserver, postgres_server


def forget_dead_holders(folder: Path) -> list[int]:
    """Drop the processes that no longer run from pgserver's list of the server's holders.

    pgserver stops PostgreSQL when the last process holding it lets go, and counts holders
    in `.handle_pids.json`. A holder that died without letting go (kill -9, SIGHUP) stayed
    listed for good, so nobody was ever last again and every later Ctrl-C left PostgreSQL
    running. Done under pgserver's own lock; returns the PIDs dropped.
    """
    import psutil  # type: ignore[import-untyped]

    _, postgres_server = _pgserver()
    with postgres_server.PostgresServer._lock:
        holders = postgres_server.DiskList(folder / HANDLES_FILE)
        listed = holders.get()
        alive = [pid for pid in listed if _running(psutil, pid)]
        if alive != listed:
            holders.put(alive)
    return [pid for pid in listed if pid not in alive]


def _running(psutil: Any, pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class EmbeddedPostgres:
    """Starts PostgreSQL in a data folder (kept across runs) and stops it on close."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> str:
        pgserver, _ = _pgserver()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        folder = pgdata(self.data_dir)
        if not (folder / "PG_VERSION").exists():
            log.info("creating a PostgreSQL database in %s (once)", folder)
        elif dropped := forget_dead_holders(folder):
            log.info("an earlier run ended without stopping PostgreSQL (pid %s)", dropped)
        log.debug("starting embedded PostgreSQL in %s", folder)
        self._server = pgserver.get_server(folder, cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            log.debug("stopping embedded PostgreSQL")
            self._server.cleanup()
            self._server = None
