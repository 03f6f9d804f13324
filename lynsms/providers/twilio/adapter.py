"""Twilio Programmable Messaging (API 2010-04-01): one message per
``POST {base_url}/2010-04-01/Accounts/{AccountSid}/Messages.json``.

Request: form-encoded PascalCase fields (``To``, ``From`` or ``MessagingServiceSid``, ``Body``,
repeated ``MediaUrl``, ``StatusCallback``, ``ValidityPeriod``), HTTP Basic auth with the account
SID and auth token. Twilio has no client-reference field: the caller may put our message id in
the ``StatusCallback`` query string, which Twilio then signs with the rest of the URL.

Reply: ``201`` with the Message resource (``sid``, ``status``); every other reply carries
Twilio's ``{code, message, more_info, status}`` body, read for ``provider_code``. HTTP 429,
throttling codes and 5xx are retryable; everything else is hard. A timeout may come after
Twilio created the message (there is no idempotency key): the caller reconciles before resending.
"""

from __future__ import annotations

import base64
import math
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
from lynsms.providers.twilio import callbacks

API_VERSION = "2010-04-01"
MAX_VALIDITY_SECONDS = 36_000  # Twilio accepts 1..36000 (error 21624 otherwise)
_MAX_DETAIL = 200
_REDACTED = "[redacted]"

# Twilio error codes that name a failure family more precisely than the HTTP status does.
_CODE_ERRORS: dict[int, type[ProviderError]] = {
    20429: Throttled,  # too many requests
    14107: Throttled,  # send rate limit between two numbers exceeded
    21611: Throttled,  # the From number's queue is full (10 hours of messages)
    63017: Throttled,  # account-wide messages-per-second limit
    21211: Rejected,  # invalid To number
    21614: Rejected,  # To is not a mobile number
    21612: Rejected,  # To cannot be reached from this From
    21602: Rejected,  # Body (or MediaUrl) missing
    21617: Rejected,  # Body longer than 1,600 characters
    21620: Rejected,  # a MediaUrl is not a valid URL
    21610: Blacklisted,  # recipient replied STOP (unsubscribed)
    10001: BillingFailed,  # account not active (balance at or below zero)
    20005: BillingFailed,  # account not active, e.g. out of funds
    20003: ConfigurationError,  # authentication failed
    20008: ConfigurationError,  # resource not accessible with test credentials
    20404: ConfigurationError,  # account/resource not found: wrong account SID or base_url
    21212: ConfigurationError,  # From is not a valid number, short code or sender id
    21408: ConfigurationError,  # geo permissions: sending to this region is not enabled
    21609: ConfigurationError,  # StatusCallback is not a valid URL: check [server] public_url
    21606: ConfigurationError,  # From is not a message-capable number of this account
    21608: ConfigurationError,  # trial account: recipient is not a verified number
    21659: ConfigurationError,  # From is not a Twilio number
    21660: ConfigurationError,  # From does not belong to this account
    21701: ConfigurationError,  # Messaging Service does not exist
}


