"""Operations: health, readiness, metrics, the OpenAPI document, request ids, CORS."""

import asyncio
import gc
import re
import time
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from app.settings import Settings
from app.storage import event_store
from tests.support.random_refs import random_user
from tests.support.servers import signed_client

# Every endpoint the document must describe, exactly (/metrics is left out on purpose).
ENDPOINTS = {
    "/api/{user_id}/tasks": {"get", "post"},
    "/api/{user_id}/tasks/{task_id}": {"get", "put", "delete"},
    "/api/{user_id}/tasks/{task_id}/complete": {"patch"},
    "/api/{user_id}/tasks/{task_id}/history": {"get"},
    "/api/{user_id}/events": {"get"},
    "/api/events": {"get"},
    "/api/events/stream": {"get"},
    "/health": {"get"},
    "/ready": {"get"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


async def test_health_and_ready_answer_200(client: AsyncTestClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    response = await client.get("/ready")
    assert (response.status_code, response.json()["status"]) == (200, "ready")


async def test_metrics_count_requests_by_route_and_events_by_type(client: AsyncTestClient) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    await client.patch(f"/api/{user}/tasks/{task['id']}/complete")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'tasks_http_requests_total{method="POST",route="/api/{user_id}/tasks",status="201"}' in text
    )
    assert "tasks_http_request_duration_seconds_bucket" in text
    assert 'tasks_events_appended_total{type="TaskCreated"}' in text
    assert 'tasks_events_appended_total{type="TaskToggled"}' in text
    assert 'tasks_db_pool_connections{state="in_use"}' in text


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_show_loop_lag_gc_pauses_and_pool_waits(
    app: Litestar, client: AsyncTestClient
) -> None:
    before = _samples((await client.get("/metrics")).text)
    await client.get(f"/api/{random_user()}/tasks")
    # A callback that holds the app's event loop for 150 ms (the test client may run the
    # app in a loop of its own): the lag timer runs late by about that much.
    app_loop = app.state.loop_lag._task.get_loop()
    app_loop.call_soon_threadsafe(time.sleep, 0.15)
    await asyncio.sleep(0.4)
    gc.collect()
    after = _samples((await client.get("/metrics")).text)

    def grew(name: str, *labels: tuple[str, str]) -> float:
        return after[(name, labels)] - before.get((name, labels), 0.0)

    assert grew("tasks_event_loop_lag_seconds_count") >= 1
    assert after[("tasks_event_loop_lag_max_seconds", ())] >= 0.1
    assert grew("tasks_event_loop_lag_seconds_bucket", ("le", "0.25")) > grew(
        "tasks_event_loop_lag_seconds_bucket", ("le", "0.1")
    ), "the stall of 150 ms is counted between 0.1 and 0.25 s"
    assert grew("tasks_gc_pause_seconds_count", ("generation", "2")) >= 1
    assert after[("tasks_gc_pause_max_seconds", ())] > 0
    assert grew("tasks_db_pool_wait_seconds_count") >= 1
    assert ("tasks_db_pool_waiting", ()) in after


async def test_the_start_up_heap_is_frozen(client: AsyncTestClient) -> None:
    """gc.freeze() after start-up: full collections no longer walk those objects."""
    assert gc.get_freeze_count() > 10_000


async def test_the_openapi_document_describes_every_endpoint(client: AsyncTestClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    described = {
        path: {method for method in operations if method in HTTP_METHODS}
        for path, operations in document["paths"].items()
    }
    assert described == ENDPOINTS
    assert (await client.get("/schema/swagger")).status_code == 200


def test_the_contract_in_docs_api_md_lists_every_endpoint() -> None:
    """docs/api.md names each endpoint the service has, and no other."""
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    listed = {
        (method.lower(), path)
        for method, path in re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", text)
    }
    documented = {(m, path) for path, methods in ENDPOINTS.items() for m in methods}
    assert listed == documented | {("get", "/metrics")}  # served, but not in the document


async def test_a_request_id_is_echoed_or_made_and_recorded_on_the_event(
    client: AsyncTestClient, pool: asyncpg.Pool
) -> None:
    user = random_user()
    response = await client.post(
        f"/api/{user}/tasks", json={"title": "x"}, headers={"X-Request-ID": "trace-123"}
    )
    assert response.headers["x-request-id"] == "trace-123"
    made = await client.get(f"/api/{user}/tasks", headers={"X-Request-ID": "bad id\twith tab"})
    assert made.headers["x-request-id"] not in ("", "bad id\twith tab")
    async with pool.acquire() as conn:
        await event_store.sequence(conn)  # every event acknowledged so far, in the log
        metadata = await conn.fetchval("SELECT metadata FROM events WHERE user_id = $1", user)
    assert metadata == {"request_id": "trace-123", "actor": user, "schema_version": 1}


async def test_cors_allows_only_configured_origins(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_origins": ["https://app.example"]}))
    async with signed_client(app) as client:
        allowed = await client.options(
            "/api/u/tasks",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        other = await client.get("/api/u/tasks", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
