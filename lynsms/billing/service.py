"""The ledger: top-ups, debits at accept, refunds; the balance never goes negative."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing.repository import REFUND, BillingRepository, ledger_entries
from lynsms.exceptions import NotFound, ValidationFailed
from lynsms.kit.clock import utcnow
from lynsms.kit.money import to_number, to_units
from lynsms.models import LedgerEntry
from lynsms.writer import WriteOp


async def top_up(session: AsyncSession, account_id: str, amount: Decimal, description: str) -> int:
    units = to_units(amount)
    if units <= 0:
        raise ValidationFailed("The amount must be positive.", param="amount")
    if await BillingRepository(session).balance(account_id) is None:
        raise NotFound(f"No account {account_id}.", param="account_id")
    entry = LedgerEntry(
        account_id=account_id,
        kind="topup",
        amount_units=units,
        description=description,
        created_at=utcnow(),
    )
    return await BillingRepository(session).add_entry(entry)


async def balance(session: AsyncSession, account_id: str, currency: str) -> dict[str, Any]:
    units = await BillingRepository(session).balance(account_id)
    if units is None:
        raise NotFound(f"No account {account_id}.")
    return {
        "object": "balance",
        "balance": to_number(units),
        "currency": currency,
        "package_sms_remaining": 0,
    }


async def refund(session: AsyncSession, account_id: str, units: int, message_id: str) -> int:
    entry = LedgerEntry(
        account_id=account_id,
        kind="refund",
        amount_units=units,
        reference_id=message_id,
        description="refund",
        created_at=utcnow(),
    )
    return await BillingRepository(session).add_entry(entry)


def add_debit(op: WriteOp, account_id: str, units: int, reference_id: str, what: str) -> None:
    """Reserve ``units`` in ``op``: refused with 402 by the writer if the balance is short."""
    if units <= 0:
        return
    op.debit = (account_id, units)
    op.insert(ledger_entries, [_entry(account_id, "debit", -units, reference_id, what)])


def add_refunds(op: WriteOp, refunds: list[tuple[str, int, str]]) -> None:
    """Give back reserved money: ``(account_id, units, message_id)`` each."""
    refunds = [refund for refund in refunds if refund[1] > 0]
    op.update(REFUND, [{"account": account, "units": units} for account, units, _ in refunds])
    op.insert(
        ledger_entries,
        [
            _entry(account, "refund", units, message, "refund")
            for account, units, message in refunds
        ],
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
