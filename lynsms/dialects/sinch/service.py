"""The Sinch XMS API as calls to our services: one send path, one set of messages.

A batch is one ``lynsms.messages.service.send_bulk`` call: its id is the bulk id, and
the batch row and its message links (``sinch_batches``, ``sinch_batch_messages``) are
written by the send's ``attach`` hook, in the transaction that accepts the messages, so
no status change of a message can precede its batch. Cancelling is ``cancel_message``
(refunds included) for each message still waiting. The services' refusals
(``LynSMSError``) leave through the routes, translated into Sinch's.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import RowMapping

from lynsms.accounts.auth import Principal
from lynsms.database import session_scope
from lynsms.dialects import hidden
from lynsms.dialects.sinch import callbacks, requests
from lynsms.dialects.sinch import errors as e
from lynsms.dialects.sinch.errors import SinchError, bad_request, invalid_format, not_found
from lynsms.dialects.sinch.repository import SinchRepository, batch_messages, batches
from lynsms.dialects.sinch.requests import DEFAULT_EXPIRY, Batch, bare
from lynsms.dialects.sinch.resources import (
    DRY_RUN_ENCODINGS,
    STATUSES,
    batch_object,
    delivery_report,
    inbound_object,
    recipient_report,
    refused_report,
)
from lynsms.exceptions import Conflict
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.segments import segment
from lynsms.messages import service as messages_service
from lynsms.messages import status as st
from lynsms.messages.schemas import BulkRequest
from lynsms.runtime import Runtime
from lynsms.senders import service as senders_service
from lynsms.writer import WriteOp

MAX_BODY = messages_service.MAX_BODY
NATIVE_REFERENCE = 128  # a longer client_reference stays on the batch only
DRY_RUN_RECIPIENTS = 100  # Sinch's default number_of_recipients
_CANCELLABLE = (st.SCHEDULED, st.QUEUED)


async def create(runtime: Runtime, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """``POST /batches``: send every recipient's message as one bulk; answer the batch."""
    spec = requests.batch(data)
    _check_bodies(spec)
    if spec.delivery_report != "none":
        if spec.callback_url is None:
            raise SinchError(
                403,
                e.MISSING_CALLBACK_URL,
                "A delivery report was requested without a callback_url.",
            )
        await hidden.ensure(runtime, principal, callbacks.ENDPOINT)
    now = utcnow()
    send_at = spec.send_at if spec.send_at is not None and spec.send_at > now else None
    expire_at = spec.expire_at or (send_at or now) + DEFAULT_EXPIRY
    reference = spec.client_reference
    bulk = BulkRequest.model_validate(
        {
            "from": spec.sender,
            "messages": [{"to": number, "body": spec.bodies[number]} for number in spec.to],
            "reference": reference if reference and len(reference) <= NATIVE_REFERENCE else None,
            "send_at": isoformat(send_at),
            "expire_at": isoformat(expire_at),
        }
    )
    batch: dict[str, Any] = {}
    attach = partial(_register, spec, send_at, expire_at, batch)
    result = await messages_service.send_bulk(runtime, principal, bulk, attach)
    if not batch:  # nothing accepted (every recipient refused): the batch alone
        owner = (principal.account_id, principal.environment)
        batch.update(_batch_row(spec, owner, result["id"], send_at, expire_at, []))
        await runtime.database.writer.submit(WriteOp().insert(batches, [batch]))
    return batch_object(batch)


def _check_bodies(spec: Batch) -> None:
    """A batch is refused whole for a body, as Sinch does (not message by message)."""
    for body in spec.bodies.values():
        if body == "":
            raise bad_request(e.CONSTRAINT, "Parameter 'body' must not be empty.")
        if len(body) > MAX_BODY:
            raise bad_request(e.CONSTRAINT, f"Parameter 'body' exceeds {MAX_BODY} characters.")


def _batch_row(
    spec: Batch,
    owner: tuple[str, str],
    batch_id: str,
    send_at: datetime | None,
    expire_at: datetime,
    accepted: list[str],
) -> dict[str, Any]:
    """The batch row; ``owner`` is the account and mode."""
    now = utcnow()
    taken = set(accepted)
    return {
        "id": batch_id,
        "account_id": owner[0],
        "mode": owner[1],
        "sender": spec.sender,
        "body": spec.body,
        "to": [bare(number) for number in spec.to],
        "refused": [bare(number) for number in spec.to if number not in taken],
        "parameters": spec.parameters,
        "delivery_report": spec.delivery_report,
        "callback_url": spec.callback_url,
        "client_reference": spec.client_reference,
        "send_at": send_at,
        "expire_at": expire_at,
        "canceled": False,
        "reported": False,
        "created_at": now,
        "modified_at": now,
    }


def _register(
    spec: Batch,
    send_at: datetime | None,
    expire_at: datetime,
    batch: dict[str, Any],
    op: WriteOp,
    rows: list[dict[str, Any]],
) -> None:
    """Add the batch and its message links to the write that accepts the messages."""
    owner = (rows[0]["account_id"], rows[0]["mode"])
    accepted = [row["to_number"] for row in rows]
    batch.update(_batch_row(spec, owner, rows[0]["bulk_id"], send_at, expire_at, accepted))
    op.insert(batches, [batch])
    op.insert(batch_messages, [{"message_id": row["id"], "batch_id": batch["id"]} for row in rows])


