"""Totals and breakdowns of messages sent through the API, one of every outcome.

The history: two delivered (one to GB in two segments), one refused by the
provider (failed, refunded), one undelivered, one still sent, one expired
before any provider took it (refunded) and one scheduled then cancelled
(refunded). Every message costs 0.05 a segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from lynsms.database import session_scope
from lynsms.models import LedgerEntry
from tests.factories import Customer, create_customer
from tests.usage.flows import (
    DELIVERED,
    DELIVERED_GB,
    REJECTED,
    SILENT,
    UNAVAILABLE,
    UNDELIVERABLE,
    breakdown,
    figures,
    send,
    settle,
    usage,
)

TOTALS = figures(messages=7, segments=8, cost=0.25, delivered=2, failed=3)


@dataclass
class History:
    customer: Customer
    days: set[str]


@pytest.fixture(scope="module")
async def history(server) -> History:
    customer = await create_customer(server.runtime)
    headers = customer.live
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as api:
        outcomes = [
            (await send(api, headers, DELIVERED), "delivered"),
            (await send(api, headers, DELIVERED_GB, body="x" * 200), "delivered"),
            (await send(api, headers, REJECTED), "failed"),
            (await send(api, headers, UNDELIVERABLE), "undelivered"),
            (await send(api, headers, SILENT), "sent"),
            (await send(api, headers, UNAVAILABLE, expire_at=soon), "expired"),
        ]
        scheduled = await send(api, headers, DELIVERED, send_at=later)
        cancel = await api.post(f"/messages/{scheduled['id']}/cancel", headers=headers)
        assert cancel.json()["data"]["status"] == "cancelled"
        for message, wanted in outcomes:
            await settle(api, headers, message, wanted)
    days = {message["created_at"][:10] for message, _ in outcomes} | {scheduled["created_at"][:10]}
    return History(customer, days)


async def test_totals_count_every_message_and_cost_only_what_stays_charged(api, history):
    data = await usage(api, history.customer.live)
    assert data["object"] == "usage"
    assert data["totals"] == TOTALS
    assert data["breakdown"] == []


async def test_cost_is_what_the_ledger_kept(api, history, server):
    data = await usage(api, history.customer.live)
    balance = (await api.get("/balance", headers=history.customer.live)).json()["data"]
    assert balance["balance"] == round(10.0 - data["totals"]["cost"], 4) == 9.75
    async with session_scope(server.runtime.database, write=False) as session:
        spent = await session.scalar(
            select(func.sum(LedgerEntry.amount_units)).where(
                LedgerEntry.account_id == history.customer.account_id,
                LedgerEntry.kind != "topup",
            )
        )
    assert -spent == 2500  # debits less refunds, in units of 1/10,000


async def test_by_status(api, history):
    data = await usage(api, history.customer.live, group_by="status")
    assert data["totals"] == TOTALS
    assert breakdown(data) == {
        "cancelled": figures(1, 1, 0.0, 0, 0),
        "delivered": figures(2, 3, 0.15, 2, 0),
        "expired": figures(1, 1, 0.0, 0, 1),
        "failed": figures(1, 1, 0.0, 0, 1),
        "sent": figures(1, 1, 0.05, 0, 0),
        "undelivered": figures(1, 1, 0.05, 0, 1),
    }


async def test_by_country(api, history):
    data = await usage(api, history.customer.live, group_by="country")
    assert data["totals"] == TOTALS
    assert breakdown(data) == {
        "GB": figures(1, 2, 0.1, 1, 0),
        "US": figures(6, 6, 0.15, 1, 3),
    }


async def test_by_provider_the_cancelled_message_has_none(api, history):
    data = await usage(api, history.customer.live, group_by="provider")
    assert data["totals"] == TOTALS
    assert breakdown(data) == {
        "simulator": figures(6, 7, 0.25, 2, 3),
        None: figures(1, 1, 0.0, 0, 0),
    }


async def test_by_day(api, history):
    data = await usage(api, history.customer.live, group_by="day")
    assert data["totals"] == TOTALS
    days = sorted(history.days)
    if len(days) == 1:  # not sent across midnight UTC
        assert breakdown(data) == {days[0]: TOTALS}
    assert sorted(breakdown(data)) == days
