from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lynsms.models.base import Base, UTCDateTime


class IdempotencyKey(Base):
    """The first final response to a request that sent an ``Idempotency-Key``, per API key.

    The row is inserted before the request runs and is its lock: while ``status_code`` is
    NULL the request is running, and ``expires_at`` is the end of its lease. Once stored,
    ``expires_at`` is 24 hours on. A row whose ``expires_at`` has passed may be taken over.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("api_key_id", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(255))  # as the client sent it, quotes removed
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path, query, body
    lock_token: Mapped[str] = mapped_column(String(32))  # the request that holds or held the row
    request_id: Mapped[str] = mapped_column(String(128))  # its X-Request-Id, replayed
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NULL: running
    content_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