class TwilioConfig(BaseModel):
    """``[providers.twilio]`` in the TOML file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: str = Field(min_length=1, repr=False)
    base_url: str = "https://api.twilio.com"  # host root; the adapter adds /2010-04-01/...

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class TwilioProvider:
    """Send through Twilio and read its status and inbound-message callbacks."""

    name = "twilio"
    supports_mms = True
    max_media = 10  # MediaUrl may be repeated up to 10 times

    def __init__(
        self, config: TwilioConfig, client: httpx.AsyncClient, *, timeout: float = 10.0
    ) -> None:
        self.config = config
        self._client = client
        self._timeout = timeout
        self._credentials = _basic_credentials(config.account_sid, config.auth_token)
        self._url = f"{config.base_url}/{API_VERSION}/Accounts/{config.account_sid}/Messages.json"

    async def send(self, sms: OutboundSms) -> SendResult:
        headers = {"Authorization": f"Basic {self._credentials}", "Accept": "application/json"}
        try:
            response = await self._client.post(
                self._url, data=build_form(sms), headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise map_transport_error(exc) from exc
        return self._read_reply(response)

    def redact_values(self) -> list[str]:
        return [self.config.auth_token, self._credentials, f"Basic {self._credentials}"]

    def parse_status_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        return callbacks.parse_status_callback(self.config, request)

    def parse_inbound_callback(self, request: CallbackRequest) -> list[InboundSms]:
        return callbacks.parse_inbound_callback(self.config, request)

    def _read_reply(self, response: httpx.Response) -> SendResult:
        payload = _json_object(response)
        if response.is_success:
            return _send_result(payload, response.status_code)
        raise self._error(response, payload)

    def _error(self, response: httpx.Response, payload: dict[str, Any] | None) -> ProviderError:
        status = response.status_code
        code = _error_code(payload)
        message = self._scrub(_error_message(status, code, payload))
        retry_after = _retry_after(response)
        if 300 <= status < 400:
            return ConfigurationError(message, http_status=status)
        return classify(status, code, message, retry_after)

    def _scrub(self, text: str) -> str:
        for secret in sorted(self.redact_values(), key=len, reverse=True):
            text = text.replace(secret, _REDACTED)
        return text


def build_form(sms: OutboundSms) -> dict[str, str | list[str]]:
    """The form fields of Twilio's CreateMessage request for one message."""
    form: dict[str, str | list[str]] = {"To": sms.to, **_sender_field(sms.sender)}
    if sms.body or not sms.media_urls:
        form["Body"] = sms.body
    if sms.media_urls:
        form["MediaUrl"] = list(sms.media_urls)
    if sms.status_callback_url:
        form["StatusCallback"] = sms.status_callback_url
    if sms.validity_seconds is not None:
        form["ValidityPeriod"] = str(min(max(sms.validity_seconds, 1), MAX_VALIDITY_SECONDS))
    return form


def classify(
    status: int, code: int | None, message: str, retry_after: float | None = None
) -> ProviderError:
    """The one ``ProviderError`` a Twilio error reply stands for."""
    provider_code = None if code is None else str(code)
    if status == 429 or _CODE_ERRORS.get(code or 0) is Throttled:
        return Throttled(
            message, provider_code=provider_code, http_status=status, retry_after=retry_after
        )
    if status >= 500:
        return ProviderUnavailable(
            message, provider_code=provider_code, http_status=status, retry_after=retry_after
        )
    error_class = _CODE_ERRORS.get(code or 0)
    if error_class is None:
        return map_http_status(status, message, provider_code)
    return error_class(message, provider_code=provider_code, http_status=status)


def _sender_field(sender: str) -> dict[str, str]:
    """A Messaging Service SID (``MG`` + 32 hex) goes in ``MessagingServiceSid``."""
    if len(sender) == 34 and sender.startswith("MG"):
        return {"MessagingServiceSid": sender}
    return {"From": sender}


def _basic_credentials(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _send_result(payload: dict[str, Any] | None, status: int) -> SendResult:
    sid = payload.get("sid") if payload else None
    if not isinstance(sid, str) or not sid:
        raise ProviderUnavailable(f"Twilio HTTP {status} without a message sid", http_status=status)
    raw_status = payload.get("status") if payload else None
    return SendResult(provider_message_id=sid, raw_status=str(raw_status) if raw_status else None)


def _error_code(payload: dict[str, Any] | None) -> int | None:
    code = payload.get("code") if payload else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    return int(code) if isinstance(code, str) and code.isdigit() else None


def _error_message(status: int, code: int | None, payload: dict[str, Any] | None) -> str:
    detail = payload.get("message") if payload else None
    if not isinstance(detail, str) or not detail:
        detail = "unparseable reply" if payload is None else "no message"
    prefix = f"Twilio HTTP {status}" if code is None else f"Twilio {code} (HTTP {status})"
    return f"{prefix}: {detail[:_MAX_DETAIL]}"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
