"""All SQL about accounts and API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import Account, ApiKey

_api_keys: Table = ApiKey.__table__  # type: ignore[assignment]

# For the group-commit writer: rows {"kid": key id, "at": datetime}.
TOUCH_KEYS = (
    update(_api_keys).where(_api_keys.c.id == bindparam("kid")).values(last_used_at=bindparam("at"))
)


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: str) -> Account | None:
        return await self.session.get(Account, account_id)

    async def get_by_email(self, email: str) -> Account | None:
        result = await self.session.execute(select(Account).where(Account.email == email).limit(1))
        return result.scalar_one_or_none()

    async def add(self, account: Account) -> None:
        self.session.add(account)
        await self.session.flush()


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_hash(self, key_hash: str) -> ApiKey | None:
        result = await self.session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
        return result.scalar_one_or_none()

    async def get(self, account_id: str, key_id: str) -> ApiKey | None:
        result = await self.session.execute(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == account_id)
        )
        return result.scalar_one_or_none()

    async def add(self, key: ApiKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def list(self, account_id: str, offset: int, limit: int) -> tuple[list[ApiKey], int]:
        where = ApiKey.account_id == account_id
        total = await self.session.scalar(select(func.count()).select_from(ApiKey).where(where))
        rows = await self.session.execute(
            select(ApiKey).where(where).order_by(ApiKey.id.desc()).offset(offset).limit(limit)
        )
        return list(rows.scalars()), int(total or 0)

    async def revoke(self, key: ApiKey, at: datetime) -> None:
        key.revoked_at = at
        await self.session.flush()
