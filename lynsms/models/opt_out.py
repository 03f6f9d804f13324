from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class OptOut(Base):
    """A number that asked an account to stop sending to it (one fact per account and number)."""

    __tablename__ = "opt_outs"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), primary_key=True)  # E.164
    source: Mapped[str] = mapped_column(String(32))  # inbound:<provider> | api
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
