"""Request and response shapes of sender ids."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from lynsms.accounts.schemas import StrictBody
from lynsms.kit.envelope import ResponseModel

SenderType = Literal["alphanumeric", "long_code", "short_code"]


class SenderCreate(StrictBody):
    sender_id: str = Field(min_length=1, max_length=32, examples=["LynSMS"])
    type: SenderType | None = None
    countries: list[str] = Field(default_factory=list, max_length=250, examples=[["GB", "US"]])


class SenderOut(ResponseModel):
    id: str = Field(examples=["snd_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["sender"] = "sender"
    sender_id: str
    type: SenderType
    status: Literal["pending", "approved", "rejected"]
    countries: list[str]
    created_at: datetime
