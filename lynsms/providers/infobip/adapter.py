"""Infobip SMS API v3: one message per ``POST {base_url}/sms/3/messages``.

Request: JSON, ``Authorization: App <api_key>``; our message id travels as the
destination's ``messageId`` (so Infobip's id *is* ours) and as ``callbackData``;
delivery reports go to ``webhooks.delivery.url`` with ``?token=<callback_token>``
added when a token is configured.

Reply: a 200 is evaluated per message (``status.groupName``): PENDING / ACCEPTED /
DELIVERED mean accepted, REJECTED (and UNDELIVERABLE / EXPIRED at submission) is
a failure named by ``status.name``. Other replies carry Infobip's ``ApiError``
(``errorCode`` E400/E401/…) or the older ``requestError.serviceException`` body;
both are read for ``provider_code``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

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
    map_http_status,
    map_transport_error,
)
from lynsms.providers.infobip import callbacks

SEND_PATH = "/sms/3/messages"

# Status groups of a 200 that mean the message was refused at submission. Every other
# group (PENDING, ACCEPTED, DELIVERED) means Infobip has it: never resend those.
_REFUSED_GROUPS = frozenset({"REJECTED", "UNDELIVERABLE", "EXPIRED"})

# REJECTED_* status names that are not "the number/request is invalid" (→ Rejected).
_STATUS_ERRORS: dict[str, type[ProviderError]] = {
    "REJECTED_NOT_ENOUGH_CREDITS": BillingFailed,  # id 12: account out of credit
    "REJECTED_PREPAID_PACKAGE_EXPIRED": BillingFailed,  # id 17: credits past validity
    "REJECTED_DND": Blacklisted,  # id 10: recipient on a do-not-disturb list
    "REJECTED_DESTINATION_BLOCKLISTED": Blacklisted,  # id 14: blocked by operator or account
    "REJECTED_SENDER": ConfigurationError,  # id 13: our sender id is blocklisted
    "REJECTED_SOURCE": ConfigurationError,  # id 11: sender id not registered on the account
    "REJECTED_ROUTE_NOT_AVAILABLE": ConfigurationError,  # id 19: no routes on the account
    "REJECTED_NETWORK": ConfigurationError,  # id 6: network not set up on the account
    "REJECTED_DESTINATION_NOT_REGISTERED": ConfigurationError,  # id 18: test account
    "REJECTED_SYSTEM_ERROR": ProviderUnavailable,  # id 21: Infobip says "retry"
}
_MAX_DETAIL = 200


class InfobipConfig(BaseModel):
    """``[providers.infobip]``: ``base_url`` is the account's host root."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: str = Field(repr=False)
    base_url: str
    callback_token: str | None = Field(default=None, repr=False)


class InfobipProvider:
    """Sends through Infobip and reads its delivery-report and inbound callbacks."""

    name = "infobip"
    supports_mms = False

    def __init__(
        self, config: InfobipConfig, client: httpx.AsyncClient, *, timeout: float = 10.0
    ) -> None:
        self._config = config
        self._client = client
        self._timeout = timeout
        self._url = config.base_url.rstrip("/") + SEND_PATH

    async def send(self, sms: OutboundSms) -> SendResult:
        try:
            response = await self._client.post(
                self._url, json=self._payload(sms), headers=self._headers(), timeout=self._timeout
            )
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise ConfigurationError("infobip base_url is not an http(s) URL") from exc
        except httpx.HTTPError as exc:
            raise map_transport_error(exc) from exc
        if response.is_success:
            return _read_accepted(response, sms)
        raise _http_error(response)

    def redact_values(self) -> list[str]:
        secrets = [self._config.api_key, self._config.callback_token]
        return [value for value in secrets if value]

    def parse_status_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        return callbacks.parse_status_callback(self._config, request)

    def parse_inbound_callback(self, request: CallbackRequest) -> list[InboundSms]:
        return callbacks.parse_inbound_callback(self._config, request)

    # --- request ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"App {self._config.api_key}",
            "Accept": "application/json",
        }

    def _payload(self, sms: OutboundSms) -> dict[str, Any]:
        message: dict[str, Any] = {
            "sender": bare_number(sms.sender),
            "destinations": [{"to": bare_number(sms.to), "messageId": sms.message_id}],
            "content": {"text": sms.body},
            "webhooks": self._webhooks(sms),
        }
        if sms.validity_seconds is not None:
            validity = {"amount": sms.validity_seconds, "timeUnit": "SECONDS"}
            message["options"] = {"validityPeriod": validity}
        return {"messages": [message]}

    def _webhooks(self, sms: OutboundSms) -> dict[str, Any]:
        webhooks: dict[str, Any] = {
            "contentType": "application/json",
            "callbackData": sms.message_id,
        }
        if sms.status_callback_url:
            url = self._with_token(sms.status_callback_url)
            webhooks["delivery"] = {"url": url, "intermediateReport": False}
        return webhooks

    def _with_token(self, url: str) -> str:
        token = self._config.callback_token
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not token or any(key == "token" for key, _ in query):
            return url
        return urlunsplit(parts._replace(query=urlencode([*query, ("token", token)])))


