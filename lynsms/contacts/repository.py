"""All SQL about opt-outs (and, later, contacts)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import OptOut

opt_outs: Table = OptOut.__table__  # type: ignore[assignment]


# For the writer's guard, params {"account", "phone"}: a row means the number opted out.
OPTED_OUT = select(opt_outs.c.phone).where(
    opt_outs.c.account_id == bindparam("account"), opt_outs.c.phone == bindparam("phone")
)


class OptOutRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def among(self, account_id: str, phones: list[str]) -> set[str]:
        result = await self.session.execute(
            select(OptOut.phone).where(OptOut.account_id == account_id, OptOut.phone.in_(phones))
        )
        return set(result.scalars())

    async def add(self, account_id: str, phone: str, source: str, at: datetime) -> bool:
        """Record the opt-out; whether it is new."""
        if await self.session.get(OptOut, (account_id, phone)) is not None:
            return False
        try:
            async with self.session.begin_nested():  # a concurrent STOP may insert it first
                await self.session.execute(
                    opt_outs.insert(),
                    {"account_id": account_id, "phone": phone, "source": source, "created_at": at},
                )
        except IntegrityError:
            return False
        return True

    async def remove(self, account_id: str, phone: str) -> bool:
        result = await self.session.execute(
            delete(OptOut).where(OptOut.account_id == account_id, OptOut.phone == phone)
        )
        return bool(getattr(result, "rowcount", 0))
