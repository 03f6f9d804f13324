"""CSV import of contacts (API.md §8, §12): every row checked first, then batched writes.

The file is parsed and checked (``csvfile``) in a thread, so the event loop keeps
serving; the rows of one phone come down to the last valid one. Then ``BATCH`` rows
at a time: a plan is made from one read of the batch's existing contacts (new
contacts made ready for the driver, merges computed), and a short transaction
checks that none of them was created, changed or deleted since (else the batch is
planned again) and writes: ``COPY`` or one ``executemany`` for the new contacts and
for their tags, one for the changed contacts, one each for removed and added tags.
On SQLite the transaction holds the process's write lock, so sends wait for one
batch's writes at most, never for the file. Re-running an import is harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError

from lynsms.contacts import csvfile, fields
from lynsms.contacts.csvfile import ImportRow, Parsed
from lynsms.contacts.repository import (
    ContactRepository,
    Records,
    contact_tags,
    contacts,
    prepare,
    tag_rows,
)
from lynsms.database import Database, session_scope
from lynsms.kit.clock import utcnow
from lynsms.kit.ids import new_id

BATCH = 2_000
RETRIES = 3  # plans of one batch, when contacts change under it

Progress = Callable[[int, int], None]  # (rows written, rows to write)


async def import_csv(
    database: Database, account_id: str, data: bytes, progress: Progress | None = None
) -> dict[str, Any]:
    """Create or update the account's contacts from ``data``; ``{created, updated, failed}``."""
    parsed = await asyncio.to_thread(csvfile.parse, data)
    rows = list(parsed.rows.values())
    created = updated = 0
    if progress:
        progress(0, len(rows))
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        new, matched = await _write_batch(database, account_id, batch, parsed)
        created, updated = created + new, updated + matched
        if progress:
            progress(start + len(batch), len(rows))
    parsed.failed.sort(key=lambda failure: int(failure["row"]))
    return {"created": created, "updated": updated, "failed": parsed.failed}


# --- writing -------------------------------------------------------------------------------
@dataclass
class Plan:
    """One batch's writes, computed from a read before its transaction: on SQLite the
    transaction holds the process's write lock (sends wait for it), so it only checks that
    nothing changed since the read, then writes."""

    seen: dict[str, datetime]  # phone -> updated_at of each existing contact, as read
    new_phones: frozenset[str]
    contacts: Records  # the new contacts, ready for the driver
    tags: Records  # and their tags
    updates: list[dict[str, Any]] = field(default_factory=list)
    retagged: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)


class Stale(Exception):
    """A contact of the batch was created, changed or deleted since the plan's read."""


async def _write_batch(
    database: Database, account_id: str, batch: list[ImportRow], parsed: Parsed
) -> tuple[int, int]:
    """``(created, updated)`` of one batch, in one transaction (planned again if stale)."""
    for attempt in range(1, RETRIES + 1):
        plan = await _plan(database, account_id, batch)
        try:
            async with session_scope(database, write=True) as session:
                await _apply(ContactRepository(session), account_id, batch, plan)
        except (IntegrityError, Stale):
            if attempt == RETRIES:
                raise
            continue
        parsed.failed.extend(plan.failed)
        return len(plan.new_phones), len(plan.seen) - len(plan.failed)
    raise AssertionError("unreachable")


async def _plan(database: Database, account_id: str, batch: list[ImportRow]) -> Plan:
    async with database.read_sessions() as session:
        found = await ContactRepository(session).existing(account_id, [r.phone for r in batch])
    current = {row["phone"]: row for row in found}
    now, postgresql = utcnow(), not database.settings.is_sqlite
    rows = [_new(account_id, row, now) for row in batch if row.phone not in current]
    tags = tag_rows(account_id, {row["id"]: row["tags"] for row in rows if row["tags"]})
    plan = Plan(
        seen={phone: row["updated_at"] for phone, row in current.items()},
        new_phones=frozenset(row["phone"] for row in rows),
        contacts=prepare(contacts, rows, postgresql),
        tags=prepare(contact_tags, tags, postgresql),
    )
    _plan_updates(plan, batch, current, now)
    return plan


def _plan_updates(
    plan: Plan, batch: Sequence[ImportRow], current: dict[str, RowMapping], now: datetime
) -> None:
    """The updates of the existing contacts, and their tags where they change."""
    for row in batch:
        contact = current.get(row.phone)
        if contact is None:
            continue
        try:
            change = _merge(contact, row, now)
        except ValueError as exc:
            error = {"code": "validation_error", "message": str(exc)}
            plan.failed.append({"row": row.number, "error": error})
            continue
        if change is not None:
            plan.updates.append(change)
            if change["p_tags"] != contact["tags"]:
                plan.retagged[contact["id"]] = (contact["tags"], change["p_tags"])


async def _apply(
    repository: ContactRepository, account_id: str, batch: Sequence[ImportRow], plan: Plan
) -> None:
    versions = await repository.versions(account_id, [row.phone for row in batch])
    if versions != plan.seen:
        raise Stale
    await repository.insert_prepared(plan.contacts, plan.tags)
    await repository.update_many(plan.updates)
    await repository.retag(account_id, plan.retagged)


def _new(account_id: str, row: ImportRow, now: datetime) -> dict[str, Any]:
    return {
        "id": new_id("ct"),
        "account_id": account_id,
        "phone": row.phone,
        "name": row.name,
        "email": row.email,
        "attributes": row.attributes,
        "tags": row.tags or [],
        "created_at": now,
        "updated_at": now,
    }


def _merge(current: RowMapping, row: ImportRow, now: datetime) -> dict[str, Any] | None:
    """The update of an existing contact (absent cells keep its values), or None if the row
    changes nothing. Raises ValueError when the attributes would be too many."""
    merged = {
        "p_name": current["name"] if row.name is None else row.name,
        "p_email": current["email"] if row.email is None else row.email,
        "p_attributes": fields.merged(current["attributes"] or {}, row.attributes),
        "p_tags": current["tags"] if row.tags is None else row.tags,
    }
    before = (current["name"], current["email"], current["attributes"] or {}, current["tags"])
    if tuple(merged.values()) == before:
        return None
    return {"p_id": current["id"], **merged, "p_updated_at": now}
