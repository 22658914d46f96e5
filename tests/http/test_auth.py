"""Bearer tokens: who may call what, how a refusal looks, rotation, and switching auth off."""

import time

import jwt
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from pydantic import SecretStr

from app.api.auth import require_auditor
from app.api.problems import exception_handlers
from app.main import create_app
from app.settings import Settings
from app.tokens import AUDITOR, Authenticator, TokenRejected, authenticator
from tests.support.random_refs import random_user
from tests.support.tokens import OTHER_SECRET, SECRET, bad_tokens, bearer, token


def assert_401(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


@pytest.mark.parametrize("case", list(bad_tokens("x")))
async def test_a_request_without_a_valid_token_gets_401_and_changes_nothing(
    client: AsyncTestClient, case: str
) -> None:
    user = random_user()
    headers = bad_tokens(user)[case]
    post = client.post(f"/api/{user}/tasks", json={"title": "x"}, headers=headers, auth=None)
    assert_401(await post)
    assert_401(await client.get(f"/api/{user}/tasks", headers=headers, auth=None))
    assert (await client.get(f"/api/{user}/tasks")).json() == []


async def test_a_missing_token_is_refused_before_the_body_is_looked_at(
    client: AsyncTestClient,
) -> None:
    user = random_user()
    for content, content_type in ((b"{not json", "application/json"), (b"x", "text/plain")):
        response = await client.post(
            f"/api/{user}/tasks", content=content, headers={"content-type": content_type}, auth=None
        )
        assert_401(response)


async def test_a_token_sent_but_refused_says_invalid_token(client: AsyncTestClient) -> None:
    user = random_user()
    missing = await client.get(f"/api/{user}/tasks", auth=None)
    assert missing.headers["www-authenticate"] == "Bearer"
    refused = await client.get(f"/api/{user}/tasks", headers={"Authorization": "Bearer x.y.z"})
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "x.y.z" not in refused.text


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("no exp", "no `exp` claim"),
        ("wrongly signed", "signed with another one"),
        ("expired", "has expired"),
    ],
)
async def test_a_refused_token_says_why(client: AsyncTestClient, case: str, says: str) -> None:
    user = random_user()
    response = await client.get(f"/api/{user}/tasks", headers=bad_tokens(user)[case], auth=None)
    assert_401(response)
    assert says in response.json()["detail"]


async def test_a_token_for_another_user_gets_403(client: AsyncTestClient) -> None:
    owner, intruder = random_user(), random_user()
    task = (await client.post(f"/api/{owner}/tasks", json={"title": "mine"})).json()
    response = await client.get(f"/api/{owner}/tasks/{task['id']}", headers=bearer(intruder))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    auditor = bearer(intruder, roles=[AUDITOR])
    assert (await client.get(f"/api/{owner}/tasks", headers=auditor)).status_code == 403


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"", None), (b"", "application/json"), (b"title=x", "text/plain"), (b"{", None)],
)
async def test_another_users_path_is_403_whatever_the_body(
    client: AsyncTestClient, content: bytes, content_type: str | None
) -> None:
    """The owner check comes before the body is looked at: 403, not the body's 400 or 415."""
    owner, intruder = random_user(), random_user()
    task = (await client.post(f"/api/{owner}/tasks", json={"title": "mine"})).json()
    headers = bearer(intruder)
    if content_type:
        headers["Content-Type"] = content_type
    for method, path in (
        ("PUT", f"/api/{owner}/tasks/{task['id']}"),
        ("POST", f"/api/{owner}/tasks"),
    ):
        response = await client.request(method, path, content=content, headers=headers)
        assert response.status_code == 403, (method, response.text)


async def test_operations_and_the_schema_need_no_token(client: AsyncTestClient) -> None:
    for path in ("/health", "/ready", "/metrics", "/schema/openapi.json"):
        assert (await client.get(path, auth=None)).status_code == 200, path


async def test_the_openapi_document_declares_the_bearer_scheme_on_the_api_only(
    client: AsyncTestClient,
) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for operation in document["paths"]["/api/{user_id}/tasks"].values():
        assert operation["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/health"]["get"]


async def test_while_rotating_tokens_of_the_previous_secret_still_work(settings: Settings) -> None:
    rotated = settings.model_copy(
        update={"auth_secret": SecretStr(OTHER_SECRET), "auth_previous_secret": SecretStr(SECRET)}
    )
    user = random_user()
    async with AsyncTestClient(create_app(rotated)) as client:
        for secret in (SECRET, OTHER_SECRET):
            headers = {"Authorization": f"Bearer {token(user, secret=secret)}"}
            assert (await client.get(f"/api/{user}/tasks", headers=headers)).status_code == 200
        third = {"Authorization": f"Bearer {token(user, secret='t' * 40)}"}
        assert_401(await client.get(f"/api/{user}/tasks", headers=third))


def auditor_app(settings: Settings) -> Litestar:
    """The smallest app with a route behind require_auditor, as the global feed has."""

    @get("/api/events", guards=[require_auditor], sync_to_thread=False)
    def feed() -> dict[str, str]:
        return {"ok": "yes"}

    app = Litestar([feed], exception_handlers=exception_handlers())
    app.state.auth = authenticator(settings)
    return app


async def test_require_auditor_lets_only_auditors_through(settings: Settings) -> None:
    async with AsyncTestClient(auditor_app(settings)) as client:
        user = random_user()
        allowed = await client.get("/api/events", headers=bearer(user, roles=["x", AUDITOR]))
        assert allowed.status_code == 200
        refused = await client.get("/api/events", headers=bearer(user))
        assert (refused.status_code, refused.headers["content-type"]) == (
            403,
            "application/problem+json",
        )
        for case, headers in bad_tokens(user).items():
            refused = await client.get("/api/events", headers=headers, auth=None)
            assert refused.status_code == 401, case


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    checker = Authenticator([SECRET], leeway=0)
    exp = int(time.time()) + 2
    signed = jwt.encode({"sub": "alice", "exp": exp}, SECRET, "HS256")
    assert checker.claims(signed).sub == "alice"
    assert checker.claims(signed).sub == "alice"  # from the cache
    time.sleep(max(0.0, exp + 0.2 - time.time()))
    with pytest.raises(TokenRejected) as refused:
        checker.claims(signed)
    assert str(refused.value) == "The token has expired."
