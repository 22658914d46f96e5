"""The application factory."""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from app import logs
from app.api.audit import Audit
from app.api.auth import require_token
from app.api.commands import TaskCommands
from app.api.deps import DEPENDENCIES, TaskRequest
from app.api.docs_ui import DOCS_NOTE, assets, render_plugins
from app.api.observe import AccessLog, Metrics, Observer, quiet_library_tracebacks
from app.api.openapi import close_request_bodies
from app.api.ops import health, metrics, ready
from app.api.options import SharedPathOptions
from app.api.problems import exception_handlers
from app.api.queries import TaskQueries
from app.runtime.db import create_pool
from app.runtime.embedded import EmbeddedPostgres
from app.runtime.hub import EventHub, end_streams_on_stop
from app.runtime.jobs import deployment_jobs
from app.runtime.leader import Leader
from app.runtime.migrate import migrate
from app.runtime.replicas import open_replicas
from app.runtime.stalls import GC_PAUSES, LoopLag, freeze_startup_heap
from app.settings import Settings
from app.tokens import authenticator

log = logging.getLogger("tasks")

BEARER = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="JWT",
    description="HS256 JWT: `sub` is the user id, `exp` required, `roles` may hold auditor."
    " `tasks token USER` prints one.",
)


@asynccontextmanager
async def _database(app: Litestar) -> AsyncIterator[None]:
    """Everything the app holds open, closed in reverse order however far start-up got."""
    settings: Settings = app.state.settings
    async with AsyncExitStack() as stack:
        dsn = settings.database_url
        if dsn is None:
            embedded = EmbeddedPostgres(settings.data_dir)
            dsn = embedded.start()
            stack.callback(embedded.stop)
        app.state.pool = await create_pool(dsn, settings)
        stack.push_async_callback(app.state.pool.close)
        if settings.migrate_on_start:
            async with app.state.pool.acquire() as conn:
                if applied := await migrate(conn):  # each one's name at DEBUG
                    log.info("applied %d migration(s) and SQL definition(s)", len(applied))
        app.state.replicas = await open_replicas(app.state.pool, settings)
        if app.state.replicas:
            stack.push_async_callback(app.state.replicas.close)
        app.state.leader = Leader(
            dsn,
            app.state.pool,
            deployment_jobs(settings),
            settings.leader_retry_seconds,
            sequencer_idle_seconds=settings.sequencer_idle_ms / 1000,
        )
        app.state.leader.start()
        stack.push_async_callback(app.state.leader.stop)
        app.state.hub = EventHub(dsn, app.state.pool, poll_seconds=settings.stream_poll_seconds)
        stack.push_async_callback(app.state.hub.close)
        stack.callback(end_streams_on_stop(app.state.hub))
        app.state.access_log.start()
        stack.callback(app.state.access_log.stop)
        app.state.loop_lag.start()
        stack.push_async_callback(app.state.loop_lag.stop)
        if settings.gc_freeze:
            frozen = freeze_startup_heap()
            log.debug("gc.freeze(): %d start-up objects left out of collections", frozen)
        yield


class TaskApp(Litestar):
    """Litestar, with every HTTP request (routed or not) observed: id, log line, metrics."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
        else:
            await self.state.observer(scope, receive, send, super().__call__)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings()
    quiet_library_tracebacks()
    app = TaskApp(
        route_handlers=[
            # One router: Litestar cannot merge two controllers on one path otherwise.
            # SharedPathOptions first: it answers OPTIONS on the paths the two share.
            Router(
                "/",
                route_handlers=[SharedPathOptions, TaskCommands, TaskQueries, Audit],
                guards=[require_token],
                security=[{"bearer": []}],
            ),
            health,
            ready,
            metrics,
            assets(),
        ],
        dependencies=DEPENDENCIES,
        request_class=TaskRequest,
        exception_handlers=exception_handlers(),
        lifespan=[_database],
        # Litestar configures the root logger itself (at INFO unless told): TASKS_LOG_LEVEL
        # has to be handed to it, or the access log is written whatever the setting says.
        logging_config=LoggingConfig(
            root={"handlers": ["queue_listener"], "level": settings.log_level},
            formatters={"standard": {"format": logs.FORMAT}},
        ),
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins)
        if settings.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="Tasks",
            version="1.0.0",
            description=f"An event-sourced task service. The contract: API.md. {DOCS_NOTE}",
            path="/schema",
            render_plugins=render_plugins(),
            components=Components(security_schemes={"bearer": BEARER}),
        ),
        debug=False,
    )
    close_request_bodies(app)
    app.state.settings = settings
    app.state.readiness_notes = {}
    app.state.replicas = None
    app.state.leader = None
    app.state.auth = authenticator(settings)
    if app.state.auth is None:
        log.warning(
            "AUTHENTICATION IS DISABLED (TASKS_AUTH_DISABLED=true): anyone who can reach this"
            " service can read and change every user's tasks"
        )
        app.state.readiness_notes["authentication"] = "disabled"
    app.state.loop_lag = LoopLag()
    GC_PAUSES.install()
    app.state.metrics = Metrics(app.state)
    app.state.access_log = AccessLog()
    app.state.observer = Observer(app.state.metrics, app.state.access_log)
    return app
