"""All SQL about campaigns, their frozen recipients, and the messages they became.

A launched campaign's messages carry ``bulk_id`` = the campaign id, so its progress
and stats are one indexed count (``ix_messages_bulk_id_status``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    RowMapping,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.messages import status as st
from lynsms.models import Campaign, CampaignRecipient, Contact, ContactTag, Message, OptOut
from lynsms.models.base import UTCDateTime
from lynsms.webhooks.events import events

campaigns: Table = Campaign.__table__  # type: ignore[assignment]
recipients: Table = CampaignRecipient.__table__  # type: ignore[assignment]
messages: Table = Message.__table__  # type: ignore[assignment]
contacts: Table = Contact.__table__  # type: ignore[assignment]
contact_tags: Table = ContactTag.__table__  # type: ignore[assignment]
opt_outs: Table = OptOut.__table__  # type: ignore[assignment]
cp, r, m = campaigns.c, recipients.c, messages.c

Row = dict[str, Any]
PENDING = (st.QUEUED, st.SCHEDULED)  # a message not yet handed to a provider
IDS_PER_QUERY = 5_000  # keeps IN lists under every driver's parameter limit

# The launch, for the writer (its guard refuses a campaign that is no longer a draft).
NOT_DRAFT = select(cp.id).where(cp.id == bindparam("id"), cp.status != "draft")
LAUNCH = (
    update(campaigns)
    .where(cp.id == bindparam("p_id"))
    .values(
        status=bindparam("p_status"),
        api_key_id=bindparam("p_key"),
        from_number=bindparam("p_from"),
        total=bindparam("p_total"),
        skipped_opted_out=bindparam("p_skipped"),
        failed_at_launch=bindparam("p_failed"),
        recipients=bindparam("p_recipients"),
        reserved_units=bindparam("p_reserved"),
        next_run_at=bindparam("p_run_at", type_=UTCDateTime()),
        launched_at=bindparam("p_now", type_=UTCDateTime()),
        started_at=bindparam("p_started_at", type_=UTCDateTime()),
        updated_at=bindparam("p_now", type_=UTCDateTime()),
    )
)


class CampaignRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- the campaign ------------------------------------------------------------------
    async def get(self, account_id: str, mode: str, campaign_id: str) -> Row | None:
        result = await self.session.execute(
            select(campaigns).where(
                cp.id == campaign_id, cp.account_id == account_id, cp.mode == mode
            )
        )
        return _first(result.mappings().first())

    async def lock(self, campaign_id: str, *, skip_locked: bool) -> Row | None:
        """The campaign, locked until commit on PostgreSQL (SQLite's writer holds the
        database lock already): launch, expansion and cancel never interleave."""
        query = select(campaigns).where(cp.id == campaign_id)
        if self._postgresql:
            query = query.with_for_update(skip_locked=skip_locked)
        return _first((await self.session.execute(query)).mappings().first())

    async def page(
        self, account_id: str, mode: str, status: str | None, offset: int, limit: int
    ) -> tuple[list[Row], int]:
        where = [cp.account_id == account_id, cp.mode == mode]
        if status is not None:
            where.append(cp.status == status)
        total = await self.session.scalar(select(func.count()).select_from(campaigns).where(*where))
        result = await self.session.execute(
            select(campaigns).where(*where).order_by(cp.id.desc()).offset(offset).limit(limit)
        )
        return [dict(row) for row in result.mappings()], int(total or 0)

    async def insert(self, row: dict[str, Any]) -> None:
        await self.session.execute(insert(campaigns), row)

    async def update(self, campaign_id: str, values: dict[str, Any]) -> None:
        await self.session.execute(update(campaigns).where(cp.id == campaign_id).values(values))

    async def delete(self, campaign_id: str) -> None:
        await self.session.execute(delete(recipients).where(r.campaign_id == campaign_id))
        await self.session.execute(delete(campaigns).where(cp.id == campaign_id))

    async def due(self, now: datetime, limit: int) -> list[str]:
        result = await self.session.execute(
            select(cp.id)
            .where(cp.status.in_(("scheduled", "running")), cp.next_run_at <= now)
            .order_by(cp.next_run_at)
            .limit(limit)
        )
        return list(result.scalars())

    async def next_due(self) -> datetime | None:
        when: datetime | None = await self.session.scalar(
            select(cp.next_run_at)
            .where(cp.status.in_(("scheduled", "running")), cp.next_run_at.is_not(None))
            .order_by(cp.next_run_at)
            .limit(1)
        )
        return when

    # --- its messages ------------------------------------------------------------------
    async def counts(self, campaign_id: str) -> dict[str, int]:
        """Its messages by status."""
        result = await self.session.execute(
            select(m.status, func.count()).where(m.bulk_id == campaign_id).group_by(m.status)
        )
        return {status: int(count) for status, count in result.tuples()}

    async def backlog(self, campaign_id: str) -> int:
        """Its messages not yet handed to a provider."""
        count = await self.session.scalar(
            select(func.count()).where(m.bulk_id == campaign_id, m.status.in_(PENDING))
        )
        return int(count or 0)

    async def message_page(
        self, campaign_id: str, offset: int, limit: int
    ) -> tuple[Sequence[RowMapping], int]:
        where = m.bulk_id == campaign_id
        total = await self.session.scalar(select(func.count()).where(where))
        result = await self.session.execute(
            select(messages).where(where).order_by(m.id).offset(offset).limit(limit)
        )
        return result.mappings().all(), int(total or 0)

    async def cancel_messages(self, campaign_id: str, now: datetime) -> Sequence[RowMapping]:
        """Cancel its messages no provider has and no dispatcher holds; the cancelled rows."""
        result = await self.session.execute(
            update(messages)
            .where(
                m.bulk_id == campaign_id,
                m.status.in_(PENDING),
                or_(m.locked_until.is_(None), m.locked_until < now),
            )
            .values(status=st.CANCELLED, next_attempt_at=None, updated_at=now)
            .returning(*messages.c)
        )
        return result.mappings().all()

    async def add_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(events.insert(), rows)

    async def add_messages(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(messages), rows)

    # --- recipients ----------------------------------------------------------------------
    async def recipients_from(self, campaign_id: str, seq: int, limit: int) -> list[Row]:
        result = await self.session.execute(
            select(recipients)
            .where(r.campaign_id == campaign_id, r.seq >= seq)
            .order_by(r.seq)
            .limit(limit)
        )
        return [dict(row) for row in result.mappings()]

    async def unsent_units(self, campaign_id: str, seq: int) -> int:
        """The money reserved by the recipients from ``seq`` on."""
        units = await self.session.scalar(
            select(func.coalesce(func.sum(r.cost_units), 0)).where(
                r.campaign_id == campaign_id, r.seq >= seq
            )
        )
        return int(units or 0)

    def unrefunded_ids(self, campaign_id: str, seq: int) -> Select[Any]:
        """The ids a cancel refunds: recipients from ``seq`` on (never expanded) and the
        campaign's cancelled messages."""
        unsent = select(r.id).where(r.campaign_id == campaign_id, r.seq >= seq)
        cancelled = select(m.id).where(m.bulk_id == campaign_id, m.status == st.CANCELLED)
        return select(unsent.union_all(cancelled).subquery().c.id)

    # --- the audience --------------------------------------------------------------------
    async def contacts_tagged(self, account_id: str, tags: list[str]) -> list[RowMapping]:
        """The account's contacts with any of ``tags``, by id."""
        tagged = select(contact_tags.c.contact_id).where(
            contact_tags.c.account_id == account_id, contact_tags.c.tag.in_(tags)
        )
        result = await self.session.execute(
            _contact_columns()
            .where(contacts.c.account_id == account_id, contacts.c.id.in_(tagged))
            .order_by(contacts.c.id)
        )
        return list(result.mappings())

    async def contacts_by_id(self, account_id: str, ids: list[str]) -> list[RowMapping]:
        found: list[RowMapping] = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start : start + IDS_PER_QUERY]
            result = await self.session.execute(
                _contact_columns().where(
                    contacts.c.account_id == account_id, contacts.c.id.in_(chunk)
                )
            )
            found.extend(result.mappings())
        return sorted(found, key=lambda row: str(row["id"]))

    async def opted_out(self, account_id: str, phones: Sequence[str]) -> set[str]:
        stopped: set[str] = set()
        for start in range(0, len(phones), IDS_PER_QUERY):
            result = await self.session.execute(
                select(opt_outs.c.phone).where(
                    opt_outs.c.account_id == account_id,
                    opt_outs.c.phone.in_(phones[start : start + IDS_PER_QUERY]),
                )
            )
            stopped.update(result.scalars())
        return stopped

    @property
    def _postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"


def _first(row: RowMapping | None) -> Row | None:
    return None if row is None else dict(row)


def _contact_columns() -> Select[Any]:
    c = contacts.c
    return select(c.id, c.phone, c.name, c.email, c.attributes)
