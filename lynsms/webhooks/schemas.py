"""Request and response shapes of webhook endpoints and events."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from lynsms.accounts.schemas import StrictBody
from lynsms.kit.envelope import ResponseModel
from lynsms.webhooks.events import TYPES
from lynsms.webhooks.urls import check_shape

ALL_EVENTS = "*"
MAX_HEADERS = 20
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")  # an HTTP header name (RFC 9110)
# Headers a customer may not set: the transport's own and the signature's.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "user-agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
WebhookFormat = Literal["standard", "lightningmsg"]


class WebhookCreate(StrictBody):
    url: str = Field(max_length=2048, examples=["https://example.com/hooks/lynsms"])
    events: list[str] = Field(
        default_factory=lambda: [ALL_EVENTS],
        min_length=1,
        max_length=len(TYPES) + 1,
        examples=[["message.delivered", "message.failed"]],
        description='Event types to receive, or ["*"] for all.',
    )
    description: str = Field(default="", max_length=500)
    format: WebhookFormat = Field(
        default="standard",
        description='"lightningmsg" sends {sms_id, status, timestamp} for sms.sent/sms.cancelled.',
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="Custom headers sent with every delivery."
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_shape(value.strip())

    @field_validator("events")
    @classmethod
    def _known_events(cls, value: list[str]) -> list[str]:
        unknown = [kind for kind in value if kind != ALL_EVENTS and kind not in TYPES]
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown)}")
        if ALL_EVENTS in value:
            return [ALL_EVENTS]
        return list(dict.fromkeys(value))

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_HEADERS:
            raise ValueError(f"at most {MAX_HEADERS} headers")
        for name, text in value.items():
            if not _TOKEN.match(name) or name.lower() in RESERVED_HEADERS:
                raise ValueError(f"'{name}' cannot be used as a header name")
            if len(text) > 1000 or any(ord(c) < 32 or ord(c) == 127 for c in text):
                raise ValueError(f"the value of '{name}' is not a valid header value")
        return value


class WebhookOut(ResponseModel):
    id: str = Field(examples=["whk_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    mode: Literal["live", "test"]
    format: WebhookFormat
    secret_hint: str = Field(description="The last characters of the signing secret.")
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret (whsec_…), for Standard Webhooks verification. Shown once."
    )


class AttemptOut(ResponseModel):
    at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(ResponseModel):
    webhook_id: str
    status: Literal["pending", "succeeded", "failed"]
    next_attempt_at: datetime | None
    attempts: list[AttemptOut]


class EventOut(ResponseModel):
    id: str = Field(examples=["evt_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["event"] = "event"
    type: str = Field(examples=["message.delivered"])
    created_at: datetime
    data: dict[str, Any]


class EventDetailOut(EventOut):
    deliveries: list[DeliveryOut]
