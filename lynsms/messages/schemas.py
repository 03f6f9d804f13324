"""Request and response shapes of messages (API.md §3)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lynsms.accounts.schemas import StrictBody

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


class SendRequest(SendOptions):
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"examples": [_EXAMPLE_SEND]}
    )

    to: str = Field(description="Recipient in E.164, e.g. +12025550143.")
    body: str = Field(description="Up to 1,600 characters; long messages are segmented.")


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


class MessageError(BaseModel):
    code: str
    message: str


class MessageOut(BaseModel):
    id: str = Field(examples=["msg_VyB2pNkX0wnA9aTrLqDh1Z3Fc"])
    object: Literal["message"] = "message"
    direction: Literal["outbound", "inbound"]
    mode: Literal["live", "test"]
    to: str
    from_: str = Field(alias="from")
    body: str
    reference: str | None
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


class BulkItemOut(BaseModel):
    id: str | None
    to: str
    status: str
    cost: float
    error: MessageError | None


class BulkResultOut(BaseModel):
    id: str = Field(examples=["blk_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["bulk_result"] = "bulk_result"
    total: int
    sent: int
    failed: int
    queued: int
    scheduled: int
    messages: list[BulkItemOut]
