"""Request and response shapes of messages (API.md §3)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from lynsms.accounts.schemas import StrictBody
from lynsms.kit.envelope import ResponseModel
from lynsms.templates.schemas import Variables

_EXAMPLE_SEND: dict[str, Any] = {
    "to": "+12025550143",
    "from": "LynSMS",
    "body": "Your verification code is 482194",
    "reference": "signup-9214",
}


class SendOptions(StrictBody):
    """Fields a single send and a bulk share."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", max_length=32, description="An approved sender id.")
    route_id: int | None = Field(default=None, description="Force a route.")
    provider: str | None = Field(
        default=None, description="Preferred provider: twilio, sinch, infobip, clicksend."
    )
    reference: str | None = Field(default=None, max_length=128, description="Echoed in webhooks.")
    send_at: str | None = Field(default=None, description="ISO-8601; schedules the message.")
    expire_at: str | None = Field(
        default=None, description="ISO-8601; undelivered after it → expired."
    )
    validity_period: int | None = Field(
        default=None, ge=60, le=604_800, description="Seconds the message may wait (default 48 h)."
    )
    template_id: str | None = Field(
        default=None, max_length=32, description="Send this template instead of a body."
    )
    template_name: str | None = Field(
        default=None, max_length=64, description="Or the template by its name."
    )
    variables: Variables | None = Field(
        default=None, max_length=1000, description="Values of the template's {{variables}}."
    )
    media_ids: list[str] | None = Field(
        default=None,
        max_length=10,
        description="Uploaded media (med_…): makes the message an MMS (US and CA numbers only).",
    )
    media_urls: list[str] | None = Field(
        default=None,
        max_length=10,
        description="Public http(s) URLs of media: makes the message an MMS (US and CA only).",
    )


class SendRequest(SendOptions):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"examples": [_EXAMPLE_SEND]}
    )

    to: str = Field(description="Recipient in E.164, e.g. +12025550143.")
    body: str | None = Field(
        default=None,
        description="Up to 1,600 characters; long messages are segmented. Required unless "
        "template_id or template_name is given.",
    )


class BulkItem(StrictBody):
    to: str
    body: str | None = None
    reference: str | None = Field(default=None, max_length=128)
    send_at: str | None = None


class BulkRequest(SendOptions):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "from": "LynSMS",
                    "recipients": ["+12025550143", "+447700900100", "+4748640969"],
                    "body": "Tickets for tonight are still available — bit.ly/lens-friday",
                }
            ]
        },
    )

    recipients: list[str] | None = Field(default=None, description="1–1,000 numbers.")
    messages: list[BulkItem] | None = Field(default=None, description="1–1,000 messages.")
    body: str | None = None


# Seed 001's response to its own example, every field shown.
_EXAMPLE_MESSAGE: dict[str, Any] = {
    "id": "msg_VyB2pNkX0wnA9aTrLqDh1Z3Fc",
    "object": "message",
    "direction": "outbound",
    "mode": "live",
    **{key: _EXAMPLE_SEND[key] for key in ("to", "from", "body", "reference")},
    "type": "sms",
    "media_urls": [],
    "status": "sent",
    "encoding": "GSM-7",
    "segments": 1,
    "cost": 0.05,
    "currency": "USD",
    "provider": "twilio",
    "provider_message_id": "SM3f2c9a0e5b7d4c1f8e6a2b9d0c3f7e1a",
    "route_id": 1,
    "attempts": 1,
    "error": None,
    "created_at": "2026-05-12T11:34:21+00:00",
    "send_at": None,
    "sent_at": "2026-05-12T11:34:21+00:00",
    "delivered_at": None,
    "expire_at": "2026-05-14T11:34:21+00:00",
}
# Seed 001's bulk response, every field shown.
_EXAMPLE_BULK: dict[str, Any] = {
    "id": "blk_0Ut8kQzAbCdEfGhIjKlMnOpQr",
    "object": "bulk_result",
    "total": 3,
    "sent": 3,
    "failed": 0,
    "queued": 0,
    "scheduled": 0,
    "messages": [
        {"id": f"msg_{suffix}", "to": to, "status": "sent", "cost": 0.05, "error": None}
        for suffix, to in (
            ("VyB2pNkX0wnA9aTrLqDh1Z3Fc", "+12025550143"),
            ("VyB2pNkX1sQe4LmYb8RtUa6Hd", "+447700900100"),
            ("VyB2pNkX2cWz7PoKj3NvGe0Ti", "+4748640969"),
        )
    ],
}


class MessageError(ResponseModel):
    code: str
    message: str


class MessageOut(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_MESSAGE]})

    id: str = Field(examples=["msg_VyB2pNkX0wnA9aTrLqDh1Z3Fc"])
    object: Literal["message"] = "message"
    direction: Literal["outbound", "inbound"]
    mode: Literal["live", "test"]
    to: str
    from_: str = Field(alias="from")
    body: str
    reference: str | None
    type: Literal["sms", "mms"] = Field(description="mms when the message carries media.")
    media_urls: list[str] = Field(description="The media an MMS carries (public URLs).")
    status: Literal[
        "scheduled",
        "queued",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "expired",
        "cancelled",
        "received",
    ]
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    cost: float
    currency: str
    provider: str | None
    provider_message_id: str | None
    route_id: int | None
    attempts: int
    error: MessageError | None
    created_at: str
    send_at: str | None
    sent_at: str | None
    delivered_at: str | None
    expire_at: str | None


class BulkItemOut(ResponseModel):
    id: str | None
    to: str
    status: str
    cost: float
    error: MessageError | None


class BulkResultOut(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE_BULK]})

    id: str = Field(examples=["blk_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["bulk_result"] = "bulk_result"
    total: int
    sent: int
    failed: int
    queued: int
    scheduled: int
    messages: list[BulkItemOut]
