"""Once-per-deployment jobs: exactly one instance leads, and leadership moves when it dies."""

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from app.runtime.migrate import migrate_url
from tests.support.servers import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
def three_instances(fresh_database: str) -> Iterator[list[LiveServer]]:
    """Alone on a database of their own: every app process contends for leadership."""
    asyncio.run(migrate_url(fresh_database))
    env = {"TASKS_LEADER_RETRY_SECONDS": "0.2", "TASKS_ANALYZE_EVERY_SECONDS": "0.2"}
    servers = [LiveServer(fresh_database, **env) for _ in range(3)]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


def leaders(servers: list[LiveServer]) -> list[LiveServer]:
    return [s for s in servers if httpx.get(f"{s.url}/ready", timeout=5).json()["leader"]]


def job_runs(server: LiveServer) -> int:
    text = httpx.get(f"{server.url}/metrics", timeout=5).text
    line = next(x for x in text.splitlines() if x.startswith("tasks_leader_job_runs_total{"))
    return int(float(line.rsplit(" ", 1)[1]))


def wait_for_one_leader(servers: list[LiveServer], timeout: float = 10) -> LiveServer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = leaders(servers)
        assert len(found) <= 1, "two leaders at once"
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("no leader emerged")


def test_exactly_one_instance_runs_the_jobs_and_another_takes_over_when_it_is_killed(
    three_instances: list[LiveServer],
) -> None:
    leader = wait_for_one_leader(three_instances)
    time.sleep(1)
    others = [s for s in three_instances if s is not leader]
    assert job_runs(leader) > 0
    assert [job_runs(s) for s in others] == [0, 0]
    assert leaders(three_instances) == [leader]

    leader.kill()
    successor = wait_for_one_leader(others)
    time.sleep(1)
    assert job_runs(successor) > 0
    assert leaders(others) == [successor]
