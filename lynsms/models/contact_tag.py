from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base


class ContactTag(Base):
    """One tag of one contact: the index behind ``?tag=`` and tag audiences. The contact's
    ``tags`` column keeps the list as given; both are written together."""

    __tablename__ = "contact_tags"
    __table_args__ = (Index("ix_contact_tags_account_id_tag", "account_id", "tag", "contact_id"),)

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
