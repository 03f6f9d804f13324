"""Delivery reports and inbound messages from providers: ``POST /callbacks/{provider}/...``.

Each adapter authenticates and parses its provider's own format (Twilio's
signature, a secret ``?token=`` for the others). A refused callback changes
nothing and gets 401; a report for a message we do not know is acknowledged
(2xx) so the provider does not retry it forever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from lynsms.database import session_scope
from lynsms.kit.logging import get_logger
from lynsms.messages.inbound import receive
from lynsms.messages.reports import record_reports_batched
from lynsms.providers.base import CallbackRejected, CallbackRequest, Provider
from lynsms.routing.service import SIMULATOR
from lynsms.runtime import Runtime

log = get_logger("lynsms.callbacks")
router = APIRouter(prefix="/callbacks", include_in_schema=False)
T = TypeVar("T")
_TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post("/{provider}/status")
async def status_callback(provider: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    parsed = await _parse(runtime, provider, request, lambda a: a.parse_status_callback)
    if isinstance(parsed, Response):
        return parsed
    moved = await record_reports_batched(runtime, provider, parsed)  # group commit
    return JSONResponse({"received": len(parsed), "applied": moved})


@router.post("/{provider}/inbound")
async def inbound_callback(provider: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    parsed = await _parse(runtime, provider, request, lambda a: a.parse_inbound_callback)
    if isinstance(parsed, Response):
        return parsed
    async with session_scope(runtime.database, write=True) as session:
        stored = await receive(session, provider, parsed)
    if provider == "twilio":  # Twilio expects TwiML: an empty response sends no reply
        return Response(_TWIML_EMPTY, media_type="text/xml")
    return JSONResponse({"received": len(parsed), "stored": stored})


async def _parse(
    runtime: Runtime,
    provider: str,
    request: Request,
    parser: Callable[[Provider], Callable[[CallbackRequest], list[T]]],
) -> Response | list[T]:
    """The adapter's reading of the callback, or the response refusing it."""
    adapter = _adapter(runtime, provider)
    if adapter is None:
        return _refuse(404, "not_found", f"No provider '{provider}' is configured.")
    callback = await _callback(runtime, request)
    try:
        return parser(adapter)(callback)
    except CallbackRejected as exc:
        log.warning("callback refused", provider=provider, path=request.url.path, reason=str(exc))
        return _refuse(401, "callback_rejected", "The callback failed authentication.")
    except ValueError as exc:
        return _refuse(400, "bad_request", f"Unreadable callback: {exc}")


def _adapter(runtime: Runtime, provider: str) -> Provider | None:
    if provider == SIMULATOR:
        return None
    return runtime.router.providers.get(provider)


async def _callback(runtime: Runtime, request: Request) -> CallbackRequest:
    """The request as the provider made it: the public URL it called (what Twilio signs)."""
    url = runtime.router.public_url + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    return CallbackRequest(
        url=url,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
        query=dict(request.query_params),
    )


def _refuse(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"success": False, "error": {"code": code, "message": message}}, status)
