from __future__ import annotations

from tests.factories import create_key


async def test_create_list_and_use_a_key(api, customer):
    response = await api.post(
        "/api-keys/create",
        json={
            "name": "ci",
            "environment": "live",
            "scopes": ["messages:send", "messages:read"],
            "rate_limit_per_minute": 600,
            "allowed_ips": ["127.0.0.1"],
            "expires_at": "2099-01-01T00:00:00Z",
        },
        headers=customer.live,
    )
    assert response.status_code == 201, response.text
    key = response.json()["data"]
    assert key["key"].startswith("ds_live_") and key["key"].startswith(key["prefix"])
    assert key["object"] == "api_key"
    assert key["scopes"] == ["messages:read", "messages:send"]
    assert key["allowed_ips"] == ["127.0.0.1/32"]
    assert key["expires_at"] == "2099-01-01T00:00:00+00:00"
    listed = (await api.get("/api-keys", headers=customer.live)).json()
    assert "key" not in listed["data"][0]
    assert any(k["id"] == key["id"] for k in listed["data"])
    new = {"Authorization": f"Bearer {key['key']}"}
    assert (await api.get("/messages", headers=new)).status_code == 200
    assert (await api.get("/account", headers=new)).status_code == 403


async def test_no_privilege_escalation(api, customer, server):
    narrow = await create_key(
        server.runtime, customer.account_id, "live", scopes=["api_keys:write", "messages:read"]
    )
    headers = {"Authorization": f"Bearer {narrow}"}
    for scopes in (["*"], ["messages:send"], ["messages:read", "billing:read"]):
        response = await api.post("/api-keys/create", json={"scopes": scopes}, headers=headers)
        assert response.status_code == 403, scopes
        assert response.json()["error"]["code"] == "insufficient_scope"
    ok = await api.post("/api-keys/create", json={"scopes": ["messages:read"]}, headers=headers)
    assert ok.status_code == 201


async def test_test_key_cannot_mint_a_live_key(api, customer):
    response = await api.post(
        "/api-keys/create", json={"environment": "live"}, headers=customer.test
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "environment_not_allowed"
    ok = await api.post("/api-keys/create", json={"environment": "test"}, headers=customer.test)
    assert ok.json()["data"]["key"].startswith("ds_test_")


async def test_bad_key_requests(api, customer):
    cases = [
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"scopes": ["messages:fly"]}, "scopes"),
        ({"allowed_ips": ["not-an-ip"]}, "allowed_ips"),
        ({"environment": "prod"}, "environment"),
        ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ]
    for payload, param in cases:
        response = await api.post("/api-keys/create", json=payload, headers=customer.live)
        assert response.status_code == 422, payload
        assert response.json()["error"]["param"] == param


async def test_revoking_another_accounts_key_is_not_found(api, customer, server):
    from tests.factories import create_customer

    other = await create_customer(server.runtime)
    keys = (await api.get("/api-keys", headers=other.live)).json()["data"]
    response = await api.delete(f"/api-keys/{keys[0]['id']}", headers=customer.live)
    assert response.status_code == 404
    assert (await api.get("/account", headers=other.live)).status_code == 200


async def test_account_profile(api, customer):
    account = (await api.get("/account", headers=customer.live)).json()["data"]
    assert account["id"] == customer.account_id
    assert account["object"] == "account"
    assert account["balance"] == 10.0 and account["currency"] == "USD"
