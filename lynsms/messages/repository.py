"""All SQL about messages and their attempts."""

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
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.messages import status as st
from lynsms.models import EarlyReport, Message, MessageAttempt
from lynsms.usage.repository import ALL_TIME, ROLLED_FILTERS, UsageRepository
from lynsms.webhooks.events import events

messages: Table = Message.__table__  # type: ignore[assignment]
attempts: Table = MessageAttempt.__table__  # type: ignore[assignment]
m = messages.c
early_reports: Table = EarlyReport.__table__  # type: ignore[assignment]
er = early_reports.c

# Group-commit statements (executemany). Parameters are prefixed ``p_`` because SQLAlchemy
# reserves bare column names for the SET clause.
RECORD_DISPATCH = (
    update(messages)
    .where(m.id == bindparam("p_id"), or_(m.status == st.QUEUED, m.status == st.SCHEDULED))
    .values(
        status=bindparam("p_status"),
        provider=bindparam("p_provider"),
        provider_message_id=bindparam("p_provider_message_id"),
        route_id=bindparam("p_route_id"),
        attempts=bindparam("p_attempts"),
        error_code=bindparam("p_error_code"),
        error_message=bindparam("p_error_message"),
        sent_at=bindparam("p_sent_at"),
        next_attempt_at=bindparam("p_next_attempt_at"),
        updated_at=bindparam("p_updated_at"),
        locked_until=None,
    )
)

# Give back a claimed message nobody started (a worker stopping): due again at once.
RELEASE = (
    update(messages)
    .where(m.id == bindparam("p_id"), m.status == st.QUEUED)
    .values(locked_until=None)
)

