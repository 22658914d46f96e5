"""Every error as RFC 9457 problem+json, from one set of exception handlers."""

import logging
import re
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from app.api.bodies import words
from app.runtime.db import DATABASE_TOO_SLOW, DATABASE_UNAVAILABLE
from events.decide import DomainError, StaleVersion, TaskAlreadyExists, TaskNotFound
from events.rules import InvalidInput

log = logging.getLogger("tasks.errors")

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 2
BAD_INPUT = "The request is not valid."
NOT_A_TASK_ID = "No such task: a task id is a UUID, e.g. 7c1e2f6a-94b1-4d3e-8a5c-2b9d0e4f1a37."

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class ProblemError(HTTPException):
    """An error the API answers with a problem document of its own choosing."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=headers)
        self.errors = errors


def bad_input(field: str, message: str) -> ProblemError:
    return ProblemError(400, BAD_INPUT, errors=[FieldError(field, message)])


def problem_response(
    status: int,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    title = _TITLES.get(status, "Error")
    slug = title.lower().replace(" ", "-")
    body = Problem(
        type=f"/problems/{slug}", title=title, status=status, detail=detail, errors=errors
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(extra: Any) -> list[FieldError]:
    if not isinstance(extra, list):
        return []
    return [
        FieldError(_field(e), _in_words(str(e.get("message", "invalid"))))
        for e in extra
        if isinstance(e, dict)
    ]


_EXPECTED = re.compile(r"Expected `(?P<want>[^`]+)`, got `str`")


def _in_words(message: str) -> str:
    # A path, query or header value always arrives as a string: say what it should be.
    match = _EXPECTED.fullmatch(message)
    return f"must be {words(match['want'])}" if match else message


def _field(error: dict[str, Any]) -> str:
    key = str(error.get("key") or "")
    return "body" if key in ("", "data") else key


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    if isinstance(exc, ProblemError):
        return problem_response(exc.status_code, exc.detail, exc.errors, exc.headers)
    if isinstance(exc, ValidationException):
        fields = _validation_errors(exc.extra) or [FieldError("body", exc.detail)]
        return problem_response(400, BAD_INPUT, fields, exc.headers)
    cause = exc.__cause__
    if (
        isinstance(exc, NotFoundException)
        and isinstance(cause, ValueError)
        and not isinstance(cause, NotFoundException)  # a path that matches no route at all
    ):
        # The router could not parse a typed path parameter; task_id is the only one (a UUID).
        # Still 404 (API.md: no such task), but saying why.
        return problem_response(404, NOT_A_TASK_ID, [FieldError("task_id", "is not a UUID")])
    if exc.status_code == 413:
        limit = request.app.state.settings.max_body_bytes
        return problem_response(413, f"The body is over the limit of {limit} bytes.", None)
    body_error = [FieldError("body", exc.detail)] if exc.status_code == 400 else None
    return problem_response(exc.status_code, exc.detail, body_error, exc.headers)


def on_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Problem]:
    match exc:
        case TaskNotFound():
            return problem_response(404, "No such task.")
        case StaleVersion():
            return problem_response(412, str(exc), headers={"ETag": f'"{exc.actual}"'})
        case TaskAlreadyExists():
            return problem_response(409, "The task already exists.")
    return problem_response(400, str(exc))


def on_invalid_input(_: Request[Any, Any, Any], exc: InvalidInput) -> Response[Problem]:
    return problem_response(400, BAD_INPUT, [FieldError(exc.field, exc.message)])


def on_database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # The exception's type only: its message can quote SQL or connection details.
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    slow = isinstance(exc, DATABASE_TOO_SLOW)
    detail = "The database did not answer in time" if slow else "The database is unreachable"
    return problem_response(
        503, f"{detail}; retry shortly.", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # A bug. The log line names it and the request id; the message and traceback (which may
    # hold SQL, user data or settings) are logged only at DEBUG, for whoever is debugging.
    request_id = request.scope.get("state", {}).get("request_id")
    log.error(
        "unhandled %s on %s %s rid=%s",
        type(exc).__name__,
        request.method,
        request.url.path,
        request_id,
    )
    log.debug("unhandled error rid=%s", request_id, exc_info=exc)
    return problem_response(500, "An unexpected error occurred.")


def exception_handlers() -> dict[Any, Any]:
    handlers: dict[Any, Any] = {
        HTTPException: on_http_error,
        DomainError: on_domain_error,
        InvalidInput: on_invalid_input,
        Exception: on_unexpected,
    }
    handlers.update(dict.fromkeys(DATABASE_UNAVAILABLE, on_database_unavailable))
    return handlers
