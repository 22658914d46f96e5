"""The interactive API docs (`/schema`, `/schema/swagger`), from the service's own copy of Swagger
UI (app/api/static/, the npm package swagger-ui-dist, pinned): no CDN, so they work without
internet and cannot change under us. Scalar, which Litestar loads from a CDN at @latest, and
Redoc are not offered."""

from pathlib import Path

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

SWAGGER_UI_VERSION = "5.35.0"
STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/schema/assets"
_SWAGGER = f"{ASSETS_PATH}/swagger-ui-{SWAGGER_UI_VERSION}"
# Shown at the top of the docs page (the OpenAPI document's description).
DOCS_NOTE = f"Interactive docs: Swagger UI {SWAGGER_UI_VERSION}, served by this service."


def render_plugins() -> list[SwaggerRenderPlugin]:
    """Swagger UI at /schema and /schema/swagger, every asset from this service."""
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            version=SWAGGER_UI_VERSION,
            js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
            css_url=f"{_SWAGGER}/swagger-ui.css",
            standalone_preset_js_url=f"{_SWAGGER}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{_SWAGGER}/favicon-32x32.png'>",
        )
    ]


def assets() -> Router:
    """The static files the docs page loads (no token needed: they are public code)."""
    return create_static_files_router(
        path=ASSETS_PATH, directories=[STATIC], include_in_schema=False
    )
