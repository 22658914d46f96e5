"""A PostgreSQL primary and a streaming hot standby on loopback ports, for replica tests.

Uses the PostgreSQL binaries the pgserver package ships, so it needs nothing
installed on the machine. As root, the servers run as pgserver's system user.
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]
from pgserver.utils import ensure_prefix_permissions, ensure_user_exists  # type: ignore[import-untyped]

from tests.support.servers import free_port

SYSTEM_USER = "pgserver"


class Server:
    def __init__(self, data: Path, port: int, run_as: str | None) -> None:
        self.data, self.port, self.run_as = data, port, run_as

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *args: str, **kwargs: Any) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / tool), *args],
            check=True,
            capture_output=True,
            timeout=60,
            user=self.run_as,
            **kwargs,
        )

    def configure(self) -> None:
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data}'\nwal_level = replica\n"
                "max_wal_senders = 5\nhot_standby = on\nfsync = off\n"
            )

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


class PrimaryWithStandby:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="tpg"))
        self.run_as = SYSTEM_USER if os.geteuid() == 0 else None
        if self.run_as:
            ensure_user_exists(self.run_as)
            ensure_prefix_permissions(self.root)
            shutil.chown(self.root, self.run_as)
        self.primary = Server(self.root / "primary", free_port(), self.run_as)
        self.standby = Server(self.root / "standby", free_port(), self.run_as)

    def start(self) -> None:
        p = self.primary
        p.run("initdb", "-D", str(p.data), "-U", "postgres", "--auth=trust", "--no-sync")
        p.configure()
        p.start()
        p.run(
            "pg_basebackup",
            "-h", "127.0.0.1", "-p", str(p.port), "-U", "postgres",
            "-D", str(self.standby.data), "-R", "-X", "stream", "--no-sync",
        )  # fmt: skip
        self.standby.configure()
        self.standby.start()

    def stop(self) -> None:
        for server in (self.standby, self.primary):
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
        shutil.rmtree(self.root, ignore_errors=True)
