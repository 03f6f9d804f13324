"""All SQL about stored idempotent responses (the ``idempotency_keys`` table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import IdempotencyKey

_keys: Table = IdempotencyKey.__table__  # type: ignore[assignment]
# What a request that takes over an expired row writes over it.
_TAKEN_OVER = (
    "fingerprint",
    "lock_token",
    "request_id",
    "status_code",
    "content_type",
    "body",
    "created_at",
    "expires_at",
)


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, row: dict[str, Any], now: datetime) -> bool:
        """Insert ``row`` (a running request), or take over the same key's row if its time is up.

        One statement, atomic on both databases (INSERT … ON CONFLICT DO UPDATE … WHERE):
        whether ``row`` now holds the key.
        """
        dialect = self.session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_keys)
        upsert = insert.values(row).on_conflict_do_update(
            index_elements=[_keys.c.api_key_id, _keys.c.key],
            set_={name: insert.excluded[name] for name in _TAKEN_OVER},
            where=_keys.c.expires_at <= now,
        )
        result = await self.session.execute(upsert.returning(_keys.c.id))
        return result.first() is not None

    async def get(self, api_key_id: str, key: str) -> IdempotencyKey | None:
        result = await self.session.execute(
            select(IdempotencyKey).where(
                IdempotencyKey.api_key_id == api_key_id, IdempotencyKey.key == key
            )
        )
        return result.scalar_one_or_none()

    async def complete(
        self, api_key_id: str, key: str, lock_token: str, values: dict[str, Any]
    ) -> None:
        """Store the response on the row, if the request still holds it."""
        await self.session.execute(
            update(_keys).where(*_held(api_key_id, key, lock_token)).values(**values)
        )

    async def release(self, api_key_id: str, key: str, lock_token: str) -> None:
        """Drop the row, if the request still holds it: the key is free again."""
        await self.session.execute(delete(_keys).where(*_held(api_key_id, key, lock_token)))

    async def purge(self, now: datetime, batch: int) -> int:
        """Delete up to ``batch`` rows whose time is up; how many."""
        expired = select(_keys.c.id).where(_keys.c.expires_at <= now).limit(batch)
        result = await self.session.execute(delete(_keys).where(_keys.c.id.in_(expired)))
        return int(getattr(result, "rowcount", 0) or 0)


def _held(api_key_id: str, key: str, lock_token: str) -> tuple[Any, ...]:
    return (
        _keys.c.api_key_id == api_key_id,
        _keys.c.key == key,
        _keys.c.lock_token == lock_token,
    )
