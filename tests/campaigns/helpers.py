"""What the campaigns tests share: calls through the public API and waiting on the worker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.contacts.helpers import error

__all__ = ["DRAFT", "campaign", "contact", "create", "error", "launch", "wait_for"]

DRAFT = {"name": "Spring sale", "from": "LynSMS", "body": "Hi {{name}}, use {{code}}"}


async def create(api: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict:
    response = await api.post("/campaigns", json={**DRAFT, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def contact(api: httpx.AsyncClient, headers: dict[str, str], phone: str, **fields: Any):
    response = await api.post("/contacts", json={"phone": phone, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def launch(api: httpx.AsyncClient, headers: dict[str, str], campaign_id: str) -> dict:
    response = await api.post(f"/campaigns/{campaign_id}/launch", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def campaign(api: httpx.AsyncClient, headers: dict[str, str], campaign_id: str) -> dict:
    response = await api.get(f"/campaigns/{campaign_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


async def wait_for(
    api: httpx.AsyncClient,
    headers: dict[str, str],
    campaign_id: str,
    done: Any,
    timeout: float = 30.0,
) -> dict:
    """The campaign once ``done(campaign)`` holds (the worker runs it in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await campaign(api, headers, campaign_id)
        if done(found):
            return found
        assert time.monotonic() < deadline, f"campaign never reached the state: {found}"
        await asyncio.sleep(0.1)
