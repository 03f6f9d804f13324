"""All SQL about webhook endpoints, events, deliveries and attempts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Table,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.dialects.twilio.callbacks import FORMAT as TWILIO_FORMAT
from lynsms.models import (
    SinchBatch,
    SinchBatchMessage,
    TwilioStatusCallback,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from lynsms.webhooks.events import events

endpoints: Table = WebhookEndpoint.__table__  # type: ignore[assignment]
deliveries: Table = WebhookDelivery.__table__  # type: ignore[assignment]
attempts: Table = WebhookAttempt.__table__  # type: ignore[assignment]
status_callbacks: Table = TwilioStatusCallback.__table__  # type: ignore[assignment]
sinch_batches: Table = SinchBatch.__table__  # type: ignore[assignment]
sinch_batch_messages: Table = SinchBatchMessage.__table__  # type: ignore[assignment]
w, d, a, ev, cb = endpoints.c, deliveries.c, attempts.c, events.c, status_callbacks.c
sb, sbm = sinch_batches.c, sinch_batch_messages.c
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# The Twilio dialect's per-account endpoints carry StatusCallbacks, the Sinch dialect's
# its batches' callbacks; they are not listed.
HIDDEN_FORMAT = TWILIO_FORMAT
SINCH_FORMAT = "sinch"  # lynsms.dialects.sinch.callbacks.FORMAT
HIDDEN_FORMATS = (HIDDEN_FORMAT, SINCH_FORMAT)

# The outcome of one delivery (executemany); never moves a delivery that is no longer pending.
RECORD_DELIVERY = (
    update(deliveries)
    .where(d.id == bindparam("p_id"), d.status == PENDING)
    .values(
        status=bindparam("p_status"),
        attempts=bindparam("p_attempts"),
        next_attempt_at=bindparam("p_next_attempt_at"),
        updated_at=bindparam("p_updated_at"),
        locked_until=None,
    )
)


def _is_postgresql(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class EndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, endpoint: WebhookEndpoint) -> None:
        self.session.add(endpoint)
        await self.session.flush()

    async def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        result = await self.session.execute(
            select(WebhookEndpoint).where(
                WebhookEndpoint.id == endpoint_id,
                WebhookEndpoint.account_id == account_id,
                WebhookEndpoint.deleted_at.is_(None),
                WebhookEndpoint.format.not_in(HIDDEN_FORMATS),
            )
        )
        return result.scalar_one_or_none()

    async def page(
        self, account_id: str, offset: int, limit: int
    ) -> tuple[list[WebhookEndpoint], int]:
        where = and_(
            WebhookEndpoint.account_id == account_id,
            WebhookEndpoint.deleted_at.is_(None),
            WebhookEndpoint.format.not_in(HIDDEN_FORMATS),
        )
        total = await self.session.scalar(
            select(func.count()).select_from(WebhookEndpoint).where(where)
        )
        rows = await self.session.execute(
            select(WebhookEndpoint)
            .where(where)
            .order_by(WebhookEndpoint.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows.scalars()), int(total or 0)


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self, account_id: str, mode: str, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[list[str], int]:
        """Payloads of the account's events in ``mode``, newest first, and their total."""
        where = and_(ev.account_id == account_id, ev.mode == mode, *_event_conditions(filters))
        total = await self.session.scalar(select(func.count()).select_from(events).where(where))
        rows = await self.session.execute(
            select(ev.payload).where(where).order_by(ev.id.desc()).offset(offset).limit(limit)
        )
        return list(rows.scalars()), int(total or 0)

    async def payload(self, account_id: str, mode: str, event_id: str) -> str | None:
        found: str | None = await self.session.scalar(
            select(ev.payload).where(
                ev.id == event_id, ev.account_id == account_id, ev.mode == mode
            )
        )
        return found

    async def deliveries(self, event_id: str) -> Sequence[RowMapping]:
        result = await self.session.execute(
            select(d.id, d.endpoint_id, d.status, d.next_attempt_at)
            .where(d.event_id == event_id)
            .order_by(d.id)
        )
        return result.mappings().all()

    async def attempts(self, delivery_ids: list[int]) -> Sequence[RowMapping]:
        if not delivery_ids:
            return []
        result = await self.session.execute(
            select(a.delivery_id, a.created_at, a.status_code, a.latency_ms, a.error)
            .where(a.delivery_id.in_(delivery_ids))
            .order_by(a.id)
        )
        return result.mappings().all()


