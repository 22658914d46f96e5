"""Requests generated from the service's own OpenAPI document (schemathesis): valid and
invalid ones, authenticated, against the real server. None may get a 5xx, and every answer
must be one the document describes."""

from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.random_refs import random_user
from tests.support.servers import LiveServer
from tests.support.tokens import AUDITOR_USER, bearer

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Per operation and mode, in a fixed order: with the runs aimed at a real task, about 400.
EXAMPLES = 25
# Server-Sent Events never end when allowed: not something to fire generated requests at.
ENDLESS = {"/api/events/stream"}
SEEN: Counter[tuple[str, int]] = Counter()  # (method, status) of every answer
# Every operation of the document, each of which gets its generated requests.
OPERATIONS = sorted(
    [
        "GET /api/events",
        "GET /api/events/stream",
        "GET /api/{user_id}/events",
        "GET /api/{user_id}/tasks",
        "POST /api/{user_id}/tasks",
        "GET /api/{user_id}/tasks/{task_id}",
        "PUT /api/{user_id}/tasks/{task_id}",
        "DELETE /api/{user_id}/tasks/{task_id}",
        "PATCH /api/{user_id}/tasks/{task_id}/complete",
        "GET /api/{user_id}/tasks/{task_id}/history",
        "GET /health",
        "GET /ready",
    ]
)


def check_operation(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    url: str,
    path_parameters: dict[str, str] | None = None,
) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case: schemathesis.Case) -> None:
        user = (case.path_parameters or {}).get("user_id")
        # A user's own token for their paths; an auditor's for every user's events.
        headers = bearer(str(user)) if user is not None else bearer(AUDITOR_USER, ["auditor"])
        response = case.call(base_url=url, headers=headers, timeout=10)
        SEEN[(case.method, response.status_code)] += 1
        case.validate_response(response, checks=CHECKS)

    run()


def test_generated_requests_get_no_5xx_and_only_documented_answers(
    live_server: LiveServer,
) -> None:
    document = httpx.get(f"{live_server.url}/schema/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert sorted(op.label for op in operations) == OPERATIONS
    for operation in operations:
        if operation.path in ENDLESS:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                check_operation(operation, mode, live_server.url)
            except Unsatisfiable:
                # Nothing to make invalid (no parameters, no body): only for the negative mode.
                assert mode is GenerationMode.NEGATIVE, operation.label
        if "{task_id}" in operation.path:
            # Random task ids only find 404s: also aim valid requests at a task that exists.
            user = random_user()
            created = httpx.post(
                f"{live_server.url}/api/{user}/tasks", json={"title": "t"}, headers=bearer(user)
            )
            real = {"user_id": user, "task_id": created.json()["id"]}
            check_operation(operation, GenerationMode.POSITIVE, live_server.url, real)
    # The generated requests reached the real work, not only the validation in front of it.
    assert sum(SEEN.values()) >= 300
    for answered in (("POST", 201), ("PUT", 200), ("PATCH", 200), ("GET", 200), ("DELETE", 204)):
        assert SEEN[answered], answered
