from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class PackageUse(Base):
    """``sms`` segments of one message covered by one package; a refund gives them back once."""

    __tablename__ = "package_uses"
    __table_args__ = (Index("ix_package_uses_message_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"))
    message_id: Mapped[str] = mapped_column(String(32))  # msg_… (like a ledger reference)
    sms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
