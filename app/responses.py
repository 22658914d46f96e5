"""Responses that carry one task: the body, its ETag, and where it lives."""

from litestar import Response

from app.schemas import TaskOut, task_out
from events.state import Task


def task_response(
    task: Task, status: int = 200, *, location: str | None = None
) -> Response[TaskOut]:
    headers = {"ETag": f'"{task.version}"'}
    if location:
        headers["Location"] = location
    return Response(task_out(task), status_code=status, headers=headers)
