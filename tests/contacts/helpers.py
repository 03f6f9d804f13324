"""What the contacts tests share: calls through the public API and their checks."""

from __future__ import annotations

from typing import Any

import httpx


def error(response: httpx.Response, status: int, code: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    if param is not None:
        assert body["error"].get("param") == param, body
    return body["error"]  # type: ignore[no-any-return]


async def create(api: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict:
    response = await api.post("/contacts", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def patch(api: httpx.AsyncClient, headers: dict[str, str], contact_id: str, **fields: Any):
    response = await api.patch(f"/contacts/{contact_id}", json=fields, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def listing(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict:
    response = await api.get("/contacts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def phones(api: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[str]:
    return [c["phone"] for c in (await listing(api, headers, limit=100, **params))["data"]]


async def send(api: httpx.AsyncClient, headers: dict[str, str], to: str) -> httpx.Response:
    payload = {"to": to, "from": "LynSMS", "body": "Sale today!"}
    return await api.post("/messages/send", json=payload, headers=headers)


async def import_csv(api: httpx.AsyncClient, headers: dict[str, str], text: str | bytes):
    content = text.encode() if isinstance(text, str) else text
    return await api.post(
        "/contacts/import", content=content, headers={**headers, "Content-Type": "text/csv"}
    )