async def dry_run(
    principal: Principal, data: dict[str, Any], params: dict[str, str]
) -> dict[str, Any]:
    """``POST /batches/dry_run``: parts and encoding per recipient; nothing sent or charged."""
    spec = requests.batch(data)
    _check_bodies(spec)
    senders_service.canonical(spec.sender)
    shown = requests.flag(params, "per_recipient")
    limit = requests.bounded(params, "number_of_recipients", DRY_RUN_RECIPIENTS, 1000)
    per_recipient: list[dict[str, Any]] = []
    total = 0
    for number in spec.to:
        body = spec.bodies[number]
        seg = segment(body)
        total += seg.segments
        if shown and len(per_recipient) < limit:
            per_recipient.append(
                {
                    "recipient": bare(number),
                    "number_of_parts": seg.segments,
                    "body": body,
                    "encoding": DRY_RUN_ENCODINGS[seg.encoding],
                }
            )
    reply: dict[str, Any] = {"number_of_recipients": len(spec.to), "number_of_messages": total}
    if shown:
        reply["per_recipient"] = per_recipient
    return reply


async def get(runtime: Runtime, principal: Principal, batch_id: str) -> dict[str, Any]:
    async with session_scope(runtime.database, write=False) as session:
        return batch_object(await _find(SinchRepository(session), principal, batch_id))


async def list_batches(
    runtime: Runtime, principal: Principal, params: dict[str, str]
) -> dict[str, Any]:
    """``GET /batches``: newest first, Sinch's ``page``/``page_size``/``count``."""
    page, size = requests.page(params)
    filters = {
        "start_date": requests.query_time(params, "start_date"),
        "end_date": requests.query_time(params, "end_date"),
        "from": requests.numbers(params, "from"),
        "client_reference": params.get("client_reference") or None,
    }
    async with session_scope(runtime.database, write=False) as session:
        rows, total = await SinchRepository(session).page(
            principal.account_id, principal.environment, filters, page * size, size
        )
    return {
        "page": page,
        "page_size": len(rows),
        "count": total,
        "batches": [batch_object(row) for row in rows],
    }


async def cancel(runtime: Runtime, principal: Principal, batch_id: str) -> dict[str, Any]:
    """``DELETE /batches/{id}``: cancel every message still waiting (refunded); the batch
    is ``canceled`` from then on. Messages already handed over go on (as at Sinch)."""
    async with session_scope(runtime.database, write=True) as session:
        repository = SinchRepository(session)
        await _find(repository, principal, batch_id)
        for row in await repository.messages(batch_id):
            if row["status"] in _CANCELLABLE:
                with suppress(Conflict):  # handed over meanwhile
                    await messages_service.cancel_message(session, principal, row["id"])
        await repository.mark_canceled(batch_id, utcnow())
        return batch_object(await _find(repository, principal, batch_id))


async def report(
    runtime: Runtime, principal: Principal, batch_id: str, params: dict[str, str]
) -> dict[str, Any]:
    """``GET /batches/{id}/delivery_report``: ``type`` summary (default) or full, filtered
    by ``status`` and ``code`` (comma-separated)."""
    kind = params.get("type") or "summary"
    if kind not in ("summary", "full"):
        raise invalid_format("type", kind, "is not one of summary, full")
    statuses = requests.listed(params, "status")
    for status in statuses:
        if status not in STATUSES:
            raise invalid_format("status", status, "is not a delivery status")
    codes = []
    for code in requests.listed(params, "code"):
        if not code.isdigit():
            raise invalid_format("code", code, "is not a status code")
        codes.append(int(code))
    async with session_scope(runtime.database, write=False) as session:
        repository = SinchRepository(session)
        batch = await _find(repository, principal, batch_id)
        rows = list(await repository.messages(batch_id))
    return delivery_report(batch, rows, full=kind == "full", statuses=statuses, codes=codes)


async def recipient(
    runtime: Runtime, principal: Principal, batch_id: str, raw_number: str
) -> dict[str, Any]:
    """``GET /batches/{id}/delivery_report/{recipient_msisdn}``."""
    try:
        number = requests.msisdn(raw_number)
    except ValueError:
        raise invalid_format("recipient_msisdn", raw_number, "is not a valid MSISDN") from None
    async with session_scope(runtime.database, write=False) as session:
        repository = SinchRepository(session)
        batch = await _find(repository, principal, batch_id)
        row = await repository.message_to(batch_id, number)
    if row is not None:
        return recipient_report(batch, dict(row))
    if bare(number) in batch["refused"]:
        return refused_report(batch, bare(number))
    raise not_found(f"No delivery report for recipient '{bare(number)}' in batch '{batch_id}'.")


async def inbounds(
    runtime: Runtime, principal: Principal, params: dict[str, str]
) -> dict[str, Any]:
    """``GET /inbounds``: the account's received messages, newest first (live keys)."""
    page, size = requests.page(params)
    filters = {
        "start_date": requests.query_time(params, "start_date"),
        "end_date": requests.query_time(params, "end_date"),
        "to": requests.numbers(params, "to"),
    }
    rows: list[RowMapping] = []
    total = 0
    if not principal.is_test:  # inbound messages are live
        async with session_scope(runtime.database, write=False) as session:
            found, total = await SinchRepository(session).inbounds(
                principal.account_id, filters, page * size, size
            )
            rows = list(found)
    return {
        "page": page,
        "page_size": len(rows),
        "count": total,
        "inbounds": [inbound_object(row) for row in rows],
    }


async def inbound(runtime: Runtime, principal: Principal, inbound_id: str) -> dict[str, Any]:
    row = None
    if not principal.is_test:
        async with session_scope(runtime.database, write=False) as session:
            row = await SinchRepository(session).inbound(principal.account_id, inbound_id)
    if row is None:
        raise not_found(f"No inbound message '{inbound_id}'.")
    return inbound_object(row)


async def _find(repository: SinchRepository, principal: Principal, batch_id: str) -> RowMapping:
    row = await repository.batch(principal.account_id, principal.environment, batch_id)
    if row is None:
        raise not_found(f"Batch '{batch_id}' not found.")
    return row
