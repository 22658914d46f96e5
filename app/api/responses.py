"""Responses that carry one task: the body, its ETag, and where it lives."""

import msgspec
from litestar import Response

from app.api.idempotency import Reply
from app.api.schemas import TaskOut, task_out
from events.state import Task

_encode = msgspec.json.Encoder().encode


def task_response(
    task: Task, status: int = 200, *, location: str | None = None
) -> Response[TaskOut]:
    headers = {"ETag": f'"{task.version}"'}
    if location:
        headers["Location"] = location
    return Response(task_out(task), status_code=status, headers=headers)


def task_reply(task: Task, status: int = 200, *, location: str | None = None) -> Reply:
    """A command's answer as bytes: what it sends now and what a retry gets back."""
    headers = {"ETag": f'"{task.version}"'}
    if location:
        headers["Location"] = location
    return Reply(status, headers, _encode(task_out(task)))
