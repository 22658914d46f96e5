"""The error answers each route documents in the OpenAPI document (all problem+json)."""

from litestar import Litestar
from litestar.datastructures import ResponseHeader
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Schema

from app.api.problems import PROBLEM_JSON, Problem

_WHEN = {
    400: "Bad input: the `errors` list names each field and what is wrong with it.",
    401: "No valid bearer token (missing, expired, malformed or wrongly signed).",
    403: "The token is for another user, or lacks the role this needs.",
    404: "No such task for this user (never existed, deleted, or someone else's).",
    409: "A request with the same Idempotency-Key is still being processed.",
    412: "If-Match names a version the task is no longer at; ETag gives the current one.",
    413: "The body is larger than 64 KiB.",
    415: "The body is not JSON.",
    422: "The Idempotency-Key was used before with a different request.",
    503: "The database is unreachable or too slow; retry after Retry-After seconds.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_WHEN[status],
            generate_examples=False,
        )
        for status in statuses
    }


# 404 also answers a path that matches no route (a malformed id, say).
CREATE_RESPONSES = problems(400, 401, 403, 404, 409, 413, 415, 422, 503)
COMMAND_RESPONSES = problems(400, 401, 403, 404, 409, 412, 413, 415, 422, 503)
DELETE_RESPONSES = {
    **COMMAND_RESPONSES,
    204: ResponseSpec(None, description="Deleted; no body."),
}
LIST_RESPONSES = problems(400, 401, 403, 404, 503)
TASK_RESPONSES = {
    **problems(400, 401, 403, 404, 503),
    304: ResponseSpec(None, description="If-None-Match names the current version."),
}
HISTORY_RESPONSES = problems(400, 401, 403, 404, 503)
FEED_RESPONSES = problems(400, 401, 403, 404, 503)
# Request bodies reject unknown fields (forbid_unknown_fields); say so in the schema.
CLOSED_SCHEMAS = ("TaskCreateBody", "TaskUpdateBody")


def close_request_bodies(app: Litestar) -> None:
    """Mark request bodies additionalProperties: false, before the document is first served."""
    schemas = app.openapi_schema.components.schemas or {}
    for name in CLOSED_SCHEMAS:
        schema = schemas[name]
        assert isinstance(schema, Schema)
        schema.additional_properties = False


ETAG = ResponseHeader(
    name="ETag", documentation_only=True, description='The task\'s version, e.g. "3"'
)
LOCATION = ResponseHeader(name="Location", documentation_only=True, description="The new task")
LINK = ResponseHeader(
    name="Link", documentation_only=True, description='The next page: <url>; rel="next"'
)
