"""The OpenAPI document says what the server does: the task a GET answers, the largest
position, headers that are strings; and OPTIONS names every method a path has."""

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.random_refs import random_user

MAX_POSITION = 2**63 - 1


@pytest.fixture
async def document(client: AsyncTestClient) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


def parameters(document: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", p)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict)
        for p in operation.get("parameters", [])
        if p["name"] == name
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]  # type: ignore[no-any-return]
    return schema


def test_getting_a_task_answers_the_task_schema(document: dict[str, Any]) -> None:
    ok = document["paths"]["/api/{user_id}/tasks/{task_id}"]["get"]["responses"]["200"]
    schema = resolve(document, ok["content"]["application/json"]["schema"])
    assert schema.get("type") == "object"
    assert set(schema["properties"]) == {
        "id",
        "user_id",
        "title",
        "description",
        "completed",
        "created_at",
        "updated_at",
        "version",
    }
    # The same schema as each item of the list.
    listed = document["paths"]["/api/{user_id}/tasks"]["get"]["responses"]["200"]
    assert resolve(document, listed["content"]["application/json"]["schema"]["items"]) == schema


def test_after_is_an_integer_up_to_the_largest_position(document: dict[str, Any]) -> None:
    found = parameters(document, "after")
    assert {where for where, _ in found} == {
        "GET /api/{user_id}/events",
        "GET /api/events",
        "GET /api/events/stream",
    }
    for where, parameter in found:
        schema = parameter["schema"]
        assert (schema.get("type"), schema.get("minimum"), schema.get("maximum")) == (
            "integer",
            0,
            MAX_POSITION,
        ), where
        assert type(schema["maximum"]) is int, where  # not 9.223372036854776e+18
        assert "oneOf" not in schema, where


def test_if_match_is_a_string_header_never_null(document: dict[str, Any]) -> None:
    found = parameters(document, "If-Match")
    assert len(found) == 3  # PUT, PATCH .../complete, DELETE
    for where, parameter in found:
        assert parameter["in"] == "header"
        assert parameter["schema"]["type"] == "string", where
        assert "oneOf" not in parameter["schema"], where
        assert parameter["schema"]["pattern"], where


async def test_options_names_every_method_of_each_task_path(client: AsyncTestClient) -> None:
    user = random_user()
    task = (await client.post(f"/api/{user}/tasks", json={"title": "x"})).json()
    expected = {
        f"/api/{user}/tasks": "GET, OPTIONS, POST",
        f"/api/{user}/tasks/{task['id']}": "DELETE, GET, OPTIONS, PUT",
        f"/api/{user}/tasks/{task['id']}/complete": "OPTIONS, PATCH",
        f"/api/{user}/tasks/{task['id']}/history": "GET, OPTIONS",
    }
    for path, allow in expected.items():
        response = await client.options(path)
        assert (response.status_code, response.headers["allow"]) == (204, allow), path