def _event_conditions(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.get("type") is not None:
        conditions.append(ev.type == filters["type"])
    if filters.get("message_id") is not None:
        conditions.append(ev.message_id == filters["message_id"])
    if filters.get("created_after") is not None:
        conditions.append(ev.created_at >= filters["created_after"])
    if filters.get("created_before") is not None:
        conditions.append(ev.created_at < filters["created_before"])
    return conditions


class FanOutRepository:
    """The outbox side: events not yet turned into deliveries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def any_pending(self) -> bool:
        found = await self.session.scalar(select(ev.id).where(ev.fanned_out == false()).limit(1))
        return found is not None

    async def skip_unwatched(self) -> int:
        """Mark fanned out, in one statement, the events of accounts with no live endpoint
        (most traffic): nothing to deliver, no row to read."""
        watched = select(w.account_id).where(w.enabled == true(), w.deleted_at.is_(None))
        result = await self.session.execute(
            update(events)
            .where(ev.fanned_out == false(), ev.account_id.not_in(watched.scalar_subquery()))
            .values(fanned_out=True)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def lock_pending(self, limit: int) -> Sequence[RowMapping]:
        """Up to ``limit`` events awaiting fan-out, locked (skipping others' on PostgreSQL)."""
        query = (
            select(ev.id, ev.account_id, ev.mode, ev.type, ev.message_id, ev.created_at)
            .where(ev.fanned_out == false())
            .order_by(ev.id)
            .limit(limit)
        )
        if _is_postgresql(self.session):
            query = query.with_for_update(skip_locked=True)
        result = await self.session.execute(query)
        return result.mappings().all()

    async def live_endpoints(self, account_ids: list[str]) -> Sequence[RowMapping]:
        """The enabled, not deleted endpoints of these accounts."""
        result = await self.session.execute(
            select(w.id, w.account_id, w.mode, w.events, w.format, w.created_at).where(
                w.account_id.in_(account_ids), w.enabled == true(), w.deleted_at.is_(None)
            )
        )
        return result.mappings().all()

    async def with_status_callback(self, message_ids: list[str]) -> frozenset[str]:
        """Those of ``message_ids`` that were sent with a Twilio StatusCallback."""
        if not message_ids:
            return frozenset()
        found = await self.session.scalars(
            select(cb.message_id).where(cb.message_id.in_(message_ids))
        )
        return frozenset(found)

    async def add_deliveries(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(deliveries.insert(), rows)

    async def mark_fanned_out(self, event_ids: list[str]) -> None:
        if event_ids:
            await self.session.execute(
                update(events).where(ev.id.in_(event_ids)).values(fanned_out=True)
            )


class DeliveryRepository:
    """The delivery side: due deliveries, their attempts, and endpoint health."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def any_due(self, now: datetime) -> bool:
        found = await self.session.scalar(select(d.id).where(*_due(now)).limit(1))
        return found is not None

    async def next_due(self, now: datetime) -> datetime | None:
        """When the next pending delivery falls due (after ``now``), if any."""
        when: datetime | None = await self.session.scalar(
            select(func.min(d.next_attempt_at)).where(d.status == PENDING, d.next_attempt_at > now)
        )
        return when

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[RowMapping]:
        """Take up to ``limit`` due deliveries under a lease; each with its event and endpoint."""
        due = select(d.id).where(*_due(now)).order_by(d.next_attempt_at).limit(limit)
        if _is_postgresql(self.session):
            due = due.with_for_update(skip_locked=True)
        claimed = await self.session.execute(
            update(deliveries)
            .where(d.id.in_(due.scalar_subquery()))
            .values(locked_until=lease_until)
            .returning(d.id)
        )
        ids = list(claimed.scalars())
        return await self._jobs(ids) if ids else []

    async def _jobs(self, delivery_ids: list[int]) -> Sequence[RowMapping]:
        result = await self.session.execute(
            select(
                d.id,
                d.attempts,
                d.event_id,
                ev.type.label("event_type"),
                ev.payload,
                ev.created_at.label("event_created_at"),
                ev.account_id,
                d.endpoint_id,
                w.url,
                w.format,
                w.headers,
                w.enabled,
                w.deleted_at,
                w.failing_since,
                cb.url.label("callback_url"),
                cb.sealed_token,
                sb.callback_url.label("sinch_callback_url"),
            )
            .join(events, ev.id == d.event_id)
            .join(endpoints, w.id == d.endpoint_id)
            .outerjoin(  # a twilio endpoint's URL is the message's own StatusCallback
                status_callbacks,
                and_(w.format == HIDDEN_FORMAT, cb.message_id == ev.message_id),
            )
            .outerjoin(  # a sinch endpoint's URL is the batch's own callback_url
                sinch_batch_messages,
                and_(w.format == SINCH_FORMAT, sbm.message_id == ev.message_id),
            )
            .outerjoin(sinch_batches, sb.id == sbm.batch_id)
            .where(d.id.in_(delivery_ids))
            .order_by(d.id)
        )
        return result.mappings().all()

    async def add_attempts(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(attempts.insert(), rows)

    async def record(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(RECORD_DELIVERY, rows)

    async def mark_healthy(self, endpoint_ids: list[str]) -> None:
        if endpoint_ids:
            await self.session.execute(
                update(endpoints).where(w.id.in_(endpoint_ids)).values(failing_since=None)
            )

    async def mark_failing(self, endpoint_ids: list[str], now: datetime) -> None:
        """Start the failure clock of these endpoints (kept if already running)."""
        if endpoint_ids:
            await self.session.execute(
                update(endpoints)
                .where(w.id.in_(endpoint_ids), w.failing_since.is_(None))
                .values(failing_since=now)
            )

    async def disable(self, endpoint_id: str, reason: str, now: datetime) -> None:
        await self.session.execute(
            update(endpoints)
            .where(w.id == endpoint_id)
            .values(enabled=False, disabled_reason=reason[:200])
        )
        await self.fail_pending([endpoint_id], now)

    async def fail_pending(self, endpoint_ids: list[str], now: datetime) -> None:
        """Give up every pending delivery of these endpoints."""
        if endpoint_ids:
            await self.session.execute(
                update(deliveries)
                .where(d.endpoint_id.in_(endpoint_ids), d.status == PENDING)
                .values(status=FAILED, next_attempt_at=None, locked_until=None, updated_at=now)
            )


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        d.status == PENDING,
        d.next_attempt_at <= now,
        or_(d.locked_until.is_(None), d.locked_until < now),
    )
