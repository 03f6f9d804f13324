"""Query and response shapes of usage (API.md §6, §10)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

GroupBy = Literal["day", "provider", "country", "status"]


class UsageFigures(BaseModel):
    messages: int = Field(description="Outbound messages created in the window, any status.")
    segments: int = Field(description="Their segments.")
    cost: float = Field(description="What stays charged: refunded messages count 0.")
    delivered: int = Field(description="Messages delivered.")
    failed: int = Field(description="Messages failed, undelivered or expired.")


class UsageRow(UsageFigures):
    key: str | None = Field(
        description="The UTC day (2026-11-25), provider, ISO country code or status; "
        "null for messages no provider took (provider breakdown only).",
        examples=["2026-11-25"],
    )


class UsageOut(BaseModel):
    object: Literal["usage"] = "usage"
    from_: str = Field(alias="from", description="Start of the window (inclusive), UTC.")
    to: str = Field(description="End of the window (exclusive), UTC.")
    totals: UsageFigures
    breakdown: list[UsageRow]
