from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Campaign(Base):
    """One message to many contacts (API.md §8). After launch its audience is frozen in
    ``campaign_recipients`` and paid for; the worker turns recipients into messages in
    ``seq`` order, ``cursor`` being the next ``seq`` to expand."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_account_id_id", "account_id", "id"),  # newest first, per account
        Index("ix_campaigns_due", "status", "next_run_at"),  # the worker's claim
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # cmp_…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    mode: Mapped[str] = mapped_column(String(8))  # live | test, of the key that created it
    api_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # who launched
    name: Mapped[str] = mapped_column(String(200))
    from_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    template_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    audience: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # draft|scheduled|running|completed|cancelled
    currency: Mapped[str] = mapped_column(String(3))
    # Frozen at launch: the audience's size, and what launch settled without a message.
    total: Mapped[int] = mapped_column(Integer, default=0)
    skipped_opted_out: Mapped[int] = mapped_column(Integer, default=0)
    failed_at_launch: Mapped[int] = mapped_column(Integer, default=0)  # e.g. missing variable
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # paid for, to expand
    cursor: Mapped[int] = mapped_column(Integer, default=0)  # recipients seq < cursor are done
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)  # cancelled before expansion
    reserved_units: Mapped[int] = mapped_column(BigInteger, default=0)  # money taken at launch
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CampaignRecipient(Base):
    """One paid-for message of a launched campaign, rendered at launch. ``id`` is the id
    of the message it becomes (and the reference of the package SMS it took), so a
    recipient can never become two messages."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (Index("uq_campaign_recipients_seq", "campaign_id", "seq", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # msg_…
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    body: Mapped[str] = mapped_column(Text)
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
    cost_units: Mapped[int] = mapped_column(BigInteger)  # money reserved (after packages)
