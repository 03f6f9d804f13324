"""HTTP endpoints of the Sinch XMS API: authorise, parse, one service call, render.

Every answer is Sinch's: the routes' ``SinchRoute`` turns any refusal (ours translated by
``errors.from_lynsms``) into Sinch's ``{"code", "text"}``, and an unknown path under
``/xms/v1`` is Sinch's 404. Bodies are JSON. The routes are outside ``/api/v1``: not in
the native OpenAPI document (the 1 MiB body limit applies).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lynsms.database import is_unavailable
from lynsms.dialects.sinch import requests, service
from lynsms.dialects.sinch.auth import authorize
from lynsms.dialects.sinch.errors import SinchError, from_lynsms, not_found
from lynsms.exceptions import LynSMSError
from lynsms.kit.logging import get_logger

log = get_logger("lynsms.dialects.sinch")
PLAN = "/xms/v1/{service_plan_id}"
BATCH = PLAN + "/batches/{batch_id}"
JSON_TYPE = "application/json"


class SinchRoute(APIRoute):
    """A route whose every error leaves in Sinch's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def sinch_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except SinchError as exc:
                return exc.response()
            except LynSMSError as exc:
                return from_lynsms(exc).response()
            except Exception as exc:
                return _unexpected(exc, request.url.path).response()

        return sinch_errors


def _unexpected(exc: Exception, path: str) -> SinchError:
    if is_unavailable(exc):
        log.error("database unavailable", path=path, error=type(exc).__name__)
        return SinchError(503, "service_unavailable", "Service Unavailable", {"Retry-After": "1"})
    log.error("unexpected error", path=path, exc_info=exc)
    return SinchError(500, "internal_error", "Internal Server Error")


router = APIRouter(route_class=SinchRoute, include_in_schema=False)


async def _body(request: Request) -> dict[str, Any]:
    """The JSON body; Sinch answers 415 to any other content type."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != JSON_TYPE:
        raise SinchError(415, "unsupported_media_type", "Content-Type must be application/json.")
    return requests.parse_json(await request.body())


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


@router.post(PLAN + "/batches")
async def send_batch(service_plan_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:send")
    data = await _body(request)
    return _json(await service.create(_runtime(request), principal, data), 201)


@router.post(PLAN + "/batches/dry_run")
async def dry_run(service_plan_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:send")
    data = await _body(request)
    return _json(await service.dry_run(principal, data, dict(request.query_params)))


@router.get(PLAN + "/batches")
async def list_batches(service_plan_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:read")
    params = dict(request.query_params)
    return _json(await service.list_batches(_runtime(request), principal, params))


@router.get(BATCH)
async def get_batch(service_plan_id: str, batch_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:read")
    return _json(await service.get(_runtime(request), principal, batch_id))


@router.delete(BATCH)
async def cancel_batch(service_plan_id: str, batch_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:send")
    return _json(await service.cancel(_runtime(request), principal, batch_id))


@router.get(BATCH + "/delivery_report")
async def batch_report(service_plan_id: str, batch_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:read")
    params = dict(request.query_params)
    return _json(await service.report(_runtime(request), principal, batch_id, params))


@router.get(BATCH + "/delivery_report/{recipient_msisdn}")
async def recipient_report(
    service_plan_id: str, batch_id: str, recipient_msisdn: str, request: Request
) -> Response:
    principal = await authorize(request, service_plan_id, "messages:read")
    runtime = _runtime(request)
    return _json(await service.recipient(runtime, principal, batch_id, recipient_msisdn))


@router.get(PLAN + "/inbounds")
async def list_inbounds(service_plan_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:read")
    params = dict(request.query_params)
    return _json(await service.inbounds(_runtime(request), principal, params))


@router.get(PLAN + "/inbounds/{inbound_id}")
async def get_inbound(service_plan_id: str, inbound_id: str, request: Request) -> Response:
    principal = await authorize(request, service_plan_id, "messages:read")
    return _json(await service.inbound(_runtime(request), principal, inbound_id))


@router.api_route("/xms/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def not_served(request: Request) -> Response:
    """Sinch's other resources (groups, batch updates, …) are not served here."""
    raise not_found(f"The requested resource {request.url.path} was not found.")
