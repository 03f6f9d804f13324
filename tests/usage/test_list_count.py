"""GET /messages counts its total from the usage rollup when the filters allow, exactly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.models import Message
from lynsms.usage import repository
from lynsms.usage.repository import ALL_TIME, UsageRepository
from lynsms.usage.spans import DAY
from tests.factories import create_customer
from tests.usage.flows import DELIVERED, REJECTED, backdate, send, settle, usage

# Test mode: its messages always go to the simulator, whatever routes other tests add.
MODE = "test"


@pytest.fixture(autouse=True)
def no_margin(monkeypatch):
    monkeypatch.setattr(repository, "MARGIN", timedelta(0))


async def total_items(api, headers, **params: Any) -> int:
    response = await api.get("/messages", params={"limit": 2, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return int(response.json()["pagination"]["total_items"])


async def counted(server, account_id, **equal: Any) -> int:
    """What a COUNT over the live messages says."""
    where = [Message.account_id == account_id, Message.mode == MODE]
    after, before = equal.pop("created_after", None), equal.pop("created_before", None)
    where += [getattr(Message, name) == value for name, value in equal.items()]
    if after is not None:
        where.append(Message.created_at >= after)
    if before is not None:
        where.append(Message.created_at < before)
    async with session_scope(server.runtime.database, write=False) as session:
        return int(await session.scalar(select(func.count()).where(*where)) or 0)


async def test_total_items_is_exact_with_and_without_the_rollup(server):
    customer = await create_customer(server.runtime)
    headers, account_id = customer.test, customer.account_id
    async with httpx.AsyncClient(base_url=server.url + "/api/v1", timeout=30) as api:
        sent = [
            (await send(api, headers, DELIVERED), "delivered"),
            (await send(api, headers, DELIVERED, body="y" * 200), "delivered"),
            (await send(api, headers, REJECTED), "failed"),
            (await send(api, headers, DELIVERED), "delivered"),
        ]
        for message, wanted in sent:
            await settle(api, headers, message, wanted)
        await backdate(server.runtime, sent[0][0]["id"], utcnow() - 3 * DAY)
        await backdate(server.runtime, sent[1][0]["id"], utcnow() - DAY - timedelta(hours=5))
        await usage(api, headers)  # builds the rollup
        now = utcnow()
        cases: list[dict[str, Any]] = [
            {},
            {"status": "delivered"},
            {"status": "failed"},
            {"provider": "simulator"},
            {"direction": "outbound"},
            {"direction": "inbound"},
            {"created_after": now - 2 * DAY - timedelta(minutes=7)},
            {"created_before": now - timedelta(hours=2, seconds=5)},
            {"created_after": now - 4 * DAY, "created_before": now, "status": "delivered"},
        ]
        async with session_scope(server.runtime.database, write=False) as session:
            rolled = await UsageRepository(session).count(account_id, MODE, {}, *ALL_TIME)
        assert rolled == 4  # the rollup answers
        for params in cases:
            query = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}
            assert await total_items(api, headers, **query) == await counted(
                server, account_id, **params
            ), params
        assert await total_items(api, headers, to=DELIVERED) == 3  # read from the messages

        # A change after the refresh: still exact, its day read from the messages.
        late = await send(api, headers, DELIVERED)
        await settle(api, headers, late, "delivered")
        assert await total_items(api, headers) == 5
        assert await total_items(api, headers, status="delivered") == 4
