"""`tasks token` and the token secret: minted tokens verify, a missing or short secret is
refused clearly, and the embedded setup's secret is private and kept."""

import stat
import subprocess
import sys
from pathlib import Path

import jwt

from app.settings import Settings
from app.tokens import AUDITOR, authenticator, data_folder_secret
from tests.support.tokens import SECRET


def run_cli(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={"PATH": "/usr/bin:/bin", "TASKS_LOG_LEVEL": "WARNING", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=cwd,
    )


def test_tasks_token_prints_a_token_the_service_accepts() -> None:
    done = run_cli("token", "alice", "--role", AUDITOR, "--ttl", "120", TASKS_AUTH_SECRET=SECRET)
    assert done.returncode == 0, done.stderr
    claims = authenticator(Settings(auth_secret=SECRET, _env_file=None)).claims(  # type: ignore[union-attr]
        done.stdout.strip()
    )
    assert (claims.sub, claims.roles) == ("alice", (AUDITOR,))
    payload = jwt.decode(done.stdout.strip(), SECRET, algorithms=["HS256"])
    assert payload["exp"] - payload["iat"] == 120


def test_without_a_secret_an_external_database_refuses_to_start_and_says_why() -> None:
    for command in (["token", "alice"], ["serve", "--port", "1"]):
        done = run_cli(*command, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
        assert done.returncode == 2
        assert "TASKS_AUTH_SECRET" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_short_secret_is_refused_without_echoing_it() -> None:
    done = run_cli("token", "alice", TASKS_AUTH_SECRET="short-secret-value")
    assert done.returncode != 0
    assert "short-secret-value" not in done.stderr + done.stdout


def test_the_data_folder_secret_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = data_folder_secret(tmp_path)
    assert len(first) >= 32
    mode = (tmp_path / "auth-secret").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert data_folder_secret(tmp_path) == first
    done = run_cli("token", "bob", TASKS_DATA_DIR=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert jwt.decode(done.stdout.strip(), first, algorithms=["HS256"])["sub"] == "bob"


def test_tasks_token_makes_no_secret_of_its_own_and_says_where_one_comes_from(
    tmp_path: Path,
) -> None:
    """A secret the service does not have would make every token it prints a 401."""
    done = run_cli("token", "alice", TASKS_DATA_DIR=str(tmp_path / "elsewhere"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"no token secret in {tmp_path / 'elsewhere'}" in done.stderr
    assert "`tasks serve`" in done.stderr and "TASKS_DATA_DIR" in done.stderr
    assert not (tmp_path / "elsewhere" / "auth-secret").exists()


def test_the_default_data_folder_is_the_users_wherever_a_command_runs(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    secret = data_folder_secret(xdg / "tasks")  # as `tasks serve` made it
    assert Settings(_env_file=None).data_dir != Path(".tasks-data").resolve()
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        done = run_cli("token", "alice", cwd=tmp_path / folder, XDG_DATA_HOME=str(xdg))
        assert done.returncode == 0, done.stderr
        assert jwt.decode(done.stdout.strip(), secret, algorithms=["HS256"])["sub"] == "alice"
        assert not (tmp_path / folder / ".tasks-data").exists()


def test_an_old_data_folder_in_the_current_one_is_pointed_out(tmp_path: Path) -> None:
    data_folder_secret(tmp_path / ".tasks-data")
    data_folder_secret(tmp_path / "xdg" / "tasks")
    done = run_cli("token", "alice", cwd=tmp_path, XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert done.returncode == 0, done.stderr
    assert f"TASKS_DATA_DIR={tmp_path / '.tasks-data'}" in done.stderr


def test_a_role_the_service_does_not_know_is_refused_naming_the_roles() -> None:
    done = run_cli("token", "alice", "--role", "admin", TASKS_AUTH_SECRET=SECRET)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "'admin'" in done.stderr and AUDITOR in done.stderr
