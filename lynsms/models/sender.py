from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Sender(Base):
    __tablename__ = "senders"
    __table_args__ = (
        UniqueConstraint("account_id", "sender_id", name="uq_senders_account_sender"),
        Index("ix_senders_sender_id", "sender_id"),  # whose number an inbound message reached
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    sender_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(16))  # alphanumeric | long_code | short_code
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
