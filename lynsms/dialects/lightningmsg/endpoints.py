"""HTTP endpoints of the LightningMSG API: parse, authorise, one service call, render.

Every answer is LightningMSG's: ``LightningRoute`` turns any refusal (ours translated by
``errors.from_lynsms``) into ``{"status": "<code>", "message"}``, and an unknown
operation under the prefix is 0050 WRONG_MODULE. The routes are under ``/api/v1`` but
not in the native OpenAPI document; ``body_rule`` lets them take form-encoded bodies as
well as JSON (the 1 MiB limit stays).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lynsms.database import is_unavailable
from lynsms.dialects.lightningmsg import requests, service
from lynsms.dialects.lightningmsg.auth import authorize
from lynsms.dialects.lightningmsg.errors import WRONG_MODULE, LightningError, from_lynsms
from lynsms.exceptions import LynSMSError
from lynsms.kit.logging import get_logger
from lynsms.kit.middleware import MAX_JSON_BODY, body_prefix_rule

log = get_logger("lynsms.dialects.lightningmsg")
PREFIX = "/api/v1/sms_services/sms"

body_prefix_rule(PREFIX + "/", MAX_JSON_BODY, requests.CONTENT_TYPES)


class LightningRoute(APIRoute):
    """A route whose every error leaves in LightningMSG's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def lightning_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except LightningError as exc:
                return exc.response()
            except LynSMSError as exc:
                return from_lynsms(exc).response()
            except Exception as exc:
                return _unexpected(exc, request.url.path).response()

        return lightning_errors


def _unexpected(exc: Exception, path: str) -> LightningError:
    if is_unavailable(exc):
        log.error("database unavailable", path=path, error=type(exc).__name__)
        return LightningError(
            "0001", "Service unavailable; retry.", http_status=503, headers={"Retry-After": "1"}
        )
    log.error("unexpected error", path=path, exc_info=exc)
    return LightningError("0001", "Internal server error.", http_status=500)


router = APIRouter(prefix=PREFIX, route_class=LightningRoute, include_in_schema=False)


async def _params(request: Request) -> dict[str, Any]:
    return requests.parse_body(request.headers.get("content-type", ""), await request.body())


@router.post("/send")
async def send(request: Request) -> Response:
    params = await _params(request)
    principal = await authorize(request, params, "messages:send")
    return JSONResponse(await service.send(request.app.state.runtime, principal, params))


@router.post("/send_multiple")
async def send_multiple(request: Request) -> Response:
    params = await _params(request)
    principal = await authorize(request, params, "messages:send")
    return JSONResponse(await service.send_multiple(request.app.state.runtime, principal, params))


@router.post("/get_status/{sms_id}")
async def get_status(sms_id: str, request: Request) -> Response:
    params = await _params(request)
    principal = await authorize(request, params, "messages:read")
    return JSONResponse(await service.get_status(request.app.state.runtime, principal, sms_id))


@router.post("/get_sent_messages")
async def get_sent_messages(request: Request) -> Response:
    params = await _params(request)
    principal = await authorize(request, params, "messages:read")
    runtime = request.app.state.runtime
    return JSONResponse(await service.get_sent_messages(runtime, principal, params))


@router.post("/cancel/{sms_id}")
async def cancel(sms_id: str, request: Request) -> Response:
    params = await _params(request)
    principal = await authorize(request, params, "messages:send")
    return JSONResponse(await service.cancel(request.app.state.runtime, principal, sms_id))


@router.post("/get_packages")
async def get_packages(request: Request) -> Response:
    params = await _params(request)
    principal = await authorize(request, params, "billing:read")
    return JSONResponse(await service.get_packages(request.app.state.runtime, principal))


@router.api_route("/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_served(rest: str) -> Response:
    """Any other operation (or method) under the prefix: LightningMSG's WRONG_MODULE."""
    raise LightningError(WRONG_MODULE, f"Incorrect module specified: '{rest}'.")
