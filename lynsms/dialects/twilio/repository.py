"""The SQL of the Twilio dialect: messages by SID, Twilio's list, deletion, and the hidden
webhook endpoint that carries status callbacks. A key sees the messages of its own mode
(a test key the sandbox's, a live key live and inbound ones), as on the native API."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Table, case, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.dialects.twilio.sids import bounds
from lynsms.messages import status as st
from lynsms.messages.repository import attempts, messages
from lynsms.models import TwilioStatusCallback
from lynsms.usage.rollup import RollupRepository

status_callbacks: Table = TwilioStatusCallback.__table__  # type: ignore[assignment]
m = messages.c
# Twilio's date_sent: when it was handed over (outbound) or received (inbound).
date_sent = case((m.direction == "inbound", m.created_at), else_=m.sent_at)
# Twilio deletes only messages that are done with (error 20009 otherwise).
FINAL = (st.DELIVERED, st.UNDELIVERED, st.FAILED, st.EXPIRED, st.CANCELLED, st.RECEIVED)


class Deletion(StrEnum):
    DELETED = "deleted"
    NOT_FOUND = "not_found"
    IN_PROGRESS = "in_progress"


class TwilioRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_prefix(self, account_id: str, mode: str, prefix: str) -> RowMapping | None:
        """The account's message of ``mode`` whose id starts with ``prefix`` (a SID's)."""
        low, high = bounds(prefix)
        result = await self.session.execute(
            select(messages)
            .where(m.account_id == account_id, m.mode == mode, m.id >= low, m.id <= high)
            .order_by(m.id)
            .limit(2)
        )
        return next((row for row in result.mappings() if row["id"].startswith(prefix)), None)

    async def page(
        self,
        account_id: str,
        mode: str,
        filters: dict[str, Any],
        *,
        offset: int,
        limit: int,
        older_than: str | None = None,
        newer_than: str | None = None,
    ) -> Sequence[RowMapping]:
        """Up to ``limit`` messages, newest first: after the ``older_than`` id prefix, before
        the ``newer_than`` one, or from ``offset``."""
        query = select(messages).where(
            m.account_id == account_id, m.mode == mode, *_conditions(filters)
        )
        if newer_than is not None:
            query = query.where(m.id > bounds(newer_than)[1]).order_by(m.id).limit(limit)
            rows = (await self.session.execute(query)).mappings().all()
            return list(reversed(rows))
        if older_than is not None:
            query = query.where(m.id < bounds(older_than)[0])
        else:
            query = query.offset(offset)
        result = await self.session.execute(query.order_by(m.id.desc()).limit(limit))
        return result.mappings().all()

    async def delete_final(self, account_id: str, mode: str, prefix: str) -> Deletion:
        """Remove a final message, its attempts and its status callback, everywhere."""
        row = await self.by_prefix(account_id, mode, prefix)
        if row is None:
            return Deletion.NOT_FOUND
        if row["status"] not in FINAL:
            return Deletion.IN_PROGRESS
        await RollupRepository(self.session).mark_dirty(account_id, mode, row["created_at"])
        await self.session.execute(delete(attempts).where(attempts.c.message_id == row["id"]))
        await self.session.execute(
            delete(status_callbacks).where(status_callbacks.c.message_id == row["id"])
        )
        result = await self.session.execute(
            delete(messages).where(m.id == row["id"], m.status.in_(FINAL))
        )
        return Deletion.DELETED if getattr(result, "rowcount", 0) else Deletion.IN_PROGRESS


def _conditions(filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if "to" in filters:
        conditions.append(m.to_number == filters["to"])
    if "from" in filters:
        conditions.append(m.from_number == filters["from"])
    if "sent_from" in filters:
        conditions.append(date_sent >= filters["sent_from"])
    if "sent_until" in filters:
        conditions.append(date_sent < filters["sent_until"])
    return conditions
