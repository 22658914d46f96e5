"""docs/analytics.md's way in to the embedded server works: `tasks analyst-role`, then the
documented URL (the data folder's socket, database postgres) as the read-only role."""

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.support.servers import free_port
from tests.system.test_quickstart import fresh_environment, wait_ready

pytestmark = pytest.mark.slow

DOC = Path(__file__).parents[2] / "docs" / "analytics.md"


def documented_url() -> str:
    match = re.search(
        r'psql "(postgresql://analyst@/postgres\?host=\$\{XDG_DATA_HOME:-\$HOME/\.local/share\}/[^"]+)"',
        DOC.read_text(),
    )
    assert match, "docs/analytics.md no longer says how to reach the embedded server"
    return match.group(1)


async def read_as_analyst(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT current_user") == "analyst"
        assert await conn.fetchval("SELECT count(*) FROM analytics.events") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch("SELECT * FROM tasks")
    finally:
        await conn.close()


def test_an_analyst_reaches_the_embedded_server_as_documented(tmp_path: Path) -> None:
    port = free_port()
    env = fresh_environment(tmp_path / "unused", port)
    del env["TASKS_DATA_DIR"]  # the default folder: the user's, under XDG_DATA_HOME
    env["XDG_DATA_HOME"] = str(tmp_path / "share")
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], env=env, cwd=tmp_path, stderr=log
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", server)
            made = subprocess.run(
                [sys.executable, "-m", "app.cli", "analyst-role", "analyst"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert made.returncode == 0, made.stderr
            url = documented_url().replace(
                "${XDG_DATA_HOME:-$HOME/.local/share}", env["XDG_DATA_HOME"]
            )
            asyncio.run(read_as_analyst(url))
        finally:
            server.terminate()
            server.wait(timeout=60)
