"""Response shapes of billing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class BalanceOut(BaseModel):
    object: Literal["balance"] = "balance"
    balance: float
    currency: str
    package_sms_remaining: int = Field(description="SMS (segments) left in unexpired packages.")


class PackageOut(BaseModel):
    """Prepaid SMS (seed 003), spent segment by segment before money, soonest-expiring first."""

    id: str = Field(examples=["pkg_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["package"] = "package"
    name: str = Field(examples=["100 SMS"])
    total_sms: int
    used_sms: int
    remaining_sms: int
    expire_date: datetime = Field(description="Unusable from this moment on.")
    expired: bool
    created_at: datetime
