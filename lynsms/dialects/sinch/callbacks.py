"""Sinch delivery reports POSTed to a batch's ``callback_url`` (API.md §11, §12).

They travel through the webhook machinery (``lynsms.webhooks``): the status events of a
batch's messages are fanned out to the account's hidden endpoint of format ``sinch``
when the batch asked for reports (``reported_events``), and the delivery worker POSTs
them, retried on the webhook schedule, to the batch's own URL, in Sinch's JSON
(``prepare``):

- ``per_recipient``: a ``recipient_delivery_report_sms`` for every status change of
  every recipient (``Dispatched``, then its final status);
- ``per_recipient_final``: the same for final statuses only;
- ``summary`` / ``full``: one ``delivery_report_sms`` once every message of the batch is
  final, with the counts per status (``full``: and the recipients).

The body is built when it is sent (the event's stored payload gives the recipient's
status at that change); Standard Webhooks headers come along, as on every webhook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.database import Database, session_scope
from lynsms.dialects.hidden import HiddenEndpoint
from lynsms.dialects.sinch.repository import SinchRepository
from lynsms.dialects.sinch.resources import delivery_report, recipient_report
from lynsms.messages import status as st

if TYPE_CHECKING:
    from lynsms.webhooks.delivery import Job

FORMAT = "sinch"  # the webhook endpoint format that carries them
FINAL_EVENTS = frozenset(
    {
        "message.delivered",
        "message.undelivered",
        "message.failed",
        "message.expired",
        "message.cancelled",
    }
)
EVENTS = FINAL_EVENTS | {"message.sent"}
_FINAL = (st.DELIVERED, st.UNDELIVERED, st.FAILED, st.EXPIRED, st.CANCELLED)


# Each batch names its own callback_url.
ENDPOINT = HiddenEndpoint(
    "sn", FORMAT, "sinch:callback_url", "Sinch-compatible API: each batch's callback_url", EVENTS
)


async def reported_events(session: AsyncSession, pending: Sequence[RowMapping]) -> frozenset[str]:
    """The ids of the events (of ``pending``) that make a Sinch callback.

    A ``summary``/``full`` batch reports once: the first final event seen when none of its
    messages is waiting any more claims the batch (``reported``) in this transaction.
    """
    wanted = [event for event in pending if event["message_id"] and event["type"] in EVENTS]
    if not wanted:
        return frozenset()
    repository = SinchRepository(session)
    by_message = await repository.reporting(sorted({event["message_id"] for event in wanted}))
    chosen: set[str] = set()
    claimed: set[str] = set()
    for event in wanted:
        found = by_message.get(event["message_id"])
        if found is None:
            continue
        batch_id, kind = found
        if kind == "per_recipient":
            chosen.add(event["id"])
        elif event["type"] not in FINAL_EVENTS:
            continue
        elif kind == "per_recipient_final":
            chosen.add(event["id"])
        elif batch_id not in claimed and await _claim_summary(repository, batch_id):
            claimed.add(batch_id)
            chosen.add(event["id"])
    return frozenset(chosen)


async def _claim_summary(repository: SinchRepository, batch_id: str) -> bool:
    """Whether every message of the batch is final and its summary not yet claimed (it is
    now)."""
    messages = await repository.messages(batch_id)
    if any(row["status"] not in _FINAL for row in messages):
        return False
    return await repository.claim_summary(batch_id)


async def prepare(database: Database, jobs: list[Job]) -> list[Job]:
    """The jobs, those of ``sinch`` endpoints with their Sinch body as payload."""
    if not any(job.format == FORMAT for job in jobs):
        return jobs
    prepared = []
    async with session_scope(database, write=False) as session:
        repository = SinchRepository(session)
        for job in jobs:
            if job.format == FORMAT:
                body = await _body(repository, job)
                job = (
                    dataclasses.replace(job, payload=body)
                    if body is not None
                    else dataclasses.replace(job, endpoint_live=False)
                )
            prepared.append(job)
    return prepared


async def _body(repository: SinchRepository, job: Job) -> str | None:
    """The Sinch JSON of one callback; None if its batch is gone."""
    message: dict[str, Any] = orjson.loads(job.payload)["data"]
    batch_id = await repository.batch_of(message["id"])
    batch = (
        None
        if batch_id is None
        else await repository.batch(job.account_id, message["mode"], batch_id)
    )
    if batch is None:
        return None
    if batch["delivery_report"] in ("summary", "full"):
        rows = list(await repository.messages(batch["id"]))
        report = delivery_report(batch, rows, full=batch["delivery_report"] == "full")
    else:
        report = recipient_report(batch, message, job.event_created_at)  # the change's time
    return orjson.dumps(report).decode()
