"""The provider breakdown through the gateway, whose live traffic goes to the provider fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.usage.flows import breakdown, figures, send, usage


async def test_by_provider(gw, gw_customer):
    headers = gw_customer.live
    await send(gw, headers, "+12025559101", provider="twilio")
    await send(gw, headers, "+447700900101", provider="twilio")  # GB: 0.04 on this gateway
    await send(gw, headers, "+12025559102", provider="sinch", body="ł" * 71)  # 2 UCS-2 segments
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = await send(gw, headers, "+12025559103", send_at=later)
    await gw.post(f"/messages/{scheduled['id']}/cancel", headers=headers)

    data = await usage(gw, headers, group_by="provider")
    assert breakdown(data) == {
        "sinch": figures(1, 2, 0.1, 0, 0),
        "twilio": figures(2, 2, 0.09, 0, 0),
        None: figures(1, 1, 0.0, 0, 0),
    }
    assert data["totals"] == figures(4, 5, 0.19, 0, 0)
