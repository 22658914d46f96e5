"""An embedded PostgreSQL (pgserver) for running with no database installed."""

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger("tasks.embedded")


class EmbeddedPostgres:
    """Starts PostgreSQL in a data folder (kept across runs) and stops it on close."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._server: Any = None

    def start(self) -> str:
        from pgserver import get_server  # type: ignore[attr-defined]  # only embedded mode needs it

        self.data_dir.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self.data_dir)
        self._server = get_server(self.data_dir, cleanup_mode="stop")
        return str(self._server.get_uri())

    def stop(self) -> None:
        if self._server is not None:
            log.info("stopping embedded PostgreSQL")
            self._server.cleanup()
            self._server = None
