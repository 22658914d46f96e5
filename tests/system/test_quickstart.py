"""The README's quick start, with authentication on: `tasks serve` on the embedded database
and `tasks token` agree on a secret with nothing configured."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.slow


def fresh_environment(data_dir: Path, port: int) -> dict[str, str]:
    """The caller's environment without any database or tasks settings, as on a new machine."""
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TASKS_")
    }
    return {**env, "TASKS_DATA_DIR": str(data_dir), "TASKS_PORT": str(port)}


def wait_ready(
    url: str, server: subprocess.Popen[bytes], log: Path | None = None, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            said = log.read_text(errors="replace")[-3000:] if log else ""
            raise AssertionError(f"tasks serve exited with {server.returncode}:\n{said}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError("tasks serve did not become ready")


def test_serve_and_token_work_together_out_of_the_box(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    env = fresh_environment(data, port)
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], env=env, cwd=tmp_path, stderr=log
        )
        try:
            wait_ready(url, server, tmp_path / "serve.log")
            minted = subprocess.run(
                [sys.executable, "-m", "app.cli", "token", "alice"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=True,
            )
            auth = {"Authorization": f"Bearer {minted.stdout.strip()}"}
            created = httpx.post(f"{url}/api/alice/tasks", json={"title": "Buy milk"}, headers=auth)
            assert created.status_code == 201, created.text
            listed = httpx.get(f"{url}/api/alice/tasks", headers=auth).json()
            assert [t["title"] for t in listed] == ["Buy milk"]
            assert httpx.get(f"{url}/api/alice/tasks").status_code == 401
            assert httpx.get(f"{url}/api/bob/tasks", headers=auth).status_code == 403
        finally:
            server.terminate()
            server.wait(timeout=60)
    assert stat.S_IMODE((data / "auth-secret").stat().st_mode) == 0o600
    assert (data / "pg" / "PG_VERSION").exists()
    # Stopping the service (SIGTERM, as a process manager does) stops its PostgreSQL too.
    assert server.returncode == 0
    assert not (data / "pg" / "postmaster.pid").exists()
