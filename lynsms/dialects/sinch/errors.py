"""Sinch's error body ``{"code", "text"}`` and the codes of our refusals (API.md §11).

Sinch answers a malformed request with 400 and one of ``syntax_invalid_json``,
``syntax_invalid_parameter_format`` or ``syntax_constraint_violation``; a request it
understood but will not do with 403 (``missing_callback_url``, …). Other statuses carry
the HTTP reason as a code (``unauthorized``, ``not_found``, ``too_many_requests``).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from lynsms.exceptions import LynSMSError

INVALID_JSON = "syntax_invalid_json"
INVALID_FORMAT = "syntax_invalid_parameter_format"
CONSTRAINT = "syntax_constraint_violation"
MISSING_CALLBACK_URL = "missing_callback_url"


class SinchError(Exception):
    """A refusal in Sinch's shape: HTTP ``status``, Sinch ``code`` and ``text``."""

    def __init__(
        self, status: int, code: str, text: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(text)
        self.status = status
        self.code = code
        self.text = text
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text}

    def response(self) -> JSONResponse:
        headers = dict(self.headers)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="XMS"'
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def bad_request(code: str, text: str) -> SinchError:
    return SinchError(400, code, text)


def invalid_format(param: str, value: object, what: str) -> SinchError:
    return bad_request(
        INVALID_FORMAT, f"The format of parameter '{param}' is invalid; value '{value}' {what}."
    )


def not_found(text: str) -> SinchError:
    return SinchError(404, "not_found", text)


UNAUTHORIZED = SinchError(401, "unauthorized", "Unauthorized: invalid service plan id or token.")

# Our validation codes (API.md §3) → Sinch's 400 codes.
_CODES: dict[str, str] = {
    "invalid_phone_number": INVALID_FORMAT,
    "invalid_sender": INVALID_FORMAT,
    "invalid_schedule_date": INVALID_FORMAT,
    "empty_body": CONSTRAINT,
    "message_too_long": CONSTRAINT,
    "too_many_recipients": CONSTRAINT,
}
# Refusals that are not about the request's syntax: Sinch's 403 (and our own words).
_FORBIDDEN = frozenset({"sender_not_approved", "recipient_opted_out", "unknown_provider"})
_BY_STATUS = {
    401: "unauthorized",
    402: "insufficient_balance",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "request_too_large",
    429: "too_many_requests",
    503: "service_unavailable",
}


def from_lynsms(exc: LynSMSError) -> SinchError:
    """The Sinch error for an error of our services."""
    if exc.status_code == 401:
        return UNAUTHORIZED
    headers = exc.extra.get("headers")
    if exc.code in _FORBIDDEN:
        return SinchError(403, exc.code, exc.message, headers)
    if exc.code in _CODES:
        return SinchError(400, _CODES[exc.code], exc.message, headers)
    if exc.status_code in _BY_STATUS:
        return SinchError(exc.status_code, _BY_STATUS[exc.status_code], exc.message, headers)
    return SinchError(400, CONSTRAINT, exc.message, headers)
