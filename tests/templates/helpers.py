"""What the templates tests share."""

from __future__ import annotations

from typing import Any

import httpx

ORDER = {
    "name": "order_confirmation",
    "body": "Hi {{ first_name }}, order {{order.id}} is confirmed. Thanks, {{first_name}}!",
    "description": "Sent when an order is paid",
}


def error(response: httpx.Response, status: int, code: str, param: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    if param is not None:
        assert body["error"].get("param") == param, body
    return body["error"]  # type: ignore[no-any-return]


async def create(api: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict:
    response = await api.post("/templates", json={**ORDER, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]
