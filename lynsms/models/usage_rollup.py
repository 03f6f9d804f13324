from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class UsageRollup(Base):
    """Messages of one account and environment summed per UTC hour and per UTC day.

    ``bucket`` names the span: ``D2026-11-25`` a whole day, ``H2026-11-25T13`` one hour
    (a day's row is the sum of its hours' rows), so either kind is one index range.
    ``provider`` is "" for messages no provider took. ``cost_units`` is the plain sum
    of the messages' ``cost_units``; what stays charged follows from ``status``.
    ``lynsms.usage.repository`` keeps it and says when it can be trusted.
    """

    __tablename__ = "usage_rollup"

    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger)
    segments: Mapped[int] = mapped_column(BigInteger)
    cost_units: Mapped[int] = mapped_column(BigInteger)


class UsageRollupState(Base):
    """How far the rollup of one account and environment is current: every message
    whose ``updated_at`` is before ``watermark`` less a safety margin is in it."""

    __tablename__ = "usage_rollup_state"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    watermark: Mapped[datetime] = mapped_column(UTCDateTime())


class UsageRollupDirty(Base):
    """An hour whose rollup no longer holds (a message of it was deleted): recomputed on
    the next refresh, read from the messages until then."""

    __tablename__ = "usage_rollup_dirty"

    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    hour: Mapped[str] = mapped_column(String(13), primary_key=True)  # 2026-11-25T13
