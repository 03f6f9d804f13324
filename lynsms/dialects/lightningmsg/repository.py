"""The SQL of the LightningMSG dialect: the account's secret_code hash, its active
packages (the string counters), and the sender its messages go out from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import LightningmsgSecret, Package, Sender

secrets_table: Table = LightningmsgSecret.__table__  # type: ignore[assignment]


class LightningRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def secret_hash(self, account_id: str) -> str | None:
        result = await self.session.scalar(
            select(LightningmsgSecret.secret_hash).where(
                LightningmsgSecret.account_id == account_id
            )
        )
        return result

    async def replace_secret(self, account_id: str, secret_hash: str, at: datetime) -> None:
        await self.session.execute(
            delete(secrets_table).where(secrets_table.c.account_id == account_id)
        )
        self.session.add(
            LightningmsgSecret(account_id=account_id, secret_hash=secret_hash, created_at=at)
        )
        await self.session.flush()

    async def active_packages(self, account_id: str, now: datetime) -> Sequence[Package]:
        """The packages not yet expired, soonest-expiring first (the order they are spent)."""
        result = await self.session.scalars(
            select(Package)
            .where(Package.account_id == account_id, Package.expire_at > now)
            .order_by(Package.expire_at, Package.id)
        )
        return result.all()

    async def counters(self, account_id: str, now: datetime) -> tuple[int, int]:
        """``(total_sms, used_sms)`` over the active packages."""
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(Package.total_sms), 0),
                    func.coalesce(func.sum(Package.used_sms), 0),
                ).where(Package.account_id == account_id, Package.expire_at > now)
            )
        ).one()
        return int(row[0]), int(row[1])

    async def sender(self, account_id: str) -> str | None:
        """The account's first approved sender (LightningMSG requests name none)."""
        result = await self.session.scalar(
            select(Sender.sender_id)
            .where(Sender.account_id == account_id, Sender.status == "approved")
            .order_by(Sender.created_at, Sender.id)
            .limit(1)
        )
        return result
