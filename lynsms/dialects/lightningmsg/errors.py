"""LightningMSG's error body ``{"status": "<code>", "message"}`` and its codes (seed 003),
with the HTTP statuses of API.md §12."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from lynsms.exceptions import LynSMSError

WRONG_PARAMETERS = "0001"
WRONG_MODULE = "0050"
ITEM_NOT_FOUND = "0100"
ITEM_VALIDATION = "0200"
WRONG_SECRET_CODE = "4001"
INVALID_API_KEY = "4003"
NO_VALID_PACKAGES = "4004"
NO_VALID_PACKAGE = "4005"
INVALID_NUMBER = "4007"
MESSAGE_TOO_LONG = "4008"
INVALID_SCHEDULE_DATE = "4009"

_HTTP: dict[str, int] = {
    WRONG_PARAMETERS: 400,
    WRONG_MODULE: 404,
    ITEM_NOT_FOUND: 404,
    ITEM_VALIDATION: 422,
    WRONG_SECRET_CODE: 401,
    INVALID_API_KEY: 401,
    NO_VALID_PACKAGES: 402,
    NO_VALID_PACKAGE: 402,
    INVALID_NUMBER: 400,
    MESSAGE_TOO_LONG: 400,
    INVALID_SCHEDULE_DATE: 400,
}


class LightningError(Exception):
    """A refusal in LightningMSG's shape."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status or _HTTP.get(code, 400)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"status": self.code, "message": self.message}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.http_status, headers=self.headers)


def wrong_parameters(message: str) -> LightningError:
    return LightningError(WRONG_PARAMETERS, message)


def invalid_api_key() -> LightningError:
    return LightningError(INVALID_API_KEY, "The provided API key is invalid or unauthorized.")


def wrong_secret_code() -> LightningError:
    return LightningError(WRONG_SECRET_CODE, "The provided secret code is invalid.")


# Our validation codes (API.md §3) → LightningMSG's.
_CODES: dict[str, str] = {
    "invalid_phone_number": INVALID_NUMBER,
    "message_too_long": MESSAGE_TOO_LONG,
    "invalid_schedule_date": INVALID_SCHEDULE_DATE,
    "empty_body": WRONG_PARAMETERS,
    "sender_not_approved": ITEM_VALIDATION,
    "recipient_opted_out": ITEM_VALIDATION,
    "message_not_cancellable": ITEM_VALIDATION,
}


def from_lynsms(exc: LynSMSError) -> LightningError:
    """The LightningMSG error for an error of our services (402 is decided by the caller,
    which knows the account's packages: see ``service.payment_error``)."""
    headers = exc.extra.get("headers")
    if exc.status_code == 401:
        return invalid_api_key()
    if exc.status_code == 403:
        return LightningError(INVALID_API_KEY, exc.message, http_status=403)
    if exc.code in _CODES:
        return LightningError(_CODES[exc.code], exc.message, headers=headers)
    if exc.status_code == 404:
        return LightningError(ITEM_NOT_FOUND, exc.message)
    if exc.status_code == 402:
        return LightningError(NO_VALID_PACKAGE, exc.message)
    if exc.status_code in (429, 503):  # no code of seed 003 fits: the HTTP status says it
        return LightningError(
            WRONG_PARAMETERS, exc.message, http_status=exc.status_code, headers=headers
        )
    return LightningError(WRONG_PARAMETERS, exc.message, headers=headers)
