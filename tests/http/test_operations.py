"""Operations: health, readiness, metrics, the OpenAPI document, request ids, CORS."""

import re
from pathlib import Path

import asyncpg
from litestar.testing import AsyncTestClient

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
