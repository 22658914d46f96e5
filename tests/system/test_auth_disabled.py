"""Switching authentication off: a live server that needs no token and says so."""

import httpx
import pytest

from tests.support.random_refs import random_user
from tests.support.servers import LiveServer


@pytest.mark.slow
def test_with_auth_disabled_no_token_is_needed_and_the_service_says_so(migrated_url: str) -> None:
    server = LiveServer(migrated_url, TASKS_AUTH_DISABLED="true")
    user = random_user()
    try:
        server.wait_ready()
        created = httpx.post(f"{server.url}/api/{user}/tasks", json={"title": "x"})
        assert created.status_code == 201
        assert httpx.get(f"{server.url}/ready").json()["authentication"] == "disabled"
    finally:
        server.stop()
    assert "AUTHENTICATION IS DISABLED" in server.log_text()
