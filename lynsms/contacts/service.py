"""Contacts (API.md §8, §12) and opt-outs: one fact per account and number.

The ``opt_outs`` row of (account, phone) is the only record of an opt-out: an
inbound STOP writes it, ``PATCH /contacts/{id} {opted_out}`` writes or removes
it, the send path's guard reads it, and a contact's ``opted_out`` is that row,
joined on read. So a contact created after a STOP shows it, deleting a contact
does not lift it, and the three never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.contacts import fields
from lynsms.contacts.repository import ContactFilters, ContactRepository, OptOutRepository
from lynsms.contacts.schemas import ContactCreate, ContactUpdate
from lynsms.exceptions import Conflict, NotFound, ValidationFailed
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.logging import get_logger
from lynsms.kit.phones import InvalidNumber, normalise
from lynsms.webhooks.events import event_row, events

log = get_logger("lynsms.contacts")

# Matched on the trimmed, case-insensitive whole body (API.md §10).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "UNSTOP"})
_REQUIRED = ("phone", "opted_out")  # fields a PATCH may not set to null


def keyword(body: str) -> str | None:
    """``"stop"`` for an opt-out body, ``"start"`` for an opt-in, else None."""
    word = body.strip().upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    return None


async def opt_out(session: AsyncSession, account_id: str, phone: str, source: str) -> bool:
    """Record the opt-out and its ``contact.opted_out`` event; whether it is new."""
    added = await OptOutRepository(session).add(account_id, phone, source, utcnow())
    if added:
        data = {"object": "opt_out", "phone": phone, "source": source}
        await session.execute(
            events.insert(), [event_row(account_id, "live", "contact.opted_out", data)]
        )
        log.info("number opted out", account_id=account_id, source=source)
    return added


async def opt_in(session: AsyncSession, account_id: str, phone: str) -> bool:
    removed = await OptOutRepository(session).remove(account_id, phone)
    if removed:
        log.info("number opted back in", account_id=account_id)
    return removed


async def opted_out_among(session: AsyncSession, account_id: str, phones: list[str]) -> set[str]:
    if not phones:
        return set()
    return await OptOutRepository(session).among(account_id, phones)


def phone_of(raw: str, param: str = "phone") -> str:
    """The E.164 form of ``raw``; raises 422 ``invalid_phone_number``."""
    try:
        return normalise(raw)
    except InvalidNumber as exc:
        raise ValidationFailed(f"'{raw}' {exc}.", code="invalid_phone_number", param=param) from exc


async def create_contact(
    session: AsyncSession, account_id: str, spec: ContactCreate
) -> dict[str, Any]:
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id("ct"),
        "account_id": account_id,
        "phone": phone_of(spec.phone),
        "name": spec.name,
        "email": spec.email,
        "attributes": {k: v for k, v in spec.attributes.items() if v is not None},
        "tags": spec.tags or [],
        "created_at": now,
        "updated_at": now,
    }
    repository = ContactRepository(session)
    try:
        await repository.insert(row)
    except IntegrityError as exc:
        raise _exists(row["phone"]) from exc
    await _apply_opt_out(session, account_id, row["phone"], spec.opted_out)
    return await _read(repository, account_id, row["id"])


async def get_contact(session: AsyncSession, account_id: str, contact_id: str) -> dict[str, Any]:
    return await _read(ContactRepository(session), account_id, contact_id)


async def list_contacts(
    session: AsyncSession, account_id: str, filters: ContactFilters, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    rows, total = await ContactRepository(session).page(account_id, filters, offset, limit)
    return [contact_to_dict(row) for row in rows], total


async def update_contact(
    session: AsyncSession, account_id: str, contact_id: str, patch: ContactUpdate
) -> dict[str, Any]:
    """Only the fields sent change: ``null`` clears, ``attributes`` merge, ``tags`` replace."""
    repository = ContactRepository(session)
    current = await repository.get(account_id, contact_id, for_update=True)
    if current is None:
        raise _not_found(contact_id)
    values = _changes(current, patch)
    if values:
        try:
            await repository.update(contact_id, {**values, "updated_at": utcnow()})
        except IntegrityError as exc:
            raise _exists(values["phone"]) from exc
        if "tags" in values:
            await repository.retag(account_id, {contact_id: (current["tags"], values["tags"])})
    phone = values.get("phone", current["phone"])
    await _apply_opt_out(session, account_id, phone, patch.opted_out)
    return await _read(repository, account_id, contact_id)


async def delete_contact(session: AsyncSession, account_id: str, contact_id: str) -> dict[str, Any]:
    """Delete the contact; an opt-out of its number stays (it is the number's, not the
    contact's)."""
    repository = ContactRepository(session)
    contact = await _read(repository, account_id, contact_id)
    await repository.delete(contact_id)
    return contact


def _changes(current: RowMapping, patch: ContactUpdate) -> dict[str, Any]:
    sent = patch.model_fields_set
    for name in _REQUIRED:
        if name in sent and getattr(patch, name) is None:
            raise ValidationFailed(f"'{name}' cannot be null.", param=name)
    values: dict[str, Any] = {}
    if patch.phone is not None and (phone := phone_of(patch.phone)) != current["phone"]:
        values["phone"] = phone
    for name in ("name", "email"):
        if name in sent and getattr(patch, name) != current[name]:
            values[name] = getattr(patch, name)
    if "tags" in sent:
        values["tags"] = patch.tags or []
    if "attributes" in sent:
        values["attributes"] = _merged_attributes(current["attributes"], patch.attributes)
    return values


def _merged_attributes(current: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    if changes is None:
        return {}
    try:
        return fields.merged(current, changes)
    except ValueError as exc:
        raise ValidationFailed(f"'attributes': {exc}.", param="attributes") from exc


async def _apply_opt_out(
    session: AsyncSession, account_id: str, phone: str, opted_out: bool | None
) -> None:
    if opted_out is True:
        await opt_out(session, account_id, phone, "api")
    elif opted_out is False:
        await opt_in(session, account_id, phone)


async def _read(repository: ContactRepository, account_id: str, contact_id: str) -> dict[str, Any]:
    row = await repository.get(account_id, contact_id)
    if row is None:
        raise _not_found(contact_id)
    return contact_to_dict(row)


def _not_found(contact_id: str) -> NotFound:
    return NotFound(f"No contact {contact_id}.", param="id")


def _exists(phone: str) -> Conflict:
    return Conflict(
        f"A contact with phone {phone} already exists.", code="contact_exists", param="phone"
    )


def contact_to_dict(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "contact",
        "phone": row["phone"],
        "name": row["name"],
        "email": row["email"],
        "attributes": row["attributes"] or {},
        "tags": row["tags"] or [],
        "opted_out": row["opted_out_at"] is not None,
        "opted_out_at": isoformat(row["opted_out_at"]),
        "created_at": isoformat(row["created_at"]),
        "updated_at": isoformat(row["updated_at"]),
    }
