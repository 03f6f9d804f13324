"""Event rows: what happened, serialised once as the exact payload webhooks will send.

``event_row`` builds the row for the ``events`` table; callers add it to the
same write (WriteOp or session) as the change it describes, so an event
exists if and only if its change committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table

from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.models import Event

events: Table = Event.__table__  # type: ignore[assignment]

MESSAGE_EVENTS = {
    "scheduled": "message.scheduled",
    "queued": "message.queued",
    "sent": "message.sent",
    "delivered": "message.delivered",
    "undelivered": "message.undelivered",
    "failed": "message.failed",
    "cancelled": "message.cancelled",
    "expired": "message.expired",
    "received": "message.received",
}
TYPES = (
    *MESSAGE_EVENTS.values(),
    "contact.opted_out",
    "campaign.started",
    "campaign.completed",
)


def event_row(
    account_id: str,
    mode: str,
    kind: str,
    data: dict[str, Any],
    *,
    message_id: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    at = at or utcnow()
    event_id = new_id("evt")
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created_at": isoformat(at),
        "data": data,
    }
    return {
        "id": event_id,
        "account_id": account_id,
        "mode": mode,
        "type": kind,
        "message_id": message_id,
        "payload": orjson.dumps(body).decode(),
        "fanned_out": False,
        "created_at": at,
    }


def message_event(
    message: dict[str, Any], account_id: str, at: datetime | None = None
) -> dict[str, Any]:
    """The event for a message that has just reached ``message["status"]``."""
    return event_row(
        account_id,
        message["mode"],
        MESSAGE_EVENTS[message["status"]],
        message,
        message_id=message["id"],
        at=at,
    )
