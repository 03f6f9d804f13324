from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class SinchBatch(Base):
    """A batch sent through the Sinch-compatible API: what Sinch's batch object shows
    beyond its messages. ``id`` is the native bulk id of its messages (``blk_…``).

    ``to`` holds the recipients as given (digits, no ``+``), ``refused`` those the send
    service turned down (opted out: no message, reported ``Rejected``). ``reported`` is set
    once the summary callback of a ``summary``/``full`` batch has been queued.
    """

    __tablename__ = "sinch_batches"
    __table_args__ = (Index("ix_sinch_batches_account_id_mode_id", "account_id", "mode", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    mode: Mapped[str] = mapped_column(String(8))
    sender: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    to: Mapped[list[str]] = mapped_column(JSON)
    refused: Mapped[list[str]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    delivery_report: Mapped[str] = mapped_column(String(24))
    callback_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    client_reference: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expire_at: Mapped[datetime] = mapped_column(UTCDateTime())
    canceled: Mapped[bool] = mapped_column(Boolean, default=False)
    reported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SinchBatchMessage(Base):
    """Which batch a message belongs to (written with the message)."""

    __tablename__ = "sinch_batch_messages"

    # No foreign key: a message deleted through the Twilio dialect leaves its batch.
    message_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("sinch_batches.id"), index=True)
