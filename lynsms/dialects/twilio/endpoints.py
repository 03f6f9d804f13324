"""HTTP endpoints of the Twilio Messages API: authorise, parse, one service call, render.

Every answer is Twilio's: the routes' ``TwilioRoute`` turns any refusal (ours translated
by ``errors.from_lynsms``) into Twilio's error body, and an unknown path under
``/2010-04-01`` is Twilio's 20404. Bodies are form-encoded, as Twilio's clients send them.
The routes are outside ``/api/v1``: not in the native OpenAPI document, and the JSON-only
415 does not apply (the 1 MiB body limit does).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lynsms.database import is_unavailable
from lynsms.dialects.twilio import forms, service
from lynsms.dialects.twilio.auth import authorize
from lynsms.dialects.twilio.errors import TwilioError, from_lynsms
from lynsms.dialects.twilio.resources import API_VERSION
from lynsms.exceptions import LynSMSError
from lynsms.kit.logging import get_logger

log = get_logger("lynsms.dialects.twilio")
ACCOUNT = f"/{API_VERSION}/Accounts/{{account_sid}}"
MESSAGE = ACCOUNT + "/Messages/{sid}"


class TwilioRoute(APIRoute):
    """A route whose every error leaves in Twilio's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def twilio_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except TwilioError as exc:
                return exc.response()
            except LynSMSError as exc:
                return from_lynsms(exc).response()
            except Exception as exc:
                return _unexpected(exc, request.url.path).response()

        return twilio_errors


def _unexpected(exc: Exception, path: str) -> TwilioError:
    if is_unavailable(exc):
        log.error("database unavailable", path=path, error=type(exc).__name__)
        return TwilioError(503, 20503, "Service Unavailable", {"Retry-After": "1"})
    log.error("unexpected error", path=path, exc_info=exc)
    return TwilioError(500, 20500, "Internal Server Error")


router = APIRouter(route_class=TwilioRoute, include_in_schema=False)


async def _form(request: Request) -> forms.Form:
    return forms.parse_form(request.headers.get("content-type", ""), await request.body())


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status)


@router.post(ACCOUNT + "/Messages.json")
async def create_message(account_sid: str, request: Request) -> Response:
    caller = await authorize(request, account_sid, "messages:send")
    form = await _form(request)
    return _json(await service.create(request.app.state.runtime, caller, form), 201)


@router.get(ACCOUNT + "/Messages.json")
async def list_messages(account_sid: str, request: Request) -> Response:
    caller = await authorize(request, account_sid, "messages:read")
    params, runtime = dict(request.query_params), request.app.state.runtime
    return _json(await service.list_messages(runtime, caller.principal, params, request.url.path))


@router.get(MESSAGE + ".json")
async def fetch_message(account_sid: str, sid: str, request: Request) -> Response:
    caller = await authorize(request, account_sid, "messages:read")
    runtime = request.app.state.runtime
    return _json(await service.fetch(runtime, caller.principal, sid, request.url.path))


@router.post(MESSAGE + ".json")
async def update_message(account_sid: str, sid: str, request: Request) -> Response:
    caller = await authorize(request, account_sid, "messages:send")
    form = await _form(request)
    runtime = request.app.state.runtime
    return _json(await service.cancel(runtime, caller.principal, sid, form, request.url.path))


@router.delete(MESSAGE + ".json")
async def delete_message(account_sid: str, sid: str, request: Request) -> Response:
    caller = await authorize(request, account_sid, "messages:send")
    runtime = request.app.state.runtime
    await service.delete(runtime, caller.principal, sid, request.url.path)
    return Response(status_code=204)


@router.get(MESSAGE + "/Media.json")
async def list_media(account_sid: str, sid: str, request: Request) -> Response:
    caller = await authorize(request, account_sid, "messages:read")
    runtime = request.app.state.runtime
    return _json(await service.media(runtime, caller.principal, sid, request.url.path))


@router.api_route(
    f"/{API_VERSION}/{{rest:path}}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
)
async def not_served(request: Request) -> Response:
    """Twilio's other resources (Calls, IncomingPhoneNumbers, …) are not served here."""
    raise service.not_found(request.url.path)
