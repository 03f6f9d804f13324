"""Sender ids: registration (pending), operator approval, and the approval check of live sends."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.database import Database
from lynsms.exceptions import Conflict, NotFound, ValidationFailed
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.phones import normalise, sender_type
from lynsms.models import Sender
from lynsms.senders.repository import SenderRepository
from lynsms.senders.schemas import SenderCreate


def canonical(sender_id: str) -> tuple[str, str]:
    """``(normalised sender, type)``; raises ``invalid_sender``."""
    kind = sender_type(sender_id)
    if kind is None:
        raise ValidationFailed(
            "'from' must be up to 11 letters/digits with at least one letter, an E.164 long code "
            "or a 3-8 digit short code.",
            code="invalid_sender",
            param="from",
        )
    return (normalise(sender_id) if kind == "long_code" else sender_id), kind


async def register(session: AsyncSession, account_id: str, spec: SenderCreate) -> Sender:
    try:
        value, kind = canonical(spec.sender_id)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code="invalid_sender", param="sender_id") from exc
    if spec.type is not None and spec.type != kind:
        raise ValidationFailed(f"'{spec.sender_id}' is a {kind}, not a {spec.type}.", param="type")
    repository = SenderRepository(session)
    if await repository.find(account_id, value) is not None:
        raise Conflict(
            f"Sender '{value}' is already registered.", code="sender_exists", param="sender_id"
        )
    sender = Sender(
        id=new_id("snd"),
        account_id=account_id,
        sender_id=value,
        type=kind,
        status="pending",
        countries=[c.upper() for c in spec.countries],
        created_at=utcnow(),
    )
    await repository.add(sender)
    return sender


async def approve(session: AsyncSession, account_id: str, sender_id: str) -> Sender:
    """Operator approval; creates the sender approved when it does not exist."""
    value, kind = canonical(sender_id)
    repository = SenderRepository(session)
    sender = await repository.find(account_id, value)
    if sender is None:
        sender = Sender(
            id=new_id("snd"),
            account_id=account_id,
            sender_id=value,
            type=kind,
            status="approved",
            countries=[],
            created_at=utcnow(),
        )
        await repository.add(sender)
    sender.status = "approved"
    await session.flush()
    return sender


async def get(session: AsyncSession, account_id: str, sender_pk: str) -> Sender:
    sender = await SenderRepository(session).get(account_id, sender_pk)
    if sender is None:
        raise NotFound(f"No sender {sender_pk}.", param="id")
    return sender


async def list_senders(
    session: AsyncSession, account_id: str, offset: int, limit: int
) -> tuple[list[Sender], int]:
    return await SenderRepository(session).list(account_id, offset, limit)


class ApprovalCache:
    """Remembers approved senders for a few seconds (approval is immediate; a rejection
    takes effect within ``ttl``). Unapproved answers are never cached."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._approved: dict[tuple[str, str], float] = {}

    async def is_approved(self, database: Database, account_id: str, sender: str) -> bool:
        key = (account_id, sender)
        seen = self._approved.get(key)
        if seen is not None and time.monotonic() - seen < self.ttl:
            return True
        async with database.read_sessions() as session:
            approved = await SenderRepository(session).is_approved(account_id, sender)
        if approved:
            self._approved[key] = time.monotonic()
        return approved


def sender_to_dict(sender: Sender) -> dict[str, Any]:
    return {
        "id": sender.id,
        "object": "sender",
        "sender_id": sender.sender_id,
        "type": sender.type,
        "status": sender.status,
        "countries": list(sender.countries or []),
        "created_at": isoformat(sender.created_at),
    }
