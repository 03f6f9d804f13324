"""The balance is a ledger and never goes negative, however many sends race for it."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from lynsms.database import session_scope
from lynsms.models import Account, LedgerEntry, Message
from tests.factories import create_customer


async def ledger_state(runtime, account_id):
    async with session_scope(runtime.database, write=False) as session:
        balance = await session.scalar(
            select(Account.balance_units).where(Account.id == account_id)
        )
        ledger = await session.scalar(
            select(func.sum(LedgerEntry.amount_units)).where(LedgerEntry.account_id == account_id)
        )
        held = await session.scalar(
            select(func.coalesce(func.sum(Message.cost_units), 0)).where(
                Message.account_id == account_id,
                Message.status.notin_(["failed", "cancelled", "expired"]),
            )
        )
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.account_id == account_id)
        )
    return balance, ledger, held, count


async def test_concurrent_sends_never_overdraw(api, server):
    customer = await create_customer(server.runtime, balance="1.00")  # covers exactly 20 sends
    payload = {"to": "+12025550143", "from": "LynSMS", "body": "race"}
    responses = await asyncio.gather(
        *(api.post("/messages/send", json=payload, headers=customer.live) for _ in range(60))
    )
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 20
    assert codes.count(402) == 40
    assert all(
        r.json()["error"]["code"] == "insufficient_balance"
        for r in responses
        if r.status_code == 402
    )
    balance, ledger, held, count = await ledger_state(server.runtime, customer.account_id)
    assert balance == 0 and ledger == 0
    assert held == 10_000 and count == 20


async def test_concurrent_bulks_and_refunds_keep_the_ledger_exact(api, server):
    customer = await create_customer(server.runtime, balance="2.00")
    good = {"from": "LynSMS", "body": "x", "recipients": ["+12025550143"] * 7}
    failing = {"from": "LynSMS", "body": "x", "recipients": ["+15005550001"] * 5}
    responses = await asyncio.gather(
        *(
            api.post("/messages/bulk", json=good if i % 2 else failing, headers=customer.live)
            for i in range(12)
        )
    )
    assert {r.status_code for r in responses} <= {201, 402}
    balance, ledger, held, _ = await ledger_state(server.runtime, customer.account_id)
    assert balance == ledger >= 0
    assert balance == 20_000 - held


async def test_balance_endpoint_needs_billing_scope(api, server):
    from tests.factories import create_key

    customer = await create_customer(server.runtime)
    raw = await create_key(server.runtime, customer.account_id, scopes=["messages:send"])
    response = await api.get("/balance", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
