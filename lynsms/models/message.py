from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_account_id_id", "account_id", "id"),
        Index("ix_messages_account_id_to_number", "account_id", "to_number"),
        Index("ix_messages_account_id_reference", "account_id", "reference"),
        Index("ix_messages_provider_message", "provider", "provider_message_id"),
        Index("ix_messages_due", "status", "next_attempt_at"),
        # GET /usage reads one range of an account's environment by created_at. PostgreSQL
        # also holds what the aggregate reads (index-only scans; its status updates touch
        # every index anyway); SQLite keeps the index narrow, so updates never touch it.
        Index(
            "ix_messages_usage",
            "account_id",
            "mode",
            "direction",
            "created_at",
            postgresql_include=["status", "provider", "country", "segments", "cost_units"],
        ),
        # A bulk's or a campaign's messages by status: campaign stats and progress.
        Index(
            "ix_messages_bulk_id_status",
            "bulk_id",
            "status",
            sqlite_where=text("bulk_id IS NOT NULL"),
            postgresql_where=text("bulk_id IS NOT NULL"),
        ),
        # The usage rollup (lynsms.usage.repository) finds the days whose messages changed.
        Index("ix_messages_changes", "account_id", "mode", "updated_at", "created_at"),
        # A provider retrying an inbound callback must not store the message twice.
        Index(
            "uq_messages_inbound",
            "provider",
            "provider_message_id",
            unique=True,
            sqlite_where=text("direction = 'inbound'"),
            postgresql_where=text("direction = 'inbound'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    api_key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    mode: Mapped[str] = mapped_column(String(8))  # live | test
    direction: Mapped[str] = mapped_column(String(8))  # outbound | inbound
    to_number: Mapped[str] = mapped_column(String(32))
    from_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # see lynsms.messages.status
    encoding: Mapped[str] = mapped_column(String(8))
    segments: Mapped[int] = mapped_column(Integer)
    cost_units: Mapped[int] = mapped_column(BigInteger)  # 1/10,000 of the currency
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    provider: Mapped[str | None] = mapped_column(String(16), nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    route_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    requested_provider: Mapped[str | None] = mapped_column(String(16), nullable=True)
    requested_route_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    bulk_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # When the dispatcher next has work on this message: send_at (scheduled), the next try
    # (queued), the simulated delivery report (sent through the simulator); else NULL.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # While set and in the future, one dispatcher (a request or a worker) owns the message.
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Media and MMS (API.md §8): "sms" or "mms"; an MMS's media as a JSON list of public URLs
    # (what the provider fetches), NULL for an SMS.
    type: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    media_urls: Mapped[str | None] = mapped_column(Text, nullable=True)
