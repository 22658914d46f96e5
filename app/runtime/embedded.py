"""An embedded PostgreSQL (pgserver) for running with no database installed."""

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("tasks.embedded")


def pgdata(data_dir: Path) -> Path:
    """PostgreSQL's own folder inside the data folder (which also keeps the token secret).

    initdb wants an empty folder, so PostgreSQL gets a subfolder; a data folder made
    before that, with PostgreSQL's files at its top, is used as it is.
    """
    return data_dir if (data_dir / "PG_VERSION").exists() else data_dir / "pg"


class EmbeddedPostgres:
    """Starts PostgreSQL in a data folder (kept across runs) and stops it on close."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> str:
        from pgserver import get_server  # type: ignore[attr-defined]  # only embedded mode needs it

        self.data_dir.mkdir(parents=True, exist_ok=True)
        folder = pgdata(self.data_dir)
        log.info("starting embedded PostgreSQL in %s", folder)
        self._server = get_server(folder, cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            log.info("stopping embedded PostgreSQL")
            self._server.cleanup()
            self._server = None
