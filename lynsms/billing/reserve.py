"""The writer's debit step: a send's cost is taken from prepaid packages first, then money.

It runs inside the group commit's transaction (``lynsms.writer``), before the
op's rows are inserted, so what is taken commits with the messages or not at
all. Per account and batch:

1. one indexed lookup of the usable packages (unexpired, SMS left), soonest
   expiring first, locked on PostgreSQL (skipped when no op of the account
   has messages to cover). An account without packages pays that lookup and
   nothing more: no cache, so a grant from another process (the CLI) counts
   from the next batch on;
2. each op's messages are covered segment by segment from those packages in
   that order (a message may span packages, or be covered in part); what is
   left is priced per segment and taken in money, all ops of the account in
   one conditional UPDATE, or op by op when the balance cannot cover them
   all: an op the balance refuses is refused whole (402) and the package SMS
   it would have used go to the next op;
3. the packages are charged once per package; ``package_uses`` rows record
   which package covered how many segments of which message, so a refund
   gives exactly those back (``RETURN_SMS``).

Accounts are visited in id order, package rows in expiry order: every writer
of every process takes its locks in one order. A ``Debit`` is planned from
scratch on every attempt, so the writer can retry a batch op by op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lynsms.billing.repository import DEBIT, SPEND, USABLE
from lynsms.exceptions import InsufficientBalance
from lynsms.kit.clock import utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lynsms.writer import Execute, Fetch, Outcomes

Wallet = dict[str, int]  # package id -> SMS left, in the order they are spent


@dataclass(slots=True)
class Charge:
    """One message of a debit: packages may cover its segments."""

    row: dict[str, Any]  # the message row; its ``cost_units`` becomes the money it reserved
    segments: int
    units: int  # its price without packages


@dataclass(slots=True)
class Debit:
    """What one op reserves; ``money`` and ``uses`` are the outcome of the latest attempt."""

    account_id: str
    units: int  # the price without packages
    charges: list[Charge]
    entry: dict[str, Any]  # the ledger row, written with the money actually taken
    money: int = 0
    package_sms: int = 0
    uses: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        if self.package_sms:
            for charge in self.charges:
                charge.row["cost_units"] = charge.units
            self.package_sms = 0
            self.uses = []
        self.money = self.units

    def ledger_rows(self) -> list[dict[str, Any]]:
        if not self.money:
            return []
        what = self.entry["description"]
        if self.package_sms:
            what = f"{what} ({self.package_sms} SMS from packages)"
        return [{**self.entry, "amount_units": -self.money, "description": what}]

    def use_rows(self) -> list[dict[str, Any]]:
        return self.uses


def take(
    conn: Connection, debits: Sequence[Debit | None], execute: Execute, fetch: Fetch
) -> Outcomes:
    """Take every debit, or refuse it with ``InsufficientBalance``; one outcome per debit."""
    outcomes: Outcomes = [None] * len(debits)
    by_account: dict[str, list[tuple[int, Debit]]] = {}
    for index, debit in enumerate(debits):
        if debit is not None:
            by_account.setdefault(debit.account_id, []).append((index, debit))
    now = utcnow()
    for account in sorted(by_account):
        indexes, group = zip(*by_account[account], strict=True)
        refused = _take_account(conn, account, list(group), execute, fetch, now)
        for index, outcome in zip(indexes, refused, strict=True):
            outcomes[index] = outcome
    return outcomes


def _take_account(
    conn: Connection,
    account: str,
    debits: list[Debit],
    execute: Execute,
    fetch: Fetch,
    now: datetime,
) -> Outcomes:
    start = _usable(conn, account, debits, fetch, now)
    wallet = dict(start)
    for debit in debits:
        _plan(debit, wallet, now)
    outcomes: Outcomes
    if _pay(conn, account, sum(debit.money for debit in debits), execute):
        outcomes = [None] * len(debits)
    else:
        wallet = dict(start)
        outcomes = [_take_one(conn, debit, wallet, execute, now) for debit in debits]
    _spend(conn, start, wallet, execute)
    return outcomes


def _usable(
    conn: Connection, account: str, debits: list[Debit], fetch: Fetch, now: datetime
) -> Wallet:
    if not any(debit.charges for debit in debits):
        return {}
    rows = fetch(conn, USABLE, {"account": account, "now": now})
    return {str(package): int(left) for package, left in rows}


def _take_one(
    conn: Connection, debit: Debit, wallet: Wallet, execute: Execute, now: datetime
) -> BaseException | None:
    before = dict(wallet)
    _plan(debit, wallet, now)
    if _pay(conn, debit.account_id, debit.money, execute):
        return None
    wallet.update(before)
    debit.reset()
    return InsufficientBalance("The account balance does not cover this request.")


def _pay(conn: Connection, account: str, units: int, execute: Execute) -> bool:
    return units <= 0 or bool(execute(conn, DEBIT, [{"account": account, "units": units}]))


def _plan(debit: Debit, wallet: Wallet, now: datetime) -> None:
    """Cover ``debit``'s messages from ``wallet`` (spent in place); price the rest in money."""
    debit.reset()
    if not wallet:
        return
    for charge in debit.charges:
        covered = _cover(charge, wallet, debit.uses, now)
        if covered:
            value = charge.units * covered // charge.segments
            charge.row["cost_units"] = charge.units - value
            debit.money -= value
            debit.package_sms += covered


def _cover(charge: Charge, wallet: Wallet, uses: list[dict[str, Any]], now: datetime) -> int:
    """Segments of ``charge`` taken from ``wallet``, soonest-expiring package first."""
    wanted = charge.segments
    for package, left in wallet.items():
        sms = min(left, wanted)
        if sms:
            wallet[package] = left - sms
            wanted -= sms
            uses.append(_use(package, charge.row["id"], sms, now))
        if not wanted:
            break
    return charge.segments - wanted


def _use(package: str, message: str, sms: int, now: datetime) -> dict[str, Any]:
    return {
        "package_id": package,
        "message_id": message,
        "sms": sms,
        "created_at": now,
        "refunded_at": None,
    }


def _spend(conn: Connection, start: Wallet, wallet: Wallet, execute: Execute) -> None:
    spent = [
        {"package": package, "sms": left - wallet[package]}
        for package, left in start.items()
        if left != wallet[package]
    ]
    if spent:
        execute(conn, SPEND, spent)
