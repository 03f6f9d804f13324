"""Response shapes of billing."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class BalanceOut(BaseModel):
    object: Literal["balance"] = "balance"
    balance: float
    currency: str
    package_sms_remaining: int
