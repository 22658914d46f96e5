"""OPTIONS on the task paths that two controllers share: `Allow` names every method.

Litestar gives each route an OPTIONS handler naming the route's methods when the first
controller registers the path; when a second controller adds its handlers to the same path
(commands and queries both serve /api/{user_id}/tasks and .../{task_id}), that handler stays
and names only the first one's methods. These handlers are registered first, so Litestar
makes none of its own, and they read the methods from the route as finally built."""

from typing import Any

from litestar import Controller, Request, Response, route
from litestar.enums import HttpMethod
from litestar.routes import HTTPRoute
from litestar.status_codes import HTTP_204_NO_CONTENT


def allow(request: Request[Any, Any, Any]) -> Response[None]:
    """204 with the methods of the route this request matched."""
    handler = request.route_handler
    methods = next(
        r.methods
        for r in request.app.routes
        if isinstance(r, HTTPRoute) and handler in r.route_handlers
    )
    return Response(
        None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": ", ".join(sorted(methods))}
    )


class SharedPathOptions(Controller):
    path = "/api/{user_id:str}/tasks"
    include_in_schema = False

    @route("/", http_method=HttpMethod.OPTIONS, status_code=HTTP_204_NO_CONTENT)
    async def tasks(self, request: Request[Any, Any, Any]) -> Response[None]:
        return allow(request)

    @route("/{task_id:uuid}", http_method=HttpMethod.OPTIONS, status_code=HTTP_204_NO_CONTENT)
    async def task(self, request: Request[Any, Any, Any]) -> Response[None]:
        return allow(request)
