"""Whose usage a key sees, which key may see it, and the queries refused with 422."""

from __future__ import annotations

import pytest

from tests.factories import create_customer, create_key
from tests.usage.flows import DELIVERED, SILENT, figures, send, settle, usage


async def test_a_key_sees_its_own_account_and_environment_only(api, server):
    ours, theirs = await create_customer(server.runtime), await create_customer(server.runtime)
    live = await send(api, ours.live, DELIVERED)
    await send(api, ours.test, SILENT)
    await send(api, ours.test, SILENT, body="x" * 200)
    await send(api, theirs.live, SILENT)
    await settle(api, ours.live, live, "delivered")

    assert (await usage(api, ours.live))["totals"] == figures(1, 1, 0.05, 1, 0)
    # test mode never touches the balance: its cost is what live would have charged
    assert (await usage(api, ours.test))["totals"] == figures(2, 3, 0.15, 0, 0)
    assert (await usage(api, theirs.live))["totals"] == figures(1, 1, 0.05, 0, 0)
    assert (await usage(api, theirs.test))["totals"] == figures(0, 0, 0.0, 0, 0)
    balance = (await api.get("/balance", headers=ours.live)).json()["data"]["balance"]
    assert balance == 9.95


async def test_a_key_without_billing_read_is_refused(api, server):
    customer = await create_customer(server.runtime)
    raw = await create_key(server.runtime, customer.account_id, scopes=["messages:read"])
    response = await api.get("/usage", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert (error["required_scope"], error["granted_scopes"]) == ("billing:read", ["messages:read"])


async def test_billing_read_is_enough(api, server):
    customer = await create_customer(server.runtime)
    raw = await create_key(server.runtime, customer.account_id, scopes=["billing:read"])
    response = await api.get(
        "/usage", params={"group_by": "day"}, headers={"Authorization": f"Bearer {raw}"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["breakdown"] == []


async def test_no_key_is_401(api):
    response = await api.get("/usage")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_required"


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("group_by=week", "group_by"),
        ("group_by=Day", "group_by"),
        ("group_by=", "group_by"),
        ("from=yesterday", "from"),
        ("from=2026-02-30", "from"),
        ("to=2026-11-25T25:00:00Z", "to"),
        ("to=9999-12-31", "to"),  # its end of day is past the last representable instant
        ("from=2026-11-26&to=2026-11-25", "from"),
        ("from=2026-11-25T10:00:00Z&to=2026-11-25T09:59:59Z", "from"),
        ("from=2026-11-25T12:00:00+02:00&to=2026-11-25T09:59:59Z", "from"),
        ("from=2026-11-25T10:00:00Z&to=2026-11-25T10:00:00Z", "from"),  # an empty window
    ],
)
async def test_bad_queries_are_422_naming_the_field(api, customer, query, param):
    response = await api.get(f"/usage?{query}", headers=customer.live)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("validation_error", param)
