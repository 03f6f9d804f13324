from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class Event(Base):
    """Something that happened to an account's object, written in the same transaction.

    ``payload`` is the event exactly as webhooks send it (serialised once, so the bytes
    signed and sent are the bytes stored). ``fanned_out`` turns true once a worker has
    created the deliveries for the account's matching endpoints (the outbox flag).
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_account_id_id", "account_id", "id"),
        Index("ix_events_account_id_type_id", "account_id", "type", "id"),
        Index("ix_events_message_id", "message_id"),
        Index("ix_events_fanned_out", "fanned_out", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # evt_…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    mode: Mapped[str] = mapped_column(String(8))  # live | test
    type: Mapped[str] = mapped_column(String(40))  # message.sent, contact.opted_out, …
    message_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # {"id","object","type","created_at","data"}
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
