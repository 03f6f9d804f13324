from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class TwilioStatusCallback(Base):
    """The ``StatusCallback`` a message was sent with through the Twilio-compatible API.

    Written in the same transaction as the message, so every status change of the message
    finds it. ``sealed_token`` is the API key the message was sent with (Twilio's auth
    token: it keys ``X-Twilio-Signature``), encrypted with a key derived from the server's
    secret key; keys themselves are stored only as hashes.
    """

    __tablename__ = "twilio_status_callbacks"

    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    sealed_token: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
