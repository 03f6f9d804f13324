"""Shared by the conventions tests: sends, key ids, rows of the idempotency table, clock windows."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select, update

from lynsms.accounts.auth import hash_key
from lynsms.accounts.repository import ApiKeyRepository
from lynsms.database import session_scope
from lynsms.models import IdempotencyKey
from lynsms.runtime import Runtime

SEND = {"to": "+12025550143", "from": "LynSMS", "body": "Your code is 482194"}


def new_key() -> str:
    return str(uuid.uuid4())


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def sent_count(api: httpx.AsyncClient, headers: dict[str, str]) -> int:
    response = await api.get("/messages", params={"limit": 1}, headers=headers)
    assert response.status_code == 200, response.text
    total: int = response.json()["pagination"]["total_items"]
    return total


async def key_id_of(runtime: Runtime, raw_key: str) -> str:
    async with session_scope(runtime.database, write=False) as session:
        key = await ApiKeyRepository(session).get_by_hash(hash_key(raw_key))
    assert key is not None
    return key.id


async def rows_of(runtime: Runtime, api_key_id: str) -> int:
    async with session_scope(runtime.database, write=False) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(IdempotencyKey)
            .where(IdempotencyKey.api_key_id == api_key_id)
        )
    return int(count or 0)


async def set_expiry(runtime: Runtime, api_key_id: str, key: str, expires_at: Any) -> None:
    async with session_scope(runtime.database, write=True) as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.api_key_id == api_key_id, IdempotencyKey.key == key)
            .values(expires_at=expires_at)
        )


async def fresh_window(margin: float = 8.0) -> None:
    """Wait for the next minute if this one ends within ``margin`` seconds (clock windows)."""
    left = 60 - time.time() % 60
    if left < margin:
        await asyncio.sleep(left + 0.05)
