"""Sinch SMS REST API ("XMS" v1): one batch per message.

``POST {base}/xms/v1/{service_plan_id}/batches`` with a bearer token, JSON in
and out. Success is ``201`` with the batch object (its ``id`` is what delivery
reports carry as ``batch_id``); failures are ``{"code", "text"}`` for 400/403
and bare statuses otherwise. Sinch rejects a batch as a whole, and reports
per-recipient outcomes (opt-outs included) only in delivery reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lynsms.providers.base import (
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
from lynsms.providers.sinch import callbacks

Region = Literal["us", "eu", "au", "br", "ca"]

MAX_VALIDITY = timedelta(days=3)  # Sinch's ceiling (and default) for expire_at after send_at
_TEXT_LIMIT = 200  # how much of Sinch's error text is kept in our message

# Sinch's documented error ``code`` values whose meaning is sharper than the HTTP status.
_CODE_ERRORS: dict[str, type[ProviderError]] = {
    "syntax_invalid_json": Rejected,
    "syntax_invalid_parameter_format": Rejected,
    "syntax_constraint_violation": Rejected,
    "unknown_group": Rejected,  # a recipient was read as a group id
    "unknown_campaign": ConfigurationError,  # US campaign does not match the sender
    "missing_callback_url": ConfigurationError,
}


class SinchConfig(BaseModel):
    """``[providers.sinch]``: credentials, region or base URL, callback authentication."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service_plan_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    api_token: str = Field(min_length=1, repr=False)
    region: Region = "us"
    base_url: str | None = None  # host root; wins over region (tests point it at FakeSinch)
    callback_token: str | None = Field(default=None, repr=False)  # ?token= on our callback URLs
    callback_hmac_secret: str | None = Field(default=None, repr=False)  # Sinch HMAC, if enabled

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"https://{self.region}.sms.api.sinch.com"

    @property
    def batches_url(self) -> str:
        plan = quote(self.service_plan_id, safe="")
        return f"{self.resolved_base_url}/xms/v1/{plan}/batches"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def sinch_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and ``Z``, the way Sinch writes timestamps."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def with_token(url: str, token: str | None) -> str:
    """``url`` with ``?token=`` added, unless it has one already or there is no token."""
    if not token:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "token" for name, _ in query):
        return url
    return urlunsplit(parts._replace(query=urlencode([*query, ("token", token)])))


class SinchProvider:
    """The Sinch adapter: builds the batch, calls the injected client, maps the reply."""

    name = "sinch"
    supports_mms = True  # mt_media, US service plans with MMS enabled
    max_media = 1  # mt_media has one body.url: one media per message

    def __init__(
        self,
        config: SinchConfig,
        client: httpx.AsyncClient,
        *,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.config = config
        self._client = client
        self._timeout = timeout
        self._clock = clock

    async def send(self, sms: OutboundSms) -> SendResult:
        payload = self.build_payload(sms)
        try:
            response = await self._client.post(
                self.config.batches_url,
                json=payload,
                headers=self._headers(),
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise map_transport_error(exc) from None
        return self._read_reply(response)

    def build_payload(self, sms: OutboundSms) -> dict[str, Any]:
        """The JSON body of ``POST …/batches`` for one message to one recipient."""
        payload: dict[str, Any] = {"to": [sms.to], "from": sms.sender}
        payload.update(self._content(sms))
        payload["delivery_report"] = "per_recipient"
        payload["client_reference"] = sms.message_id
        if sms.status_callback_url:
            token = self.config.callback_token
            payload["callback_url"] = with_token(sms.status_callback_url, token)
        if sms.validity_seconds:
            payload["expire_at"] = sinch_timestamp(self._clock() + self._validity(sms))
        return payload

    def redact_values(self) -> list[str]:
        secrets = (self.config.api_token, self.config.callback_token)
        return [value for value in (*secrets, self.config.callback_hmac_secret) if value]

    def parse_status_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        return callbacks.parse_status_callback(self.config, request)

    def parse_inbound_callback(self, request: CallbackRequest) -> list[InboundSms]:
        return callbacks.parse_inbound_callback(self.config, request)

    # --- request ------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_token}", "Accept": "application/json"}

    @staticmethod
    def _content(sms: OutboundSms) -> dict[str, Any]:
        if not sms.media_urls:
            return {"type": "mt_text", "body": sms.body}
        if len(sms.media_urls) > 1:
            raise Rejected("Sinch MMS (mt_media) carries exactly one media URL per message")
        media: dict[str, str] = {"url": sms.media_urls[0]}
        if sms.body:
            media["message"] = sms.body
        return {"type": "mt_media", "body": media}

    @staticmethod
    def _validity(sms: OutboundSms) -> timedelta:
        return min(timedelta(seconds=sms.validity_seconds or 0), MAX_VALIDITY)

    # --- reply --------------------------------------------------------------------------
    def _read_reply(self, response: httpx.Response) -> SendResult:
        if not response.is_success:
            raise _error_for(response)
        batch_id = _json_object(response).get("id")
        if not isinstance(batch_id, str) or not batch_id:
            raise ProviderUnavailable(
                f"Sinch answered HTTP {response.status_code} without a batch id",
                http_status=response.status_code,
            )
        return SendResult(provider_message_id=batch_id)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = json.loads(response.content)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    data = _json_object(response)
    code, text = data.get("code"), data.get("text")
    return (
        code if isinstance(code, str) and code else None,
        text[:_TEXT_LIMIT] if isinstance(text, str) and text else None,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _error_for(response: httpx.Response) -> ProviderError:
    """Exactly one ``ProviderError`` for a non-2xx reply; ``provider_code`` is Sinch's ``code``."""
    status = response.status_code
    code, text = _error_fields(response)
    message = f"Sinch answered HTTP {status}" + (f" {code}" if code else "")
    message += f": {text}" if text else ""
    if status == 429 or status >= 500:
        error = map_http_status(status, message, code)
        error.retry_after = _retry_after(response)
        return error
    if code in _CODE_ERRORS:
        return _CODE_ERRORS[code](message, provider_code=code, http_status=status)
    if status in (401, 403, 404, 405):  # bad token, plan id or base URL
        return ConfigurationError(message, provider_code=code, http_status=status)
    return map_http_status(status, message, code)


__all__ = ["SinchConfig", "SinchProvider", "sinch_timestamp", "with_token"]
