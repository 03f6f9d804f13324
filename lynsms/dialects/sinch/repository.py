"""The SQL of the Sinch dialect: batches and their messages, inbounds, and the hidden
webhook endpoint that carries batch callbacks. A key sees the batches of its own mode;
inbound messages are seen by live keys (as on the native API)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.messages.repository import messages
from lynsms.models import SinchBatch, SinchBatchMessage

batches: Table = SinchBatch.__table__  # type: ignore[assignment]
batch_messages: Table = SinchBatchMessage.__table__  # type: ignore[assignment]
b, bm, m = batches.c, batch_messages.c, messages.c


class SinchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def batch(self, account_id: str, mode: str, batch_id: str) -> RowMapping | None:
        result = await self.session.execute(
            select(batches).where(b.id == batch_id, b.account_id == account_id, b.mode == mode)
        )
        return result.mappings().first()

    async def page(
        self, account_id: str, mode: str, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[Sequence[RowMapping], int]:
        """Batches newest first, and how many match."""
        where = [b.account_id == account_id, b.mode == mode, *_batch_conditions(filters)]
        total = await self.session.scalar(select(func.count()).select_from(batches).where(*where))
        result = await self.session.execute(
            select(batches).where(*where).order_by(b.created_at.desc(), b.id.desc())
            .offset(offset).limit(limit)
        )  # fmt: skip
        return result.mappings().all(), int(total or 0)

    async def messages(self, batch_id: str) -> Sequence[RowMapping]:
        """The batch's messages, in the order they were created."""
        result = await self.session.execute(
            select(messages)
            .join(batch_messages, bm.message_id == m.id)
            .where(bm.batch_id == batch_id)
            .order_by(m.id)
        )
        return result.mappings().all()

    async def message_to(self, batch_id: str, to: str) -> RowMapping | None:
        result = await self.session.execute(
            select(messages)
            .join(batch_messages, bm.message_id == m.id)
            .where(bm.batch_id == batch_id, m.to_number == to)
            .limit(1)
        )
        return result.mappings().first()

    async def reporting(self, message_ids: list[str]) -> dict[str, tuple[str, str]]:
        """``message id → (batch id, delivery_report)`` of those of ``message_ids`` whose
        batch asked for callbacks (a ``callback_url`` and a report type other than none)."""
        if not message_ids:
            return {}
        result = await self.session.execute(
            select(bm.message_id, b.id, b.delivery_report)
            .join(batches, b.id == bm.batch_id)
            .where(
                bm.message_id.in_(message_ids),
                b.callback_url.is_not(None),
                b.delivery_report != "none",
            )
        )
        return {row.message_id: (row.id, row.delivery_report) for row in result}

    async def claim_summary(self, batch_id: str) -> bool:
        """Mark the batch's summary reported, unless it already was; whether this did."""
        result = await self.session.execute(
            update(batches).where(b.id == batch_id, b.reported.is_(False)).values(reported=True)
        )
        return bool(getattr(result, "rowcount", 0))

    async def batch_of(self, message_id: str) -> str | None:
        found: str | None = await self.session.scalar(
            select(bm.batch_id).where(bm.message_id == message_id)
        )
        return found

    async def mark_canceled(self, batch_id: str, now: datetime) -> None:
        await self.session.execute(
            update(batches).where(b.id == batch_id).values(canceled=True, modified_at=now)
        )

    async def inbounds(
        self, account_id: str, filters: dict[str, Any], offset: int, limit: int
    ) -> tuple[Sequence[RowMapping], int]:
        where = [
            m.account_id == account_id,
            m.direction == "inbound",
            *_inbound_conditions(filters),
        ]
        total = await self.session.scalar(select(func.count()).select_from(messages).where(*where))
        result = await self.session.execute(
            select(messages).where(*where).order_by(m.id.desc()).offset(offset).limit(limit)
        )
        return result.mappings().all(), int(total or 0)

    async def inbound(self, account_id: str, message_id: str) -> RowMapping | None:
        result = await self.session.execute(
            select(messages).where(
                m.id == message_id, m.account_id == account_id, m.direction == "inbound"
            )
        )
        return result.mappings().first()


def _batch_conditions(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.get("start_date") is not None:
        conditions.append(b.created_at >= filters["start_date"])
    if filters.get("end_date") is not None:
        conditions.append(b.created_at < filters["end_date"])
    if filters.get("from"):
        conditions.append(b.sender.in_(filters["from"]))
    if filters.get("client_reference") is not None:
        conditions.append(b.client_reference == filters["client_reference"])
    return conditions


def _inbound_conditions(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.get("start_date") is not None:
        conditions.append(m.created_at >= filters["start_date"])
    if filters.get("end_date") is not None:
        conditions.append(m.created_at < filters["end_date"])
    if filters.get("to"):
        conditions.append(m.to_number.in_(filters["to"]))
    return conditions
