"""Exception handlers: every error leaves as the envelope; never a stack trace."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from lynsms.database import is_unavailable
from lynsms.exceptions import LynSMSError, ServiceUnavailable
from lynsms.kit.envelope import error
from lynsms.kit.logging import get_logger

log = get_logger("lynsms.errors")

_INVALID_JSON = "The request body is not valid JSON."
_HTTP_CODES = {
    400: "invalid_json",  # FastAPI could not read the body (not UTF-8, for one)
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


async def handle_lynsms_error(request: Request, exc: LynSMSError) -> Response:
    headers = exc.extra.pop("headers", None) if "headers" in exc.extra else None
    return error(exc.status_code, exc.to_dict(), headers)


async def handle_validation_error(request: Request, exc: RequestValidationError) -> Response:
    problems = [_problem(e) for e in exc.errors()]
    if any(p["type"] == "json_invalid" for p in problems):
        return error(400, {"code": "invalid_json", "message": _INVALID_JSON})
    first = problems[0]
    body: dict[str, Any] = {"code": "validation_error", "message": first["message"]}
    if first["param"]:
        body["param"] = first["param"]
    body["errors"] = [{"param": p["param"], "message": p["message"]} for p in problems]
    return error(422, body)


def _problem(raw: Any) -> dict[str, Any]:
    loc = [str(part) for part in raw.get("loc", ())]
    where, path = (loc[0], loc[1:]) if loc else ("body", [])
    param = ".".join(path) or None
    kind = raw.get("type", "")
    if kind == "extra_forbidden":
        message = f"Unknown field '{param}'."
    elif kind == "missing" and param is None:
        message = "A JSON request body is required."
    elif kind == "missing":
        message = f"'{param}' is required."
    else:
        message = f"'{param or where}': {raw.get('msg', 'is invalid')}."
    return {"param": param, "message": message, "type": kind}


async def handle_http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc.__cause__, LynSMSError):  # raised while the body was being read
        return await handle_lynsms_error(request, exc.__cause__)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = {400: _INVALID_JSON, 404: "No such endpoint."}.get(exc.status_code, str(exc.detail))
    return error(exc.status_code, {"code": code, "message": message}, dict(exc.headers or {}))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    return unexpected_response(exc, request.url.path)


def unexpected_response(exc: Exception, path: str) -> Response:
    if is_unavailable(exc):
        log.error("database unavailable", path=path, error=type(exc).__name__)
        unavailable = ServiceUnavailable("The database is unavailable; retry shortly.")
        return error(503, unavailable.to_dict(), {"Retry-After": "1"})
    log.error("unexpected error", path=path, exc_info=exc)
    return error(500, {"code": "internal_error", "message": "Something went wrong on our side."})
