"""All SQL about money: the ledger and the cached balance."""

from __future__ import annotations

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import Account, LedgerEntry

_accounts: Table = Account.__table__  # type: ignore[assignment]
ledger_entries: Table = LedgerEntry.__table__  # type: ignore[assignment]

# For the group-commit writer: give money back, rows {"account": id, "units": n}.
REFUND = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("account"))
    .values(balance_units=_accounts.c.balance_units + bindparam("units"))
)


class BillingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_entry(self, entry: LedgerEntry) -> int:
        """Record a movement and move the cached balance with it; return the new balance."""
        self.session.add(entry)
        result = await self.session.execute(
            update(Account)
            .where(Account.id == entry.account_id)
            .values(balance_units=Account.balance_units + entry.amount_units)
            .returning(Account.balance_units)
        )
        return int(result.scalar_one())

    async def balance(self, account_id: str) -> int | None:
        return await self.session.scalar(
            select(Account.balance_units).where(Account.id == account_id)
        )
