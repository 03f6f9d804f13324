from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class EarlyReport(Base):
    """A delivery report that named a provider id no message carries yet.

    A provider's callback can overtake its own answer to the send: the report is
    kept here and applied by the worker once the send is recorded (or dropped
    after a day, for ids that never become ours).
    """

    __tablename__ = "early_reports"
    __table_args__ = (
        Index("ix_early_reports_provider_message", "provider", "provider_message_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    provider_status: Mapped[str] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
