"""Bearer keys: every way a key can be refused, each with its own 401/403 code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lynsms.database import session_scope
from lynsms.models import ApiKey
from tests.factories import create_key


def error_of(response, status):
    assert response.status_code == status, response.text
    assert response.headers["x-request-id"] == response.json()["meta"]["request_id"]
    return response.json()["error"]


async def test_missing_key(api):
    assert error_of(await api.get("/account"), 401)["code"] == "authentication_required"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ds_live_nope",
        "Bearer sk_live_abc",
        "Basic Zm9vOmJhcg==",
        "Bearer",
        "ds_live_x",
    ],
)
async def test_invalid_key(api, header):
    assert (
        error_of(await api.get("/account", headers={"Authorization": header}), 401)["code"]
        == "invalid_api_key"
    )


async def test_revocation_takes_effect_on_the_next_request(api, customer, server):
    spare = await create_key(server.runtime, customer.account_id, "live")
    assert (
        await api.get("/account", headers={"Authorization": f"Bearer {spare}"})
    ).status_code == 200
    keys = (await api.get("/api-keys?limit=100", headers=customer.live)).json()["data"]
    spare_id = next(k["id"] for k in keys if spare.startswith(k["prefix"]))
    revoked = await api.delete(f"/api-keys/{spare_id}", headers=customer.live)
    assert revoked.status_code == 200
    assert revoked.json()["data"]["revoked_at"] is not None
    response = await api.get("/account", headers={"Authorization": f"Bearer {spare}"})
    assert error_of(response, 401)["code"] == "api_key_revoked"


async def test_expired_key(api, customer, server):
    soon = datetime.now(UTC) + timedelta(seconds=1)
    raw = await create_key(server.runtime, customer.account_id, "live", expires_at=soon)
    assert (
        await api.get("/account", headers={"Authorization": f"Bearer {raw}"})
    ).status_code == 200
    import asyncio

    await asyncio.sleep(1.2)
    response = await api.get("/account", headers={"Authorization": f"Bearer {raw}"})
    assert error_of(response, 401)["code"] == "api_key_expired"


async def test_ip_allowlist(api, customer, server):
    elsewhere = await create_key(
        server.runtime, customer.account_id, "live", allowed_ips=["10.1.0.0/16"]
    )
    here = await create_key(
        server.runtime, customer.account_id, "live", allowed_ips=["127.0.0.0/8"]
    )
    refused = await api.get("/account", headers={"Authorization": f"Bearer {elsewhere}"})
    assert error_of(refused, 403)["code"] == "ip_not_allowed"
    assert (
        await api.get("/account", headers={"Authorization": f"Bearer {here}"})
    ).status_code == 200


async def test_insufficient_scope_names_what_is_missing(api, customer, server):
    raw = await create_key(server.runtime, customer.account_id, "live", scopes=["messages:read"])
    response = await api.post(
        "/messages/send",
        json={"to": "+12025550143", "from": "LynSMS", "body": "x"},
        headers={"Authorization": f"Bearer {raw}"},
    )
    error = error_of(response, 403)
    assert error["code"] == "insufficient_scope"
    assert error["required_scope"] == "messages:send"
    assert error["granted_scopes"] == ["messages:read"]


async def test_keys_are_stored_hashed_and_last_use_is_recorded(api, customer, server):
    import asyncio

    await api.get("/account", headers=customer.live)
    async with session_scope(server.runtime.database, write=False) as session:
        keys = (
            (await session.execute(select(ApiKey).where(ApiKey.account_id == customer.account_id)))
            .scalars()
            .all()
        )
    for key in keys:
        assert customer.live_key not in (key.key_hash, key.prefix)
        assert len(key.key_hash) == 64
    for _ in range(30):
        listed = (await api.get("/api-keys", headers=customer.live)).json()["data"]
        if any(k["last_used_at"] for k in listed):
            break
        await asyncio.sleep(0.1)
    assert any(k["last_used_at"] for k in listed)
