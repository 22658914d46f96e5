"""Query endpoints, served from the read table."""

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, cast
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, HeaderParameter, QueryParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from app.api import params
from app.api.audit import parse_as_of, task_as_it_stood
from app.api.deps import ConsistencyToken, LogReader, provide_reader
from app.api.openapi import ETAG, LINK, LIST_RESPONSES, TASK_RESPONSES
from app.api.params import UserId
from app.api.problems import bad_input
from app.api.responses import task_response
from app.api.schemas import TaskOut
from app.runtime.db import read
from app.storage.tasks import get_task, list_json
from events.decide import TaskNotFound
from events.state import Task


class _Cursor(msgspec.Struct, array_like=True):
    created_at: datetime
    id: UUID


def encode_cursor(created_at: datetime, task_id: UUID) -> str:
    raw = msgspec.json.encode(_Cursor(created_at, task_id))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parsed = msgspec.json.decode(raw, type=_Cursor)
        if parsed.created_at.tzinfo is None:
            raise ValueError("no offset")
        # In range for the database once in UTC (a crafted year 1 or 9999 is not).
        created_at = parsed.created_at.astimezone(UTC)
    except (binascii.Error, ValueError, OverflowError, msgspec.DecodeError):
        raise bad_input("cursor", "not a cursor this service handed out") from None
    return created_at, parsed.id


# A hand-made cursor without a limit pages at this size (the Link header always has one).
CURSOR_PAGE = 100


class TaskQueries(Controller):
    path = "/api/{user_id:str}/tasks"
    tags = ["queries"]

    @get("/", responses=LIST_RESPONSES, response_headers=[LINK])
    async def list_tasks(
        self,
        user_id: FromPath[UserId],
        state: State,
        token: ConsistencyToken = None,
        completed: FromQuery[bool | None] = None,
        limit: Annotated[
            int | None,
            QueryParameter(
                ge=1,
                le=1000,
                description="page size; without it (and without cursor) every task is listed",
            ),
        ] = None,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> Response[list[TaskOut]]:
        """The user's tasks, newest first: every one of them, or a page when `limit` (or a
        `cursor`) asks for one, as the CRUD service's clients, which never page, expect."""
        owner = user_id  # settled (400, 403) by the router's guard, require_token
        after = decode_cursor(cursor) if cursor else None
        if limit is None and after is not None:
            limit = CURSOR_PAGE
        fetch = None if limit is None else limit + 1
        reader = await provide_reader(state, token)  # not a dependency: see get_task
        rows = await read(
            reader, lambda c: list_json(c, owner, completed=completed, after=after, limit=fetch)
        )
        headers = {}
        if limit is not None and len(rows) > limit:
            rows = rows[:limit]
            query = {
                "limit": limit,
                "cursor": encode_cursor(rows[-1]["created_at"], rows[-1]["id"]),
            }
            if completed is not None:
                query["completed"] = str(completed).lower()
            headers["Link"] = f'</api/{owner}/tasks?{urlencode(query)}>; rel="next"'
        # PostgreSQL wrote each task's JSON (list_json).
        # Litestar sends bytes as they are; the annotation keeps list[TaskOut] in the OpenAPI
        # document, and the HTTP tests compare the answers with TaskOut's fields.
        body = cast("list[TaskOut]", ("[" + ",".join([r["body"] for r in rows]) + "]").encode())
        return Response(body, headers=headers, media_type=MediaType.JSON)

    @get("/{task_id:uuid}", responses=TASK_RESPONSES, response_headers=[ETAG])
    async def get_task(
        self,
        user_id: FromPath[UserId],
        task_id: FromPath[UUID],
        state: State,
        token: ConsistencyToken = None,
        if_none_match: Annotated[
            str | None, HeaderParameter(name="If-None-Match", max_length=1000)
        ] = None,
        version: Annotated[
            int | None, QueryParameter(ge=1, le=2**31 - 1, description="the task at this version")
        ] = None,
        as_of: Annotated[
            str | None,
            QueryParameter(max_length=64, description="the task at this RFC 3339 time"),
        ] = None,
    ) -> Response[TaskOut]:
        """The task now (from the read table), or as it stood at a version or time (folded)."""
        # No dependencies: Litestar resolves several in a task group, a task each, which cost
        # more than the rest of the handler. Only what this request needs is looked up.
        owner = user_id  # settled (400, 403) by the router's guard, require_token
        task: Task | None
        if version is not None or as_of is not None:
            at = parse_as_of(as_of) if as_of is not None else None
            log = LogReader(state, token)
            task = await task_as_it_stood(
                await log.current(), owner, task_id, version=version, as_of=at
            )
        else:
            reader = await provide_reader(state, token)
            task = await read(reader, lambda conn: get_task(conn, owner, task_id))
        if task is None:
            raise TaskNotFound()
        if params.etag_matches(if_none_match, task.version):
            # No body; the annotation is the 200's, which the OpenAPI document shows.
            not_modified: Response[Any] = Response(
                None, status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": f'"{task.version}"'}
            )
            return cast("Response[TaskOut]", not_modified)
        return task_response(task)
