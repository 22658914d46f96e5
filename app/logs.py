"""The one log format of the service and the command line, and whose logs are shown."""

import logging
from typing import Any

from app.runtime.embedded import quiet_pgserver

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str) -> None:
    """The command line's logging: one format, pgserver's chatter only when debugging."""
    logging.basicConfig(level=level, format=FORMAT)
    quiet_pgserver(level)


def uvicorn_config(level: str) -> dict[str, Any]:
    """uvicorn's loggers, in the same format (its own prints "INFO:     Uvicorn running")."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"standard": {"format": FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "standard"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": level},
        },
    }
