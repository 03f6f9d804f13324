"""All SQL about usage: one aggregate over an account's messages of one environment.

``ix_messages_usage`` (``lynsms.models.message``) leads with the columns the
query pins (account, mode, direction), then the one it ranges on
(``created_at``): the query reads the window of the caller's environment and
nothing else, however many messages other accounts, environments or times
hold. On PostgreSQL the index also carries the columns the aggregate reads
(an index-only scan); on SQLite the rows are read from the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Date, Row, String, Table, case, cast, func, null, select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.messages import status as st
from lynsms.models import Message

messages: Table = Message.__table__  # type: ignore[assignment]
m = messages.c

FAILED = (st.FAILED, st.UNDELIVERED, st.EXPIRED)

_MEASURES = (
    func.count().label("messages"),
    func.coalesce(func.sum(m.segments), 0).label("segments"),
    func.coalesce(
        func.sum(case((m.status.in_(sorted(st.REFUNDED)), 0), else_=m.cost_units)), 0
    ).label("cost_units"),
    func.count(case((m.status == st.DELIVERED, 1))).label("delivered"),
    func.count(case((m.status.in_(FAILED), 1))).label("failed"),
)


@dataclass(frozen=True, slots=True)
class Tally:
    """The figures of one breakdown key (``None`` for the totals of an ungrouped query)."""

    key: str | None
    messages: int
    segments: int
    cost_units: int
    delivered: int
    failed: int


class UsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def tally(
        self, account_id: str, mode: str, start: datetime, end: datetime, group_by: str | None
    ) -> list[Tally]:
        """Outbound messages created in ``[start, end)``, one tally per key of ``group_by``."""
        key = self._key(group_by)
        query = select(key.label("key"), *_MEASURES).where(
            m.account_id == account_id,
            m.mode == mode,
            m.direction == "outbound",
            m.created_at >= start,
            m.created_at < end,
        )
        if group_by is not None:
            query = query.group_by(key)
        result = await self.session.execute(query)
        return [_tally(row) for row in result]

    def _key(self, group_by: str | None) -> ColumnElement[Any]:
        if group_by is None:
            return null()
        if group_by == "day":
            return self._utc_day()
        columns: dict[str, ColumnElement[Any]] = {
            "provider": m.provider,
            "country": m.country,
            "status": m.status,
        }
        return columns[group_by]

    def _utc_day(self) -> ColumnElement[Any]:
        if self.session.get_bind().dialect.name == "postgresql":
            return cast(func.timezone("UTC", m.created_at), Date)
        # SQLite stores UTC as text, "2026-11-25 13:55:51.123456": the day is its first ten.
        return func.substr(m.created_at, 1, 10, type_=String)


def _tally(row: Row[Any]) -> Tally:
    key = row.key
    return Tally(
        key=key.isoformat() if isinstance(key, date) else key,
        messages=int(row.messages),
        segments=int(row.segments),
        cost_units=int(row.cost_units),
        delivered=int(row.delivered),
        failed=int(row.failed),
    )
