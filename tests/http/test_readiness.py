"""Readiness follows the schema: /ready is 503 until `tasks migrate` has run."""

from litestar.testing import AsyncTestClient

from app.main import create_app
from app.runtime.migrate import migrate_url
from app.settings import Settings


async def test_ready_is_503_until_the_schema_is_current(
    fresh_database: str, settings: Settings
) -> None:
    app = create_app(
        settings.model_copy(update={"database_url": fresh_database, "migrate_on_start": False})
    )
    async with AsyncTestClient(app) as client:
        response = await client.get("/ready")
        assert response.status_code == 503
        assert "0001_events.sql" in response.json()["detail"]
    await migrate_url(fresh_database)
    async with AsyncTestClient(app) as client:
        assert (await client.get("/ready")).status_code == 200
