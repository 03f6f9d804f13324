"""Response shapes of billing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from lynsms.kit.envelope import ResponseModel


class BalanceOut(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "object": "balance",
                    "balance": 9.95,
                    "currency": "USD",
                    "package_sms_remaining": 0,
                }
            ]
        }
    )

    object: Literal["balance"] = "balance"
    balance: float
    currency: str
    package_sms_remaining: int = Field(description="SMS (segments) left in unexpired packages.")


class PackageOut(ResponseModel):
    """Prepaid SMS (seed 003), spent segment by segment before money, soonest-expiring first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "pkg_0Ut8kQzAbCdEfGhIjKlMnOpQr",
                    "object": "package",
                    "name": "100 SMS",
                    "total_sms": 100,
                    "used_sms": 0,
                    "remaining_sms": 100,
                    "expire_date": "2026-12-01T18:59:23+00:00",
                    "expired": False,
                    "created_at": "2026-11-01T18:59:23+00:00",
                }
            ]
        }
    )

    id: str = Field(examples=["pkg_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["package"] = "package"
    name: str = Field(examples=["100 SMS"])
    total_sms: int
    used_sms: int
    remaining_sms: int
    expire_date: datetime = Field(description="Unusable from this moment on.")
    expired: bool
    created_at: datetime
