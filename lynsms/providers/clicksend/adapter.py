"""ClickSend REST v3: one message per ``POST {base_url}/v3/sms/send`` (MMS: ``/v3/mms/send``).

Request: JSON, HTTP Basic ``username:api_key``; our message id travels as the
message's ``custom_string`` (echoed in receipts and replies). An MMS carries its
single media file as the top-level ``media_file`` and needs a ``subject`` (at
most 20 characters): the start of the body. ClickSend has no per-message
callback URL or validity period: delivery reports come from the account's
Delivery Report Rule, whose URL carries ``?token=<callback_token>``.

Reply: every answer is ClickSend's envelope ``{http_code, response_code,
response_msg, data}``. A 200 is evaluated per message (``data.messages[].status``):
``SUCCESS`` means queued, any other application code (``INVALID_RECIPIENT``,
``INSUFFICIENT_CREDIT``, ...) is a failure kept as ``provider_code``.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lynsms.providers.base import (
    BillingFailed,
    Blacklisted,
    CallbackRequest,
    ConfigurationError,
    DeliveryReport,
    InboundSms,
    OutboundSms,
    ProviderError,
    ProviderUnavailable,
    Rejected,
    SendResult,
    Throttled,
    map_http_status,
    map_transport_error,
)
from lynsms.providers.clicksend import callbacks

SMS_PATH = "/v3/sms/send"
MMS_PATH = "/v3/mms/send"
SOURCE = "lynsms"  # ClickSend's "source": the sending application, shown in its dashboard
MMS_SUBJECT_MAX = 20
_MAX_DETAIL = 200

# Application status codes (per message inside a 200, or per request) other than SUCCESS.
# Codes not listed here are refusals of this message: Rejected.
_STATUS_ERRORS: dict[str, type[ProviderError]] = {
    "INVALID_RECIPIENT": Rejected,  # the destination number is invalid
    "INSUFFICIENT_CREDIT": BillingFailed,  # the account has run out of credit
    "INVALID_SENDER_ID": ConfigurationError,  # our sender id is not allowed
    "ACCOUNT_NOT_ACTIVATED": ConfigurationError,
    "MISSING_CREDENTIALS": ConfigurationError,
    "INVALID_CREDENTIALS": ConfigurationError,
    "COUNTRY_NOT_ENABLED": ConfigurationError,  # global sending is off for that country
    "THROTTLED": Throttled,  # identical message just sent to this recipient: retry later
    "INTERNAL_ERROR": ProviderUnavailable,
    # ClickSend documents no code for opted-out or blocked numbers; these names are guarded.
    "BLOCKED": Blacklisted,
    "BLACKLISTED": Blacklisted,
    "OPTED_OUT": Blacklisted,
}


class ClickSendConfig(BaseModel):
    """``[providers.clicksend]``: ``base_url`` is the host root (the adapter adds ``/v3/…``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str
    api_key: str = Field(repr=False)
    base_url: str = "https://rest.clicksend.com"
    callback_token: str | None = Field(default=None, repr=False)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value


class ClickSendProvider:
    """Sends SMS and MMS through ClickSend and reads its receipt and inbound pushes."""

    name = "clicksend"
    supports_mms = True
    max_media = 1  # /v3/mms/send has one media_file
    mms_needs_text = (
        True  # its MMS message requires a body: the router sends text-less MMS elsewhere
    )

    def __init__(
        self, config: ClickSendConfig, client: httpx.AsyncClient, *, timeout: float = 10.0
    ) -> None:
        self._config = config
        self._client = client
        self._timeout = timeout
        self._base_url = config.base_url.rstrip("/")

    async def send(self, sms: OutboundSms) -> SendResult:
        path, payload = build_payload(sms)
        try:
            response = await self._client.post(
                self._base_url + path, json=payload, headers=self._headers(), timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise map_transport_error(exc) from exc
        if response.is_success:
            return _read_accepted(response)
        raise _http_error(response)

    def redact_values(self) -> list[str]:
        secrets = [self._config.api_key, self._basic_token(), self._config.callback_token]
        return [value for value in secrets if value]

    def parse_status_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        return callbacks.parse_status_callback(self._config, request)

    def parse_inbound_callback(self, request: CallbackRequest) -> list[InboundSms]:
        return callbacks.parse_inbound_callback(self._config, request)

    def _basic_token(self) -> str:
        pair = f"{self._config.username}:{self._config.api_key}".encode()
        return base64.b64encode(pair).decode("ascii")

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Basic {self._basic_token()}", "Accept": "application/json"}


# --- request ------------------------------------------------------------------------------
def build_payload(sms: OutboundSms) -> tuple[str, dict[str, Any]]:
    """The path and JSON body for one message: SMS, or MMS when it has media."""
    message: dict[str, Any] = {"source": SOURCE, "to": sms.to, "body": sms.body}
    if sms.sender:
        message["from"] = sms.sender
    message["custom_string"] = sms.message_id
    if not sms.media_urls:
        return SMS_PATH, {"messages": [message]}
    if len(sms.media_urls) > 1:
        raise Rejected("clicksend MMS carries one media file")
    message["subject"] = sms.body[:MMS_SUBJECT_MAX].strip() or "MMS"
    return MMS_PATH, {"media_file": sms.media_urls[0], "messages": [message]}


# --- reply --------------------------------------------------------------------------------
def _read_accepted(response: httpx.Response) -> SendResult:
    http_status = response.status_code
    envelope = _json_object(response)
    if envelope is None:
        raise ProviderUnavailable("clicksend reply is not JSON", http_status=http_status)
    inner_code = envelope.get("http_code")
    if isinstance(inner_code, int) and inner_code >= 400:  # an error envelope inside a 2xx
        raise _status_to_error(inner_code, _code(envelope), _detail(envelope))
    message = _first_message(envelope)
    if message is not None:
        return _message_result(message, http_status)
    code = _code(envelope)
    if code and code != "SUCCESS":  # a request-level application code inside a 2xx
        raise status_error(code, http_status=http_status, detail=_detail(envelope))
    raise ProviderUnavailable("clicksend reply has no messages", http_status=http_status)


def _first_message(envelope: dict[str, Any]) -> dict[str, Any] | None:
    data = envelope.get("data")
    messages = data.get("messages") if isinstance(data, dict) else None
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        return messages[0]
    return None


def _message_result(message: dict[str, Any], http_status: int) -> SendResult:
    status = str(message.get("status") or "").upper()
    message_id = message.get("message_id")
    if status != "SUCCESS":
        raise status_error(status or "UNKNOWN", http_status=http_status)
    if not isinstance(message_id, str) or not message_id:
        raise ProviderUnavailable("clicksend reply has no message_id", http_status=http_status)
    return SendResult(provider_message_id=message_id, raw_status=status)


def status_error(
    status: str, *, http_status: int | None = None, detail: str | None = None
) -> ProviderError:
    """The error for one of ClickSend's application status codes (never ``SUCCESS``)."""
    error_class = _STATUS_ERRORS.get(status, Rejected)
    message = f"clicksend refused the message: {status}" + (f" ({detail})" if detail else "")
    return error_class(message, provider_code=status, http_status=http_status)


def _http_error(response: httpx.Response) -> ProviderError:
    envelope = _json_object(response)
    code = _code(envelope) if envelope else None
    detail = _detail(envelope) if envelope else None
    error = _status_to_error(response.status_code, code, detail)
    if isinstance(error, Throttled):
        error.retry_after = _retry_after(response)
    return error


def _status_to_error(status: int, code: str | None, detail: str | None) -> ProviderError:
    if status == 400 and code in _STATUS_ERRORS:
        return status_error(code, http_status=status, detail=detail)
    message = f"clicksend answered HTTP {status}" + (f" {code}" if code else "")
    message += f": {detail}" if detail else ""
    if 300 <= status < 400 or status in (404, 405):  # wrong base_url: not the API
        return ConfigurationError(message, provider_code=code, http_status=status)
    return map_http_status(status, message, code)


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _code(envelope: dict[str, Any]) -> str | None:
    code = envelope.get("response_code")
    return str(code) if code else None


def _detail(envelope: dict[str, Any]) -> str | None:
    text = envelope.get("response_msg")
    return str(text)[:_MAX_DETAIL] if text else None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None
