from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class LedgerEntry(Base):
    """One movement of an account's money; the balance is the sum of ``amount_units``."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # topup | debit | refund | adjustment
    amount_units: Mapped[int] = mapped_column(BigInteger)  # signed, 1/10,000 of the currency
    reference_id: Mapped[str | None] = mapped_column(String(40), nullable=True)  # msg_/blk_ id
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
