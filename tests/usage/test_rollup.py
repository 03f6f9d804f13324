"""The rollup answers exactly what the messages say, before and after every kind of change.

Each check asks ``UsageRepository.tally`` (rollup where it holds, messages elsewhere)
and ``direct_tally`` (the messages alone) the same questions, over windows on whole
days, whole hours and arbitrary instants, for every breakdown; and GET /usage agrees.
``MARGIN`` is 0 here: the tests change messages one after the other, so no change can
commit behind a refresh.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.models import Message, MessageAttempt
from lynsms.usage import repository, service
from lynsms.usage.repository import UsageRepository
from lynsms.usage.rollup import RollupRepository
from lynsms.usage.spans import DAY, HOUR, midnight_of
from tests.factories import create_customer
from tests.usage.flows import (
    DELIVERED,
    REJECTED,
    SILENT,
    UNAVAILABLE,
    UNDELIVERABLE,
    backdate,
    send,
    settle,
    usage,
)

GROUPS = (None, "day", "provider", "country", "status")


# Test mode: its messages always go to the simulator, whatever routes other tests add.
MODE = "test"


@pytest.fixture(autouse=True)
def no_margin(monkeypatch):
    monkeypatch.setattr(repository, "MARGIN", timedelta(0))


def windows():
    now = utcnow()
    today = midnight_of(now.date().isoformat())
    return [
        (today - 3 * DAY, today + DAY),  # whole days
        (today - 3 * DAY + 5 * HOUR, now.replace(minute=0, second=0, microsecond=0) + HOUR),
        (now - timedelta(days=30), now + timedelta(seconds=1)),  # the default window
        (today - 2 * DAY + timedelta(minutes=17, seconds=3), now + timedelta(minutes=1)),
    ]


async def check(server, account_id, *, from_rollup: bool) -> None:
    """Every window and breakdown: the rollup's answer is the messages' answer."""
    async with session_scope(server.runtime.database, write=False) as session:
        repo = UsageRepository(session)
        watermark = await repo.watermark(account_id, MODE)
        assert watermark is not None
        dirty = await repo.dirty_hours(account_id, MODE, watermark)
        assert (not dirty) if from_rollup else bool(dirty)
        for start, end in windows():
            assert (await repo.plan(account_id, MODE, start, end)).uses_rollup
            for group_by in GROUPS:
                rolled = await repo.tally(account_id, MODE, start, end, group_by)
                direct = await repo.direct_tally(account_id, MODE, start, end, group_by)
                by_key = sorted(direct, key=lambda t: (t.key is None, t.key or ""))
                got = sorted(rolled, key=lambda t: (t.key is None, t.key or ""))
                if group_by is None:  # an empty window: zeros from one, nothing from the other
                    got, by_key = [t for t in got if t.messages], [t for t in by_key if t.messages]
                assert got == by_key, (start, end, group_by)


async def refresh(server, account_id) -> None:
    await service.refresh(server.runtime.database, account_id, MODE, utcnow())


async def test_rollup_matches_messages_through_sends_reports_refunds_cancels_and_expiry(server):
    customer = await create_customer(server.runtime)
    headers, account_id = customer.test, customer.account_id
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as api:
        # Old history: backdated to earlier days and hours, some still scheduled.
        old = [await send(api, headers, number) for number in (DELIVERED, REJECTED, SILENT)]
        for message, wanted in zip(old, ("delivered", "failed", "sent"), strict=True):
            await settle(api, headers, message, wanted)
        for days, message in enumerate(old, start=1):
            await backdate(server.runtime, message["id"], utcnow() - days * DAY - 3 * HOUR)
        later = (utcnow() + timedelta(hours=1)).isoformat()
        pending = await send(api, headers, DELIVERED, send_at=later)  # cancelled later
        await backdate(server.runtime, pending["id"], utcnow() - 2 * DAY)
        first = await usage(api, headers, group_by="day")  # builds the rollup
        await check(server, account_id, from_rollup=True)
        again = await usage(api, headers, group_by="day")
        assert (again["totals"], again["breakdown"]) == (first["totals"], first["breakdown"])

        # A scheduled send on an old day: changed now, and again when it is dispatched.
        soon = (utcnow() + timedelta(seconds=2)).isoformat()
        due = await send(api, headers, DELIVERED, body="x" * 200, send_at=soon)
        await backdate(server.runtime, due["id"], utcnow() - DAY)
        await check(server, account_id, from_rollup=False)
        await refresh(server, account_id)

        # Changes after the refresh: new sends and their reports, a refused send (refund),
        # an expiry, a cancellation and a scheduled send dispatched on an old day.
        fresh = [
            (await send(api, headers, DELIVERED), "delivered"),
            (await send(api, headers, UNDELIVERABLE), "undelivered"),
            (await send(api, headers, REJECTED), "failed"),
            (await send(api, headers, UNAVAILABLE, expire_at=soon), "expired"),
        ]
        cancel = await api.post(f"/messages/{pending['id']}/cancel", headers=headers)
        assert cancel.json()["data"]["status"] == "cancelled"
        for message, wanted in [*fresh, (due, "delivered")]:
            await settle(api, headers, message, wanted)
        await check(server, account_id, from_rollup=False)
        await refresh(server, account_id)
        await check(server, account_id, from_rollup=True)

        data = await usage(api, headers, group_by="status")
        assert data["totals"]["messages"] == 9
        assert {row["key"]: row["messages"] for row in data["breakdown"]} == {
            "cancelled": 1,
            "delivered": 3,
            "expired": 1,
            "failed": 2,
            "sent": 1,
            "undelivered": 1,
        }


async def test_get_usage_builds_the_rollup_and_refreshes_it_after_changes(server, monkeypatch):
    monkeypatch.setattr(service, "REFRESH_AFTER", timedelta(0))
    customer = await create_customer(server.runtime)
    headers, account_id = customer.test, customer.account_id
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as api:
        old = await send(api, headers, DELIVERED)
        await settle(api, headers, old, "delivered")
        await backdate(server.runtime, old["id"], utcnow() - 2 * DAY)
        await usage(api, headers)
        await check(server, account_id, from_rollup=True)
        message = await send(api, headers, DELIVERED)
        await settle(api, headers, message, "delivered")
        await check(server, account_id, from_rollup=False)
        data = await usage(api, headers, group_by="day")
        assert [row["key"] for row in data["breakdown"]] == [
            (utcnow() - 2 * DAY).date().isoformat(),
            message["created_at"][:10],
        ]
        await check(server, account_id, from_rollup=True)


async def test_a_deleted_message_leaves_the_rollup_exact(server):
    """Deletion (the Twilio API's DELETE) marks the message's hour, as it has no row left."""
    customer = await create_customer(server.runtime)
    headers, account_id = customer.test, customer.account_id
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as api:
        kept, gone = [await send(api, headers, DELIVERED) for _ in range(2)]
        for message in (kept, gone):
            await settle(api, headers, message, "delivered")
        await backdate(server.runtime, gone["id"], utcnow() - DAY)
        await refresh(server, account_id)
        await check(server, account_id, from_rollup=True)
        async with session_scope(server.runtime.database, write=True) as session:
            row = (
                await session.execute(select(Message).where(Message.id == gone["id"]))
            ).scalar_one()
            await RollupRepository(session).mark_dirty(account_id, MODE, row.created_at)
            await session.execute(
                delete(MessageAttempt).where(MessageAttempt.message_id == gone["id"])
            )
            await session.execute(delete(Message).where(Message.id == gone["id"]))
        await check(server, account_id, from_rollup=False)
        assert (await usage(api, headers))["totals"]["messages"] == 1
        await refresh(server, account_id)
        await check(server, account_id, from_rollup=True)
