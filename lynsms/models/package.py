from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Package(Base):
    """Prepaid SMS (seed 003): ``total_sms`` segments, spent before money until ``expire_at``.

    ``used_sms`` moves in the writer's debit step (and back on refunds); the checks keep it
    within ``0..total_sms`` whatever races. The API calls ``expire_at`` ``expire_date``.
    """

    __tablename__ = "packages"
    __table_args__ = (
        # The send path's lookup: an account's packages, soonest-expiring first.
        Index("ix_packages_account_id_expire_at_id", "account_id", "expire_at", "id"),
        CheckConstraint("total_sms > 0", name="total_sms_positive"),
        CheckConstraint("used_sms >= 0 AND used_sms <= total_sms", name="used_sms_within_total"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # pkg_…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(100))
    total_sms: Mapped[int] = mapped_column(Integer)
    used_sms: Mapped[int] = mapped_column(Integer, default=0)
    expire_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
