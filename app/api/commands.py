"""Command endpoints: each appends events to the log and projects them before answering."""

from collections.abc import Callable
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from litestar import Controller, Request, Response, delete, patch, post, put
from litestar.params import FromPath, JSONBody
from msgspec import UNSET

from app.api import idempotency, params
from app.api.auth import owner_of
from app.api.deps import request_metadata, require_json_body
from app.api.idempotency import IdempotencyKey, Reply
from app.api.openapi import (
    COMMAND_RESPONSES,
    CREATE_RESPONSES,
    DELETE_RESPONSES,
    ETAG,
    LOCATION,
)
from app.api.params import IfMatch, UserId
from app.api.problems import ProblemError
from app.api.responses import task_reply
from app.api.schemas import TaskCreateBody, TaskOut, TaskUpdateBody
from app.runtime.replicas import commit_position
from app.service import execute
from app.storage.idempotency_keys import KeyAlreadyUsed
from events import rules
from events.commands import Command, CreateTask, DeleteTask, ToggleTask, UpdateTask
from events.state import Task


async def _run(
    request: Request[Any, Any, Any],
    task_id: UUID,
    command: Command,
    respond: Callable[[Task], Reply],
    key: str | None,
) -> Response[Any]:
    """Run the command once per idempotency key: a key seen before replays its first answer."""
    pool: asyncpg.Pool = request.app.state.pool
    owner = owner_of(request)
    pending = await idempotency.pending(request, key)
    for _ in range(2):
        if pending and (replayed := await idempotency.replay(pool, owner, pending)):
            return replayed
        records = pending.records(respond) if pending else None
        metadata = request_metadata(request, owner)
        try:
            outcome = await execute(pool, owner, task_id, command, metadata, records)
        except KeyAlreadyUsed:
            continue  # a request with the same key committed first: replay its answer
        request.app.state.metrics.count_events(outcome.events)
        if request.app.state.replicas is not None:
            request.scope["state"]["consistency_token"] = await commit_position(pool)
        return respond(outcome.task).response()
    raise ProblemError(409, "A request with this Idempotency-Key is still in progress; retry.")


def _no_content(_: Task) -> Reply:
    return Reply(204, {})


class TaskCommands(Controller):
    path = "/api/{user_id:str}/tasks"
    tags = ["commands"]

    @post(
        "/",
        status_code=201,
        guards=[require_json_body],
        responses=CREATE_RESPONSES,
        response_headers=[ETAG, LOCATION],
    )
    async def create_task(
        self,
        user_id: FromPath[UserId],
        data: JSONBody[TaskCreateBody],
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TaskOut]:
        owner = user_id  # settled (400, 403) by the router's guard, require_token
        command = CreateTask(
            task_id=uuid4(),
            user_id=owner,
            title=rules.title(data.title),
            description=rules.description(data.description),
        )
        respond = partial(task_reply, status=201, location=f"/api/{owner}/tasks/{command.task_id}")
        return await _run(request, command.task_id, command, respond, idempotency_key)

    @put(
        "/{task_id:uuid}",
        guards=[require_json_body],
        responses=COMMAND_RESPONSES,
        response_headers=[ETAG],
    )
    async def update_task(
        self,
        user_id: FromPath[UserId],
        task_id: FromPath[UUID],
        data: JSONBody[TaskUpdateBody],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TaskOut]:
        command = UpdateTask(
            title=UNSET if data.title is UNSET else rules.title(data.title),
            description=(
                UNSET if data.description is UNSET else rules.description(data.description)
            ),
            completed=data.completed,
            expected_version=params.if_match(if_match),
        )
        return await _run(request, task_id, command, task_reply, idempotency_key)

    @patch("/{task_id:uuid}/complete", responses=COMMAND_RESPONSES, response_headers=[ETAG])
    async def toggle_task(
        self,
        user_id: FromPath[UserId],
        task_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TaskOut]:
        command = ToggleTask(expected_version=params.if_match(if_match))
        return await _run(request, task_id, command, task_reply, idempotency_key)

    @delete("/{task_id:uuid}", status_code=204, responses=DELETE_RESPONSES)
    async def delete_task(
        self,
        user_id: FromPath[UserId],
        task_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[None]:
        command = DeleteTask(expected_version=params.if_match(if_match))
        return await _run(request, task_id, command, _no_content, idempotency_key)
