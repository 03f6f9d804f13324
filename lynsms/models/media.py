from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Media(Base):
    """An uploaded MMS image (API.md §8, §12): the file is ``<media_dir>/<id>``; the public
    URL names ``token`` (random, 192 bits), never the id alone."""

    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_account_id_id", "account_id", "id"),  # newest first, per account
        Index("uq_media_token", "token", unique=True),  # the public URL's lookup
        Index("ix_media_expires_at", "expires_at"),  # the worker's purge
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # med_…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    mode: Mapped[str] = mapped_column(String(8))  # live | test: the key's environment
    content_type: Mapped[str] = mapped_column(String(32))  # image/jpeg | image/png | image/gif
    size: Mapped[int] = mapped_column(Integer)  # bytes
    token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
