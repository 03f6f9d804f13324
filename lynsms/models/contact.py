from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Contact(Base):
    """A person an account sends to, one per account and number. Whether the number opted
    out is not stored here: it is the ``opt_outs`` row of (account, phone), joined on read."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("account_id", "phone", name="uq_contacts_account_phone"),
        Index("ix_contacts_account_id_id", "account_id", "id"),  # newest first, per account
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # ct_…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    phone: Mapped[str] = mapped_column(String(32))  # E.164
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # str|number|bool
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # as given; indexed below
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
