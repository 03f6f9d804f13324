"""The ledger and prepaid packages: top-ups, debits at accept, refunds; never negative.

A live send is paid from the account's prepaid packages first (seed 003), segment
by segment, soonest-expiring package first; what they do not cover is paid in
money. The writer takes both in the transaction that inserts the messages
(``lynsms.billing.reserve``). A message's ``cost_units`` is the money it
reserved, and ``package_uses`` records the package SMS it took, so a refund
gives back exactly that: the money to the balance, the SMS to their packages.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing.repository import (
    MARK_RETURNED,
    REFUND,
    RETURN_SMS,
    BillingRepository,
    ledger_entries,
    package_uses,
)
from lynsms.billing.reserve import Charge, Debit
from lynsms.exceptions import NotFound, ValidationFailed
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.money import to_number, to_units
from lynsms.models import LedgerEntry, Package
from lynsms.writer import WriteOp

MAX_PACKAGE_SMS = 1_000_000_000
MAX_PACKAGE_NAME = 100


async def top_up(session: AsyncSession, account_id: str, amount: Decimal, description: str) -> int:
    units = to_units(amount)
    if units <= 0:
        raise ValidationFailed("The amount must be positive.", param="amount")
    await _require_account(session, account_id)
    entry = LedgerEntry(
        account_id=account_id,
        kind="topup",
        amount_units=units,
        description=description,
        created_at=utcnow(),
    )
    return await BillingRepository(session).add_entry(entry)


async def balance(session: AsyncSession, account_id: str, currency: str) -> dict[str, Any]:
    repository = BillingRepository(session)
    units = await repository.balance(account_id)
    if units is None:
        raise NotFound(f"No account {account_id}.")
    return {
        "object": "balance",
        "balance": to_number(units),
        "currency": currency,
        "package_sms_remaining": await repository.package_sms_left(account_id, utcnow()),
    }


async def refund(session: AsyncSession, account_id: str, units: int, message_id: str) -> None:
    """Give back what a send reserved: its package SMS, and ``units`` of money (its cost)."""
    repository = BillingRepository(session)
    await repository.return_package_sms(message_id, utcnow())
    if units <= 0:
        return
    entry = LedgerEntry(
        account_id=account_id,
        kind="refund",
        amount_units=units,
        reference_id=message_id,
        description="refund",
        created_at=utcnow(),
    )
    await repository.add_entry(entry)


async def refund_many(
    session: AsyncSession,
    account_id: str,
    units: int,
    message_ids: Select[Any],
    reference_id: str,
    what: str,
) -> None:
    """``refund`` for many messages at once (``message_ids`` selects them): their package
    SMS back set-wise, and ``units`` of money in one ledger entry referencing ``reference_id``."""
    repository = BillingRepository(session)
    await repository.return_package_sms_of(message_ids, utcnow())
    if units <= 0:
        return
    entry = LedgerEntry(
        account_id=account_id,
        kind="refund",
        amount_units=units,
        reference_id=reference_id,
        description=what,
        created_at=utcnow(),
    )
    await repository.add_entry(entry)


def add_debit(
    op: WriteOp,
    account_id: str,
    units: int,
    reference_id: str,
    what: str,
    messages: list[dict[str, Any]] | None = None,
) -> None:
    """Reserve ``units`` in ``op``; the writer refuses the op with 402 if it is short.

    ``messages`` (rows about to be inserted by ``op``) may be covered by prepaid
    packages first; each row's ``cost_units`` then becomes the money it reserved
    (0 when packages covered all its segments), and the ledger row the money taken.
    """
    if units <= 0:
        return
    charges = [
        Charge(row, row["segments"], row["cost_units"])
        for row in messages or ()
        if row["cost_units"] > 0 and row["segments"] > 0
    ]
    debit = Debit(account_id, units, charges, _entry(account_id, "debit", 0, reference_id, what))
    op.debit = debit
    op.insert_later(ledger_entries, debit.ledger_rows)
    if charges:
        op.insert_later(package_uses, debit.use_rows)


def add_refunds(op: WriteOp, refunds: list[tuple[str, int, str]]) -> None:
    """Give back what sends reserved, ``(account_id, units, message_id)`` each: the package
    SMS the message took, and ``units`` of money (its ``cost_units``)."""
    if not refunds:
        return
    now = utcnow()
    op.update(RETURN_SMS, [{"message": message} for _, _, message in refunds])
    op.update(MARK_RETURNED, [{"message": message, "now": now} for _, _, message in refunds])
    paid = [refund for refund in refunds if refund[1] > 0]
    op.update(REFUND, [{"account": account, "units": units} for account, units, _ in paid])
    op.insert(
        ledger_entries,
        [_entry(account, "refund", units, message, "refund") for account, units, message in paid],
    )


def _entry(account_id: str, kind: str, units: int, reference_id: str, what: str) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "kind": kind,
        "amount_units": units,
        "reference_id": reference_id,
        "description": what,
        "created_at": utcnow(),
    }


async def grant_package(
    session: AsyncSession, account_id: str, name: str, sms: int, expire_at: datetime
) -> Package:
    """Give an account ``sms`` prepaid SMS (segments) usable until ``expire_at``."""
    name = name.strip()
    if not name or len(name) > MAX_PACKAGE_NAME:
        raise ValidationFailed(
            f"The name must be 1 to {MAX_PACKAGE_NAME} characters.", param="name"
        )
    if not 0 < sms <= MAX_PACKAGE_SMS:
        raise ValidationFailed(f"SMS must be between 1 and {MAX_PACKAGE_SMS:,}.", param="sms")
    now = utcnow()
    if expire_at <= now:
        raise ValidationFailed(f"The expiry {isoformat(expire_at)} is past.", param="expires")
    await _require_account(session, account_id)
    package = Package(
        id=new_id("pkg"),
        account_id=account_id,
        name=name,
        total_sms=sms,
        used_sms=0,
        expire_at=expire_at,
        created_at=now,
    )
    await BillingRepository(session).add_package(package)
    return package


async def list_packages(
    session: AsyncSession, account_id: str, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The account's packages as API objects, newest first, expired ones included."""
    packages, total = await BillingRepository(session).packages(account_id, offset, limit)
    now = utcnow()
    return [package_to_dict(package, now) for package in packages], total


def package_to_dict(package: Package, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": package.id,
        "object": "package",
        "name": package.name,
        "total_sms": package.total_sms,
        "used_sms": package.used_sms,
        "remaining_sms": package.total_sms - package.used_sms,
        "expire_date": isoformat(package.expire_at),
        "expired": package.expire_at <= (now or utcnow()),
        "created_at": isoformat(package.created_at),
    }


async def _require_account(session: AsyncSession, account_id: str) -> None:
    if await BillingRepository(session).balance(account_id) is None:
        raise NotFound(f"No account {account_id}.", param="account_id")
