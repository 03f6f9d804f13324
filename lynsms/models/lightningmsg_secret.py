from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class LightningmsgSecret(Base):
    """An account's LightningMSG ``secret_code`` (API.md §11), as its SHA-256 hash only.

    ``lynsms accounts secret ACCOUNT_ID`` replaces it (the raw code is printed once).
    """

    __tablename__ = "lightningmsg_secrets"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
