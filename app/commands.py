"""Command endpoints: each appends events to the log and projects them before answering."""

from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from litestar import Controller, Request, Response, delete, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody
from msgspec import UNSET

from app import validate
from app.deps import request_metadata, require_json_body
from app.replicas import commit_position
from app.responses import task_response
from app.schemas import TaskCreateBody, TaskOut, TaskUpdateBody
from app.service import execute
from events.commands import Command, CreateTask, DeleteTask, ToggleTask, UpdateTask
from events.state import Task


async def _run(
    request: Request[Any, Any, Any],
    pool: NamedDependency[asyncpg.Pool],
    owner: NamedDependency[str],
    task_id: FromPath[UUID],
    command: Command,
) -> Task:
    outcome = await execute(pool, owner, task_id, command, request_metadata(request, owner))
    request.app.state.metrics.count_events(outcome.events)
    if request.app.state.replicas is not None:
        request.scope["state"]["consistency_token"] = await commit_position(pool)
    return outcome.task


IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", max_length=100, description='An ETag such as "3"')
]


class TaskCommands(Controller):
    path = "/api/{user_id:str}/tasks"
    tags = ["commands"]

    @post("/", status_code=201, guards=[require_json_body])
    async def create_task(
        self,
        owner: NamedDependency[str],
        data: JSONBody[TaskCreateBody],
        request: Request[Any, Any, Any],
        pool: NamedDependency[asyncpg.Pool],
    ) -> Response[TaskOut]:
        command = CreateTask(
            task_id=uuid4(),
            user_id=owner,
            title=validate.title(data.title),
            description=validate.description(data.description),
        )
        task = await _run(request, pool, owner, command.task_id, command)
        return task_response(task, 201, location=f"/api/{owner}/tasks/{command.task_id}")

    @put("/{task_id:uuid}", guards=[require_json_body])
    async def update_task(
        self,
        owner: NamedDependency[str],
        task_id: FromPath[UUID],
        data: JSONBody[TaskUpdateBody],
        request: Request[Any, Any, Any],
        pool: NamedDependency[asyncpg.Pool],
        if_match: IfMatch = None,
    ) -> Response[TaskOut]:
        command = UpdateTask(
            title=UNSET if data.title is UNSET else validate.title(data.title),
            description=(
                UNSET if data.description is UNSET else validate.description(data.description)
            ),
            completed=data.completed,
            expected_version=validate.if_match(if_match),
        )
        return task_response(await _run(request, pool, owner, task_id, command))

    @patch("/{task_id:uuid}/complete")
    async def toggle_task(
        self,
        owner: NamedDependency[str],
        task_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        pool: NamedDependency[asyncpg.Pool],
        if_match: IfMatch = None,
    ) -> Response[TaskOut]:
        command = ToggleTask(expected_version=validate.if_match(if_match))
        return task_response(await _run(request, pool, owner, task_id, command))

    @delete("/{task_id:uuid}", status_code=204)
    async def delete_task(
        self,
        owner: NamedDependency[str],
        task_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        pool: NamedDependency[asyncpg.Pool],
        if_match: IfMatch = None,
    ) -> None:
        command = DeleteTask(expected_version=validate.if_match(if_match))
        await _run(request, pool, owner, task_id, command)
