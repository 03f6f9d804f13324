"""Twilio's error body ``{code, message, more_info, status}`` and the codes of our refusals.

``TwilioError`` is what the dialect raises; ``from_lynsms`` translates the errors of the
services it calls (``LynSMSError`` codes of API.md §1 and §3) into Twilio's codes. Plain
HTTP refusals use 20000 + the status, as Twilio's own 20404, 20429 and 20500 do.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from lynsms.exceptions import LynSMSError

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

AUTHENTICATE = 20003
INVALID_PARAMETER = 20001
NOT_FOUND = 20404
INVALID_TO = 21211
INVALID_FROM = 21212
FROM_REQUIRED = 21603
TO_REQUIRED = 21604
FROM_NOT_ALLOWED = 21606
BODY_REQUIRED = 21602
BODY_TOO_LONG = 21617
UNSUBSCRIBED = 21610
MMS_NOT_SUPPORTED = 21612
INVALID_MEDIA_URL = 21620
INVALID_CALLBACK = 21609
INVALID_VALIDITY = 21624
MESSAGING_SERVICE = 21701
ACCOUNT_NOT_ACTIVE = 20005  # Twilio's answer when the money ran out
CANNOT_DELETE = 20009
CANNOT_CANCEL = 30409
SEND_AT_MISSING = 35111
SEND_AT_OUT_OF_RANGE = 35114
SCHEDULE_TYPE = 35126


class TwilioError(Exception):
    """A refusal in Twilio's shape: HTTP ``status`` and Twilio error ``code``."""

    def __init__(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": MORE_INFO.format(code=self.code),
            "status": self.status,
        }

    def response(self) -> JSONResponse:
        headers = dict(self.headers)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def bad_request(code: int, message: str) -> TwilioError:
    return TwilioError(400, code, message)


# Our validation codes (API.md §3) → Twilio's.
_CODES: dict[str, int] = {
    "invalid_phone_number": INVALID_TO,
    "invalid_sender": INVALID_FROM,
    "sender_not_approved": FROM_NOT_ALLOWED,
    "empty_body": BODY_REQUIRED,
    "message_too_long": BODY_TOO_LONG,
    "recipient_opted_out": UNSUBSCRIBED,
    "invalid_schedule_date": SEND_AT_OUT_OF_RANGE,
    "mms_not_supported": MMS_NOT_SUPPORTED,
    "message_not_cancellable": CANNOT_CANCEL,
    "insufficient_balance": ACCOUNT_NOT_ACTIVE,
}
# HTTP statuses we keep from the original error; the rest of the business refusals are 400.
_KEPT_STATUSES = frozenset({401, 402, 403, 404, 413, 429, 503})


AUTHENTICATION_FAILED = TwilioError(401, AUTHENTICATE, "Authenticate")


def from_lynsms(exc: LynSMSError) -> TwilioError:
    """The Twilio error for an error of our services."""
    status = exc.status_code if exc.status_code in _KEPT_STATUSES else 400
    if exc.status_code == 401:
        return AUTHENTICATION_FAILED
    code = _CODES.get(exc.code)
    if code is None and (exc.param or "").startswith("media_urls"):
        code = INVALID_MEDIA_URL
    if code is None:
        code = 20000 + status if status != 400 else INVALID_PARAMETER
    return TwilioError(status, code, exc.message, exc.extra.get("headers"))
