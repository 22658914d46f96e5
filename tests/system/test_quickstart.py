"""The README's quick start, with authentication on: `tasks serve` on the embedded database
and `tasks token` agree on a secret with nothing configured."""

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

pytestmark = pytest.mark.slow

README = Path(__file__).parents[2] / "README.md"


def readme_client_lines() -> str:
    """The README's second shell block: the curl lines a new user pastes."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert "curl" in blocks[1], "the README's second block is no longer the curl lines"
    return str(blocks[1])


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


def test_the_readmes_curl_lines_work_as_pasted(tmp_path: Path) -> None:
    """Run the README's lines in bash, unchanged but for the port: the created id is captured
    and used, and the Idempotency-Key is sent (a retry with it creates nothing more)."""
    data, port = tmp_path / "data", free_port()
    env = fresh_environment(data, port)
    # The README runs `.venv/bin/tasks` from the checkout: the same command, here.
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "tasks").symlink_to(Path(sys.executable).parent / "tasks")
    lines = readme_client_lines().replace("localhost:8000", f"localhost:{port}")
    # A line break after each answer (curl prints none), to tell them apart.
    lines = "\n".join(f"{x}; echo" if x.startswith("curl") else x for x in lines.splitlines())
    # Then the same POST again with the same key, as a client retrying a 503 would.
    retry = next(line for line in lines.splitlines() if line.startswith("ID=$(curl"))
    script = f'{lines}\necho; {retry.replace("ID=", "AGAIN=", 1)}\necho "again=$AGAIN"\n'
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"], env=env, cwd=tmp_path, stderr=log
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}", server)
            ran = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            server.terminate()
            server.wait(timeout=60)
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout.splitlines()
    toggled, listed, history = (json.loads(line) for line in out[:3])
    assert (toggled["title"], toggled["completed"], toggled["version"]) == ("Buy milk", True, 2)
    assert [(t["id"], t["completed"]) for t in listed] == [(toggled["id"], True)]
    assert [e["type"] for e in history] == ["TaskCreated", "TaskToggled"]
    assert out[-1] == f"again={toggled['id']}"  # the retry answered the first create


def test_the_readmes_lines_stop_rather_than_send_an_empty_key(tmp_path: Path) -> None:
    """Without python3 the key would be empty: the lines stop there, and nothing is created."""
    lines = readme_client_lines().replace("localhost:8000", "localhost:9")
    script = "python3() { return 1; }\n" + lines.replace(
        'AUTH="Authorization: Bearer $(.venv/bin/tasks token alice)"', "AUTH=x"
    )
    ran = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "KEY: parameter null or not set" in ran.stderr
