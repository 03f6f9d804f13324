"""What the usage tests do through the API, and the one thing they cannot: move time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import update

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.models import Message

DELIVERED = "+12025550143"
DELIVERED_GB = "+447700900100"
REJECTED = "+15005550001"  # the simulator refuses it for good: failed, refunded
UNDELIVERABLE = "+15005550007"  # accepted, then reported undelivered
SILENT = "+15005550008"  # accepted, never reported: stays sent
UNAVAILABLE = "+15005550003"  # fails retryably: stays queued until it expires
FIGURES = ("messages", "segments", "cost", "delivered", "failed")


async def send(api, headers, to, **extra) -> dict[str, Any]:
    payload = {"to": to, "from": "LynSMS", "body": "hello", **extra}
    response = await api.post("/messages/send", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["data"]


async def settle(api, headers, message, wanted, tries=150) -> None:
    """Wait for the worker to bring ``message`` to ``wanted``."""
    status = message["status"]
    for _ in range(tries):
        if status == wanted:
            return
        await asyncio.sleep(0.1)
        response = await api.get(f"/messages/{message['id']}", headers=headers)
        status = response.json()["data"]["status"]
    detail = (await api.get(f"/messages/{message['id']}", headers=headers)).json()["data"]
    raise AssertionError(f"{message['id']} stayed {status}, wanted {wanted}: {detail}")


async def usage(api, headers, **params) -> dict[str, Any]:
    """GET /usage; ``from_`` stands for ``from``."""
    if "from_" in params:
        params["from"] = params.pop("from_")
    response = await api.get("/usage", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["meta"]["request_id"]
    return body["data"]


def figures(messages, segments, cost, delivered, failed) -> dict[str, Any]:
    return dict(zip(FIGURES, (messages, segments, cost, delivered, failed), strict=True))


def breakdown(data) -> dict[str | None, dict[str, Any]]:
    """The breakdown as ``{key: figures}``, after checking it is in the documented order."""
    keys = [row["key"] for row in data["breakdown"]]
    assert keys == sorted(keys, key=lambda key: (key is None, key or ""))
    return {row["key"]: {name: row[name] for name in FIGURES} for row in data["breakdown"]}


async def backdate(runtime, message_id, created_at: datetime) -> None:
    """Pretend ``message_id`` was sent at ``created_at`` (tests cannot wait for days); like
    every change of a message, it sets ``updated_at``. A real message's day never changes,
    and the usage rollup relies on it: backdate a message before the rollup counts it."""
    async with session_scope(runtime.database, write=True) as session:
        await session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(created_at=created_at, updated_at=utcnow())
        )
