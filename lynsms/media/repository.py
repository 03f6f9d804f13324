"""All SQL about media."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import Media

media: Table = Media.__table__  # type: ignore[assignment]
c = media.c


class MediaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: dict[str, Any]) -> None:
        await self.session.execute(media.insert(), row)

    async def get(self, account_id: str, mode: str, media_id: str) -> RowMapping | None:
        """The account's media of ``mode`` (a test key sees only test media, a live key live)."""
        query = select(media).where(c.id == media_id, c.account_id == account_id, c.mode == mode)
        return (await self.session.execute(query)).mappings().first()

    async def usable(
        self, account_id: str, mode: str, media_ids: list[str], now: datetime
    ) -> dict[str, RowMapping]:
        """Those of ``media_ids`` the account has in ``mode`` and that have not expired."""
        query = select(media).where(
            c.id.in_(media_ids), c.account_id == account_id, c.mode == mode, c.expires_at > now
        )
        return {row["id"]: row for row in (await self.session.execute(query)).mappings()}

    async def by_token(self, token: str, now: datetime) -> RowMapping | None:
        query = select(media).where(c.token == token, c.expires_at > now)
        return (await self.session.execute(query)).mappings().first()

    async def page(
        self, account_id: str, mode: str, offset: int, limit: int
    ) -> tuple[Sequence[RowMapping], int]:
        where = (c.account_id == account_id) & (c.mode == mode)
        total = await self.session.scalar(select(func.count()).select_from(media).where(where))
        rows = await self.session.execute(
            select(media).where(where).order_by(c.id.desc()).offset(offset).limit(limit)
        )
        return rows.mappings().all(), int(total or 0)

    async def delete(self, media_id: str) -> None:
        await self.session.execute(delete(media).where(c.id == media_id))

    async def expired(self, now: datetime, limit: int) -> list[str]:
        query = select(c.id).where(c.expires_at <= now).order_by(c.expires_at).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def delete_many(self, media_ids: list[str]) -> None:
        if media_ids:
            await self.session.execute(delete(media).where(c.id.in_(media_ids)))
