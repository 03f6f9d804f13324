"""All SQL about accounts and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from lynsms.models import Account, ApiKey

_api_keys: Table = ApiKey.__table__  # type: ignore[assignment]
_accounts: Table = Account.__table__  # type: ignore[assignment]

# For the group-commit writer: rows {"kid": key id, "at": datetime}.
TOUCH_KEYS = (
    update(_api_keys).where(_api_keys.c.id == bindparam("kid")).values(last_used_at=bindparam("at"))
)

# A key and its account's currency in one statement, without an ORM session: on PostgreSQL
# every request reads its key (a revocation holds in every process at the next request).
_PRINCIPAL = (
    select(
        *(_api_keys.c[name] for name in ("id", "account_id", "environment", "scopes")),
        *(_api_keys.c[name] for name in ("rate_limit_per_minute", "allowed_ips", "expires_at")),
        _api_keys.c.revoked_at,
        _accounts.c.currency,
    )
    .select_from(_api_keys.outerjoin(_accounts, _accounts.c.id == _api_keys.c.account_id))
    .where(_api_keys.c.key_hash == bindparam("key_hash"))
)


async def principal_row(conn: AsyncConnection, key_hash: str) -> Row[*tuple[Any, ...]] | None:
    """The key of ``key_hash`` with its account's ``currency``, or None."""
    return (await conn.execute(_PRINCIPAL, {"key_hash": key_hash})).first()


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
