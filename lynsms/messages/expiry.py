"""Validity: a message still queued when its ``expire_at`` passes becomes ``expired``, refunded."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing import service as billing_service
from lynsms.kit.clock import utcnow
from lynsms.kit.metrics import STATUS_CHANGES
from lynsms.messages import status as st
from lynsms.messages.repository import MessageRepository
from lynsms.messages.views import message_to_dict
from lynsms.webhooks.events import message_event

EXPIRED_ERROR = ("expired", "The message's validity ran out before a provider took it.")


async def expire_due(session: AsyncSession, limit: int = 500) -> int:
    """Expire what is due; returns how many messages expired."""
    repository = MessageRepository(session)
    now = utcnow()
    rows = await repository.lock_expired(now, limit)
    moves = [
        {
            "p_id": row["id"],
            "p_from": st.QUEUED,
            "p_status": st.EXPIRED,
            "p_error_code": EXPIRED_ERROR[0],
            "p_error_message": EXPIRED_ERROR[1],
            "p_delivered_at": None,
            "p_updated_at": now,
        }
        for row in rows
    ]
    await repository.move_many(moves)
    changes = []
    for row in rows:
        row.update(
            status=st.EXPIRED,
            error_code=EXPIRED_ERROR[0],
            error_message=EXPIRED_ERROR[1],
            updated_at=now,
        )
        changes.append(message_event(message_to_dict(row), row["account_id"], now))
    await repository.add_events(changes)
    for row in rows:
        if row["mode"] == "live":
            await billing_service.refund(session, row["account_id"], row["cost_units"], row["id"])
    if rows:
        STATUS_CHANGES.labels(st.EXPIRED).inc(len(rows))
    return len(rows)
