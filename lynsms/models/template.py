from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Template(Base):
    """A message body with ``{{variable}}`` placeholders; its variables are derived from it."""

    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("account_id", "name", name="uq_templates_account_name"),
        Index("ix_templates_account_id_id", "account_id", "id"),  # newest first, per account
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # tpl_…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(64))  # [a-z0-9_]{1,64}
    body: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
