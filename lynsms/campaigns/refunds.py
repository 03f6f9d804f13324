"""Giving back the prepaid package SMS of many campaign messages in a few statements.

``billing`` returns one message's package SMS at a time (``RETURN_SMS``); a cancelled
campaign may hold 100,000 unsent messages, so here the same two updates take the
message ids as a subquery.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing.repository import package_uses, packages

pu, pk = package_uses.c, packages.c


async def give_back(
    session: AsyncSession, campaign: Any, unsent: Select[Any], cancelled: list[str], now: datetime
) -> None:
    """Return the package SMS of ``unsent`` (a select of message ids) and ``cancelled``."""
    if not await _any_package_use(session, campaign["account_id"]):
        return
    chunks = [cancelled[start : start + 5_000] for start in range(0, len(cancelled), 5_000)]
    for ids in [None, *chunks]:
        owned = pu.message_id.in_(unsent) if ids is None else pu.message_id.in_(ids)
        open_uses = owned & pu.refunded_at.is_(None)
        await session.execute(
            update(packages)
            .where(pk.id.in_(select(pu.package_id).where(open_uses)))
            .values(
                used_sms=pk.used_sms
                - select(func.coalesce(func.sum(pu.sms), 0))
                .where(open_uses, pu.package_id == pk.id)
                .scalar_subquery()
            )
        )
        await session.execute(update(package_uses).where(open_uses).values(refunded_at=now))


async def _any_package_use(session: AsyncSession, account_id: str) -> bool:
    """Whether the account ever had packages (else there is nothing to give back)."""
    found = await session.scalar(select(pk.id).where(pk.account_id == account_id).limit(1))
    return found is not None
