"""All SQL about sender ids."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.models import Account, Sender


class SenderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, account_id: str, sender_pk: str) -> Sender | None:
        result = await self.session.execute(
            select(Sender).where(Sender.id == sender_pk, Sender.account_id == account_id)
        )
        return result.scalar_one_or_none()

    async def find(self, account_id: str, sender_id: str) -> Sender | None:
        result = await self.session.execute(
            select(Sender).where(Sender.account_id == account_id, Sender.sender_id == sender_id)
        )
        return result.scalar_one_or_none()

    async def is_approved(self, account_id: str, sender_id: str) -> bool:
        result = await self.session.scalar(
            select(Sender.id).where(
                Sender.account_id == account_id,
                Sender.sender_id == sender_id,
                Sender.status == "approved",
            )
        )
        return result is not None

    async def owner_of_number(self, number: str) -> tuple[str, str] | None:
        """``(account_id, currency)`` of the account with ``number`` as an approved long code."""
        result = await self.session.execute(
            select(Sender.account_id, Account.currency)
            .join(Account, Account.id == Sender.account_id)
            .where(
                Sender.sender_id == number, Sender.type == "long_code", Sender.status == "approved"
            )
            .order_by(Sender.created_at)
            .limit(1)
        )
        row = result.first()
        return (row[0], row[1]) if row else None

    async def add(self, sender: Sender) -> None:
        self.session.add(sender)
        await self.session.flush()

    async def list(self, account_id: str, offset: int, limit: int) -> tuple[list[Sender], int]:
        where = Sender.account_id == account_id
        total = await self.session.scalar(select(func.count()).select_from(Sender).where(where))
        rows = await self.session.execute(
            select(Sender).where(where).order_by(Sender.id.desc()).offset(offset).limit(limit)
        )
        return list(rows.scalars()), int(total or 0)
