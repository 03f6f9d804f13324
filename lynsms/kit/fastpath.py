"""The hottest routes served without FastAPI's per-request machinery.

FastAPI's routing and dependency solving cost about as much CPU as a whole
send on the bare event loop. ``FastPath`` looks up (method, path) in a dict
and calls a plain ``handler(request) -> Response``; the documented FastAPI
route for the same path calls the very same handler, so behaviour, errors and
the OpenAPI document are one. Errors are rendered by the same handlers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lynsms.exceptions import LynSMSError
from lynsms.kit import errors

Handler = Callable[[Request], Awaitable[Response]]
ModelT = TypeVar("ModelT", bound=BaseModel)
ROUTES: dict[tuple[str, str], Handler] = {}


def fast_route(method: str, path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES[(method, path)] = handler
        return handler

    return register


class FastPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = ROUTES.get((scope.get("method", ""), scope.get("path", "")))
        if handler is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except LynSMSError as exc:
            response = await errors.handle_lynsms_error(request, exc)
        except RequestValidationError as exc:
            response = await errors.handle_validation_error(request, exc)
        await response(scope, receive, send)


async def parse_body(request: Request, model: type[ModelT]) -> ModelT:
    """Validate the JSON body against ``model``; errors as FastAPI would report them."""
    raw = await request.body()
    if not raw.strip():
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "required"}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting ``model`` as the route's JSON request body."""
    schema = model.model_json_schema(by_alias=True)
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
