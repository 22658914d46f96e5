"""Operations endpoints: liveness, readiness, metrics."""

from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.problems import problem_response
from app.runtime.db import DATABASE_UNAVAILABLE
from app.runtime.migrate import pending_migrations


@get("/health", tags=["operations"], sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/ready", tags=["operations"])
async def ready(state: State) -> Response[Any]:
    """The database answers and its schema is current."""
    try:
        async with state.pool.acquire(timeout=2) as conn:
            pending = await pending_migrations(conn)
    except DATABASE_UNAVAILABLE:
        return problem_response(503, "The database is unreachable.", headers={"Retry-After": "2"})
    if pending:
        return problem_response(503, f"Migrations not applied: {', '.join(pending)}.")
    leader = state.leader is not None and state.leader.is_leader
    return Response({"status": "ready", "leader": leader, **state.readiness_notes})


@get("/metrics", tags=["operations"], media_type=CONTENT_TYPE_LATEST, include_in_schema=False)
async def metrics(request: Request[Any, Any, State]) -> bytes:
    """Prometheus text exposition."""
    return generate_latest(request.app.state.metrics.registry)
