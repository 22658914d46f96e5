"""The interactive API docs work without internet: every asset the pages load is served by the
service itself, with the right content type, and the pages name the Swagger UI version."""

import re
from urllib.parse import urljoin

import pytest
from litestar.testing import AsyncTestClient

from app.api.docs_ui import SWAGGER_UI_VERSION

PAGES = ("/schema", "/schema/swagger")
# Every URL a page's HTML makes the browser fetch: scripts, stylesheets, icons, images.
_FETCHED = re.compile(
    r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I
)
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", PAGES)
async def test_the_docs_page_loads_only_the_services_own_assets(
    client: AsyncTestClient, page: str
) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "//" not in "".join(_FETCHED.findall(html)), "an asset from another host"
    assert "jsdelivr" not in html and "unpkg" not in html and "@latest" not in html
    assets = [urljoin(f"http://testserver{page}", a) for a in _FETCHED.findall(html)]
    assert len(assets) >= 3  # the bundle, the preset, the stylesheet (and the icon)
    for url in assets:
        path = url.removeprefix("http://testserver")
        served = await client.get(path)
        assert served.status_code == 200, path
        kind = TYPES[path[path.rindex(".") :]]
        assert served.headers["content-type"].startswith(kind), (path, served.headers)
        assert len(served.content) > 100, path
    assert f"Swagger UI {SWAGGER_UI_VERSION}" in html


async def test_the_assets_need_no_token_and_unknown_pages_are_not_served(
    client: AsyncTestClient,
) -> None:
    bundle = f"/schema/assets/swagger-ui-{SWAGGER_UI_VERSION}/swagger-ui-bundle.js"
    response = await client.get(bundle, headers={"Authorization": ""})
    assert response.status_code == 200
    # Scalar (which loaded @latest from a CDN) and Redoc are not offered, nor linked.
    for gone in ("/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert (await client.get(gone)).status_code == 404, gone
    for page in PAGES:
        html = (await client.get(page)).text
        assert "redoc" not in html.lower() and "scalar" not in html.lower()