def bare_number(value: str) -> str:
    """Infobip writes numbers without ``+`` (``41793026727``); alphanumeric senders pass."""
    digits = value[1:] if value.startswith("+") else value
    return digits if digits.isdigit() else value


# --- reply --------------------------------------------------------------------------------
def _read_accepted(response: httpx.Response, sms: OutboundSms) -> SendResult:
    entry = _our_entry(_json_object(response), sms, response.status_code)
    status, message_id = _object(entry.get("status")), entry.get("messageId")
    http_status = response.status_code
    if str(status.get("groupName")) in _REFUSED_GROUPS:
        raise _status_error(status, http_status)
    if not isinstance(message_id, str) or not message_id:
        raise ProviderUnavailable("infobip reply has no messageId", http_status=http_status)
    return SendResult(provider_message_id=message_id, raw_status=_opt_str(status.get("name")))


def _our_entry(body: dict[str, Any], sms: OutboundSms, http_status: int) -> dict[str, Any]:
    entries = [_object(item) for item in body.get("messages") or [] if isinstance(item, dict)]
    for key, wanted in (("messageId", sms.message_id), ("destination", bare_number(sms.to))):
        for entry in entries:
            if entry.get(key) == wanted:
                return entry
    if not entries:
        raise ProviderUnavailable("infobip reply has no messages", http_status=http_status)
    return entries[0]


def _status_error(status: dict[str, Any], http_status: int) -> ProviderError:
    name = str(status.get("name") or status.get("id") or status.get("groupName"))
    error_class = _STATUS_ERRORS.get(name, Rejected)
    if "BLACKLIST" in name or "BLOCKLIST" in name:
        error_class = Blacklisted
    detail = _clip(str(status.get("description") or ""))
    message = f"infobip refused the message: {name}" + (f" ({detail})" if detail else "")
    return error_class(message, provider_code=name, http_status=http_status)


def _http_error(response: httpx.Response) -> ProviderError:
    status = response.status_code
    code, text = _error_details(response)
    message = f"infobip answered HTTP {status}" + (f" {code}" if code else "")
    message += f": {_clip(text)}" if text else ""
    if 300 <= status < 400 or status in (404, 405):
        return ConfigurationError(message, provider_code=code, http_status=status)
    error = map_http_status(status, message, code)
    if status == 429:
        error.retry_after = _retry_after(response)
    return error


def _error_details(response: httpx.Response) -> tuple[str | None, str | None]:
    """``ApiError`` (``errorCode``, ``description``) or ``requestError.serviceException``."""
    try:
        body = _json_object(response)
    except ProviderUnavailable:
        return None, None
    if "errorCode" in body:
        return _opt_str(body.get("errorCode")), _opt_str(body.get("description"))
    service = _object(_object(body.get("requestError")).get("serviceException"))
    return _opt_str(service.get("messageId")), _opt_str(service.get("text"))


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("retry-after", ""))
    except ValueError:
        return None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderUnavailable(
            f"infobip reply is not a JSON object (HTTP {response.status_code})",
            http_status=response.status_code,
        )
    return body


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _opt_str(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "…"