# Compare-and-set move of one message (executemany): only from the status it was read in.
MOVE = (
    update(messages)
    .where(m.id == bindparam("p_id"), m.status == bindparam("p_from"))
    .values(
        status=bindparam("p_status"),
        error_code=bindparam("p_error_code"),
        error_message=bindparam("p_error_message"),
        delivered_at=bindparam("p_delivered_at"),
        next_attempt_at=None,
        updated_at=bindparam("p_updated_at"),
    )
)


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self, account_id: str, message_id: str, mode: str | None = None
    ) -> RowMapping | None:
        """The account's message; with ``mode``, only if it is of that mode (a test key
        never sees live messages, nor a live key test ones)."""
        query = select(messages).where(m.id == message_id, m.account_id == account_id)
        if mode is not None:
            query = query.where(m.mode == mode)
        return (await self.session.execute(query)).mappings().first()

    async def page(
        self, account_id: str, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[Sequence[RowMapping], int]:
        where = and_(m.account_id == account_id, *_conditions(filters))
        total = await self._count(account_id, filters)
        if total is None:
            total = await self.session.scalar(
                select(func.count()).select_from(messages).where(where)
            )
        rows = await self.session.execute(
            select(messages).where(where).order_by(m.id.desc()).offset(offset).limit(limit)
        )
        return rows.mappings().all(), int(total or 0)

    async def _count(self, account_id: str, filters: dict[str, Any]) -> int | None:
        """The exact count from the usage rollup, when it holds every filter (status,
        provider, direction, dates, in one environment); else None."""
        rolled = {name: filters[name] for name in ROLLED_FILTERS if name in filters}
        unrolled = set(filters) - {*rolled, *_WINDOW, "mode"}
        if "mode" not in filters or unrolled or "" in rolled.values():  # "": no provider
            return None
        start, end = ALL_TIME
        return await UsageRepository(self.session).count(
            account_id,
            filters["mode"],
            rolled,
            filters.get("created_after") or start,
            filters.get("created_before") or end,
        )

    async def lock_by_provider_ids(self, provider: str, ids: list[str]) -> Sequence[RowMapping]:
        """The messages a provider's ids name, locked for this transaction (PostgreSQL; on
        SQLite the write transaction holds the database lock already)."""
        query = select(messages).where(m.provider == provider, m.provider_message_id.in_(ids))
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.mappings().all()

    async def move_many(self, moves: list[dict[str, Any]]) -> None:
        if moves:
            await self.session.execute(MOVE, moves)

    async def insert_inbound(self, row: dict[str, Any]) -> bool:
        """Store an inbound message; False when the provider already delivered it."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(messages.insert(), row)
        except IntegrityError:
            return False
        return True

    async def keep_early_reports(self, rows: list[dict[str, Any]]) -> None:
        await self.session.execute(early_reports.insert(), rows)

    async def any_early_work(self, expired_before: datetime) -> bool:
        """Whether a kept report can be applied now, or has waited too long (a cheap read)."""
        found = await self.session.scalar(
            select(er.id).where(or_(_recorded, er.received_at < expired_before)).limit(1)
        )
        return found is not None

    async def any_early_reports_since(self, since: datetime) -> bool:
        found = await self.session.scalar(select(er.id).where(er.received_at > since).limit(1))
        return found is not None

    async def matched_early_reports(self, limit: int) -> Sequence[RowMapping]:
        """Kept reports whose provider id a message now carries, oldest first."""
        matched = select(early_reports).where(_recorded).order_by(er.id).limit(limit)
        return (await self.session.execute(matched)).mappings().all()

    async def forget_early_reports(self, applied: list[int], expired_before: datetime) -> int:
        """Delete the applied reports; drop those kept since before ``expired_before``."""
        if applied:
            await self.session.execute(delete(early_reports).where(er.id.in_(applied)))
        result = await self.session.execute(
            delete(early_reports).where(er.received_at < expired_before)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def add_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(events.insert(), rows)

    async def any_expired(self, now: datetime) -> bool:
        found = await self.session.scalar(
            select(m.id).where(m.status == st.QUEUED, m.expire_at <= now).limit(1)
        )
        return found is not None

    async def lock_expired(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Queued messages whose validity ran out and that no dispatcher holds, locked."""
        query = (
            select(messages)
            .where(
                m.status == st.QUEUED,
                m.expire_at <= now,
                or_(m.locked_until.is_(None), m.locked_until < now),
            )
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        result = await self.session.execute(query)
        return [dict(row) for row in result.mappings()]

    async def any_due(self, now: datetime) -> bool:
        """Whether a queued or scheduled message is due and free (a cheap read, no lock)."""
        found = await self.session.scalar(
            select(m.id)
            .where(
                m.status.in_((st.QUEUED, st.SCHEDULED)),
                m.next_attempt_at <= now,
                or_(m.locked_until.is_(None), m.locked_until < now),
            )
            .limit(1)
        )
        return found is not None

    async def next_due(self, now: datetime) -> datetime | None:
        """When the next queued, scheduled or simulated-report job falls due after ``now``."""
        soonest = [
            select(func.min(m.next_attempt_at)).where(m.status == status, m.next_attempt_at > now)
            for status in (st.QUEUED, st.SCHEDULED, st.SENT)  # each one index range
        ]
        times = [await self.session.scalar(query) for query in soonest]
        return min((when for when in times if when is not None), default=None)

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[RowMapping]:
        """Take up to ``limit`` due messages (queued or scheduled) for dispatch, under a lease."""
        due = (
            select(m.id)
            .where(
                m.status.in_((st.QUEUED, st.SCHEDULED)),
                m.next_attempt_at <= now,
                or_(m.locked_until.is_(None), m.locked_until < now),
                or_(m.expire_at.is_(None), m.expire_at > now),
            )
            .order_by(m.next_attempt_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        result = await self.session.execute(
            update(messages)
            .where(m.id.in_(due.scalar_subquery()))
            .values(locked_until=lease_until, status=st.QUEUED, updated_at=now)
            .returning(*messages.c)
        )
        return result.mappings().all()

    async def due_reports(self, provider: str, now: datetime, limit: int) -> Sequence[RowMapping]:
        """Sent messages whose simulated delivery report is due."""
        result = await self.session.execute(
            select(m.id, m.provider_message_id, m.to_number)
            .where(m.status == st.SENT, m.next_attempt_at <= now, m.provider == provider)
            .limit(limit)
        )
        return result.mappings().all()

    async def clear_due(self, message_ids: list[str]) -> None:
        if message_ids:
            await self.session.execute(
                update(messages).where(m.id.in_(message_ids)).values(next_attempt_at=None)
            )

    async def cancel(
        self, account_id: str, mode: str, message_id: str, now: datetime
    ) -> RowMapping | None:
        """Cancel if scheduled, or queued with no attempt and no dispatcher holding it."""
        cancellable = or_(m.status == st.SCHEDULED, and_(m.status == st.QUEUED, m.attempts == 0))
        result = await self.session.execute(
            update(messages)
            .where(
                m.id == message_id,
                m.account_id == account_id,
                m.mode == mode,
                cancellable,
                or_(m.locked_until.is_(None), m.locked_until < now),
            )
            .values(status=st.CANCELLED, next_attempt_at=None, updated_at=now)
            .returning(*messages.c)
        )
        return result.mappings().first()


_WINDOW = ("created_after", "created_before")

# A kept report's message is recorded now: a message carries its provider id.
_recorded = (
    select(m.id)
    .where(m.provider == er.provider, m.provider_message_id == er.provider_message_id)
    .exists()
)


def _conditions(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    columns = {
        "status": m.status,
        "to": m.to_number,
        "from": m.from_number,
        "reference": m.reference,
        "provider": m.provider,
        "direction": m.direction,
        "mode": m.mode,
    }
    conditions = [columns[name] == value for name, value in filters.items() if name in columns]
    if filters.get("created_after") is not None:
        conditions.append(m.created_at >= filters["created_after"])
    if filters.get("created_before") is not None:
        conditions.append(m.created_at < filters["created_before"])
    return conditions
