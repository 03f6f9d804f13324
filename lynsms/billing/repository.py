"""All SQL about money and prepaid packages: the ledger, the cached balance, package SMS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, Update, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import Account, LedgerEntry, Package, PackageUse, UTCDateTime

_accounts: Table = Account.__table__  # type: ignore[assignment]
ledger_entries: Table = LedgerEntry.__table__  # type: ignore[assignment]
packages: Table = Package.__table__  # type: ignore[assignment]
package_uses: Table = PackageUse.__table__  # type: ignore[assignment]

# The statements of the group-commit writer's debit step (``lynsms.billing.reserve``).
# Take money, rows {"account": id, "units": n}: changes no row when the balance is short.
DEBIT = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("account"))
    .where(_accounts.c.balance_units >= bindparam("units"))
    .values(balance_units=_accounts.c.balance_units - bindparam("units"))
)
# An account's usable packages, {"account": id, "now": t}: (id, sms left), soonest-expiring
# first, locked on PostgreSQL (SQLite's writer holds the database lock already).
USABLE = (
    select(packages.c.id, packages.c.total_sms - packages.c.used_sms)
    .where(
        packages.c.account_id == bindparam("account"),
        packages.c.expire_at > bindparam("now"),
        packages.c.used_sms < packages.c.total_sms,
    )
    .order_by(packages.c.expire_at, packages.c.id)
    .with_for_update()
)
# Spend package SMS, rows {"package": id, "sms": n}.
SPEND = (
    update(packages)
    .where(packages.c.id == bindparam("package"))
    .values(used_sms=packages.c.used_sms + bindparam("sms"))
)

# Give money back, rows {"account": id, "units": n}.
REFUND = (
    update(_accounts)
    .where(_accounts.c.id == bindparam("account"))
    .values(balance_units=_accounts.c.balance_units + bindparam("units"))
)


def returning_sms(messages: ColumnElement[bool]) -> tuple[Update, Update]:
    """Give the package SMS of the messages ``messages`` picks (a condition on
    ``package_uses.message_id``) back to the packages they came from, then mark those uses
    returned (``now`` bound), so it happens once."""
    unreturned = messages & package_uses.c.refunded_at.is_(None)
    give_back = (
        update(packages)
        .where(packages.c.id.in_(select(package_uses.c.package_id).where(unreturned)))
        .values(
            used_sms=packages.c.used_sms
            - select(func.coalesce(func.sum(package_uses.c.sms), 0))
            .where(unreturned, package_uses.c.package_id == packages.c.id)
            .scalar_subquery()
        )
    )
    mark = (
        update(package_uses)
        .where(unreturned)
        .values(refunded_at=bindparam("now", type_=UTCDateTime()))
    )
    return give_back, mark


# One message's: rows {"message": id} (RETURN_SMS), {"message": id, "now": t} (MARK_RETURNED).
RETURN_SMS, MARK_RETURNED = returning_sms(package_uses.c.message_id == bindparam("message"))


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

    async def return_package_sms(self, message_id: str, now: datetime) -> None:
        await self.session.execute(RETURN_SMS, {"message": message_id})
        await self.session.execute(MARK_RETURNED, {"message": message_id, "now": now})

    async def return_package_sms_of(self, message_ids: Select[Any], now: datetime) -> None:
        """``return_package_sms`` for every message ``message_ids`` selects, set-wise."""
        give_back, mark = returning_sms(package_uses.c.message_id.in_(message_ids))
        await self.session.execute(give_back)
        await self.session.execute(mark, {"now": now})

    async def add_package(self, package: Package) -> None:
        self.session.add(package)
        await self.session.flush()

    async def packages(self, account_id: str, offset: int, limit: int) -> tuple[list[Package], int]:
        """Newest first."""
        where = Package.account_id == account_id
        total = await self.session.scalar(select(func.count()).select_from(Package).where(where))
        rows = await self.session.scalars(
            select(Package).where(where).order_by(Package.id.desc()).offset(offset).limit(limit)
        )
        return list(rows), int(total or 0)

    async def package_sms_left(self, account_id: str, now: datetime) -> int:
        """What the account's unexpired packages still hold."""
        left = await self.session.scalar(
            select(func.coalesce(func.sum(Package.total_sms - Package.used_sms), 0)).where(
                Package.account_id == account_id, Package.expire_at > now
            )
        )
        return int(left or 0)
