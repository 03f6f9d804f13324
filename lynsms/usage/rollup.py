"""All SQL that keeps the usage rollup (``lynsms.usage.repository`` says how it is read).

``lynsms.usage.service.refresh`` drives it: the first time, it sums every message of an
account's environment, a day per transaction; after that, only the hours whose messages
changed since the last refresh (``dirty_hours``), and the days they belong to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, delete, func, literal, not_, or_, select, update

from lynsms.usage.repository import (
    DIRECTIONS,
    NEVER,
    UsageRepository,
    m,
    marks,
    r,
    rollup,
    states,
)
from lynsms.usage.spans import day_of, day_ranges, hour_of, hour_ranges


class RollupRepository(UsageRepository):
    async def lock_state(self, account_id: str, mode: str) -> datetime:
        """The watermark (``NEVER`` unbuilt), locked: refreshes of one account and
        environment take turns (the row's lock on PostgreSQL, the one writer on SQLite)."""
        row = {"account_id": account_id, "mode": mode, "watermark": NEVER}
        await self.session.execute(self._insert(states).values(row).on_conflict_do_nothing())
        query = select(states.c.watermark).where(
            states.c.account_id == account_id, states.c.mode == mode
        )
        if self._dialect == "postgresql":
            query = query.with_for_update()
        watermark: datetime = (await self.session.execute(query)).scalar_one()
        return watermark

    async def set_watermark(self, account_id: str, mode: str, now: datetime) -> None:
        await self.session.execute(
            update(states)
            .where(states.c.account_id == account_id, states.c.mode == mode)
            .values(watermark=now)
        )

    async def forget_marks(self, account_id: str, mode: str) -> set[str]:
        """The hours marked by deletions, unmarked (a refresh recomputes them)."""
        forgotten = await self.session.scalars(
            delete(marks)
            .where(marks.c.account_id == account_id, marks.c.mode == mode)
            .returning(marks.c.hour)
        )
        return set(forgotten.all())

    async def mark_dirty(self, account_id: str, mode: str, created_at: datetime) -> None:
        """Distrust the rollup of the hour of a message about to be deleted."""
        row = {"account_id": account_id, "mode": mode, "hour": hour_of(created_at)}
        await self.session.execute(self._insert(marks).values(row).on_conflict_do_nothing())

    async def recompute_hours(self, account_id: str, mode: str, hours: set[str]) -> None:
        """Sum the messages of ``hours`` into the rollup anew, and their days."""
        for low, high in hour_ranges(hours):
            await self._rebuild_hours(account_id, mode, low, high)
        for low, high in day_ranges({hour[:10] for hour in hours}):
            await self._rebuild_days(account_id, mode, low, high)

    async def recompute_days(
        self, account_id: str, mode: str, low: datetime, high: datetime
    ) -> None:
        """Sum the messages of the days ``[low, high)`` (midnights) into the rollup anew."""
        await self._rebuild_hours(account_id, mode, low, high)
        await self._rebuild_days(account_id, mode, low, high)

    async def history(self, account_id: str, mode: str) -> tuple[datetime, datetime] | None:
        """When the first and the last message of ``account_id``'s ``mode`` were created."""
        moments: list[datetime] = []
        for direction in DIRECTIONS:  # each one range of ix_messages_usage
            where = self._where(account_id, mode, direction=direction)
            for edge in (func.min(m.created_at), func.max(m.created_at)):
                found = await self.session.scalar(select(edge).where(*where))
                if found is not None:
                    moments.append(found)
        return (min(moments), max(moments)) if moments else None

    async def forget_outside(self, account_id: str, mode: str, first: str, last: str) -> None:
        """Drop rolled-up days outside ``[first, last)``: no message is there any more."""
        await self.session.execute(
            delete(rollup).where(
                r.account_id == account_id, r.mode == mode, not_(_buckets(r.bucket, first, last))
            )
        )

    async def _rebuild_hours(
        self, account_id: str, mode: str, low: datetime, high: datetime
    ) -> None:
        first, last = "H" + hour_of(low), "H" + hour_of(high)
        await self.session.execute(
            delete(rollup).where(
                r.account_id == account_id, r.mode == mode, r.bucket >= first, r.bucket < last
            )
        )
        hour = literal("H") + self._hour(m.created_at)
        await self._insert_rolled(
            select(
                m.account_id,
                m.mode,
                hour,
                m.direction,
                func.coalesce(m.provider, ""),
                m.country,
                m.status,
                func.count(),
                func.coalesce(func.sum(m.segments), 0),
                func.coalesce(func.sum(m.cost_units), 0),
            )
            .where(
                m.account_id == account_id,
                m.mode == mode,
                m.direction.in_(DIRECTIONS),  # one range of ix_messages_usage per direction
                m.created_at >= low,
                m.created_at < high,
            )
            .group_by(m.account_id, m.mode, hour, m.direction, m.provider, m.country, m.status)
        )

    async def _rebuild_days(
        self, account_id: str, mode: str, low: datetime, high: datetime
    ) -> None:
        """The day rows of ``[low, high)`` (midnights) anew, from their hour rows."""
        first, last = day_of(low), day_of(high)
        mine = [r.account_id == account_id, r.mode == mode]
        await self.session.execute(
            delete(rollup).where(*mine, r.bucket >= "D" + first, r.bucket < "D" + last)
        )
        day = literal("D") + func.substr(r.bucket, 2, 10, type_=String)
        await self._insert_rolled(
            select(
                r.account_id,
                r.mode,
                day,
                r.direction,
                r.provider,
                r.country,
                r.status,
                func.sum(r.messages),
                func.sum(r.segments),
                func.sum(r.cost_units),
            )
            .where(*mine, r.bucket >= "H" + first, r.bucket < "H" + last)
            .group_by(r.account_id, r.mode, day, r.direction, r.provider, r.country, r.status)
        )

    async def _insert_rolled(self, query: Any) -> None:
        names = [
            "account_id", "mode", "bucket", "direction", "provider", "country", "status",
            "messages", "segments", "cost_units",
        ]  # fmt: skip
        await self.session.execute(rollup.insert().from_select(names, query))


def _buckets(bucket: Any, first: str, last: str) -> ColumnElement[bool]:
    """Day and hour rows of the days ``[first, last)``."""
    return or_(
        and_(bucket >= "D" + first, bucket < "D" + last),
        and_(bucket >= "H" + first, bucket < "H" + last),
    )
