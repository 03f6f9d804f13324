"""Sending, reading and cancelling messages (API.md §3)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts.auth import Principal
from lynsms.billing import service as billing_service
from lynsms.contacts import service as contacts_service
from lynsms.contacts.repository import OPTED_OUT
from lynsms.exceptions import Conflict, NotFound, ValidationFailed
from lynsms.kit.clock import parse_timestamp, utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.metrics import MESSAGES_ACCEPTED
from lynsms.kit.phones import InvalidNumber, country_of, normalise
from lynsms.kit.segments import Segmentation, segment
from lynsms.media import service as media_service
from lynsms.messages import status as st
from lynsms.messages.dispatch import deadline_in, dispatch
from lynsms.messages.repository import MessageRepository, messages
from lynsms.messages.schemas import BulkRequest, SendOptions, SendRequest
from lynsms.messages.views import bulk_item, message_to_dict
from lynsms.routing.service import MMS_COUNTRIES, MMS_PROVIDERS, PROVIDER_NAMES
from lynsms.runtime import Runtime
from lynsms.senders import service as senders_service
from lynsms.templates import service as templates
from lynsms.webhooks.events import events, message_event
from lynsms.writer import WriteOp

MAX_BODY = 1600
MAX_RECIPIENTS = 1000
MAX_MEDIA = 10  # per MMS (Twilio's limit; Sinch and ClickSend carry one, see routing)
DEFAULT_VALIDITY = timedelta(hours=48)
LEASE_MARGIN = 5.0
Attach = Callable[[WriteOp, list[dict[str, Any]]], None]


@dataclass(frozen=True, slots=True)
class Common:
    """The validated options shared by every message of one request."""

    sender: str
    provider: str | None
    route_id: int | None
    reference: str | None
    send_at: datetime | None
    expire_at: datetime | None  # explicit expire_at; else start + validity
    validity: timedelta
    locked_until: datetime
    accepted_at: datetime  # created_at of every message of the request
    media_urls: tuple[str, ...] = ()  # an MMS's media (public URLs); () for an SMS


async def send_one(
    runtime: Runtime, principal: Principal, request: SendRequest, attach: Attach | None = None
) -> dict[str, Any]:
    """``attach(op, rows)`` may add rows to the write that accepts the message (a dialect's
    per-message data, committed with it)."""
    if templates.wanted(request) or (request.body is None and not _is_mms(request)):
        request = await templates.resolve(runtime, principal, request)
    common = await _common(runtime, principal, request)
    row = _row(runtime, principal, common, request.to, request.body, {})
    opted_out = ValidationFailed(
        f"{row['to_number']} has opted out of messages from this account.",
        code="recipient_opted_out",
        param="to",
    )
    guard = (OPTED_OUT, {"account": principal.account_id, "phone": row["to_number"]}, opted_out)
    if not await _accept(runtime, principal, [row], row["id"], "message", guard, attach):
        await _dispatch_now(runtime, [row])
    return message_to_dict(row)


async def send_bulk(
    runtime: Runtime, principal: Principal, request: BulkRequest, attach: Attach | None = None
) -> dict[str, Any]:
    """``attach(op, rows)`` as in ``send_one``: called with the accepted rows (when any)."""
    if templates.wanted(request):
        request = await templates.resolve(runtime, principal, request)
    items = _bulk_items(request)
    common = await _common(runtime, principal, request)
    bulk_id, segmentations = new_id("blk"), dict[str, Segmentation]()
    rows: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for to, body, overrides in items:
        try:
            row = _row(runtime, principal, common, to, body, overrides, bulk_id, segmentations)
        except ValidationFailed as exc:
            results.append(_failed_item(to, exc))
            continue
        rows.append(row)
        results.append(row)
    rows = await _drop_opted_out(runtime, principal, rows, results)
    if rows:
        what = f"bulk of {len(rows)}"
        if not await _accept(runtime, principal, rows, bulk_id, what, attach=attach):
            await _dispatch_now(runtime, rows)
    return _bulk_result(bulk_id, [bulk_item(r) if "to_number" in r else r for r in results])


async def _common(runtime: Runtime, principal: Principal, options: SendOptions) -> Common:
    now = utcnow()
    sender, _ = senders_service.canonical(options.from_)
    if not principal.is_test and not await runtime.approvals.is_approved(
        runtime.database, principal.account_id, sender
    ):
        raise ValidationFailed(
            f"Sender '{sender}' is not approved for live sends on this account.",
            code="sender_not_approved",
            param="from",
        )
    if options.provider is not None and options.provider not in PROVIDER_NAMES:
        raise ValidationFailed(
            f"Unknown provider '{options.provider}'; one of {', '.join(PROVIDER_NAMES)}.",
            code="unknown_provider",
            param="provider",
        )
    send_at = _schedule(options.send_at, now, "send_at")
    media_urls = await _media(runtime, principal, options)
    lease = runtime.settings.routing.send_budget + runtime.settings.routing.provider_timeout
    return Common(
        sender=sender,
        provider=options.provider,
        route_id=options.route_id,
        reference=options.reference,
        send_at=send_at,
        expire_at=_expire_at(options.expire_at),
        validity=timedelta(seconds=options.validity_period)
        if options.validity_period
        else DEFAULT_VALIDITY,
        locked_until=now + timedelta(seconds=lease + LEASE_MARGIN),
        accepted_at=now,
        media_urls=media_urls,
    )


def _is_mms(options: SendOptions) -> bool:
    return options.media_ids is not None or options.media_urls is not None


async def _media(runtime: Runtime, principal: Principal, options: SendOptions) -> tuple[str, ...]:
    """The media of an MMS (API.md §8, §12): uploaded ``media_ids`` of this account and
    mode, then ``media_urls``; () for an SMS. Refuses a provider that has no MMS."""
    if not _is_mms(options):
        return ()
    ids, urls = options.media_ids or [], options.media_urls or []
    param = "media_ids" if options.media_ids is not None else "media_urls"
    if not ids and not urls:
        raise ValidationFailed("An MMS needs at least one media.", param=param)
    if len(ids) + len(urls) > MAX_MEDIA:
        raise ValidationFailed(f"At most {MAX_MEDIA} media per MMS.", param=param)
    for url in urls:
        if not _public_url(url):
            raise ValidationFailed(f"'{url[:100]}' is not an http(s) URL.", param="media_urls")
    if options.provider is not None and options.provider not in MMS_PROVIDERS:
        raise ValidationFailed(
            f"Provider '{options.provider}' does not send MMS; use one of "
            f"{', '.join(MMS_PROVIDERS)}.",
            code="mms_not_supported",
            param="provider",
        )
    resolved = await media_service.urls_for_send(runtime, principal, ids)
    return (*resolved, *urls)


def _public_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and len(url) <= 2048


def _schedule(raw: str | None, now: datetime, param: str) -> datetime | None:
    if raw is None:
        return None
    try:
        when = parse_timestamp(raw)
    except ValueError as exc:
        raise ValidationFailed(
            f"'{param}' is not an ISO-8601 timestamp.", code="invalid_schedule_date", param=param
        ) from exc
    if when <= now:
        raise ValidationFailed(
            f"'{param}' must be in the future.", code="invalid_schedule_date", param=param
        )
    return when


def _expire_at(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise ValidationFailed(
            "'expire_at' is not an ISO-8601 timestamp.", param="expire_at"
        ) from exc


def _row_expiry(common: Common, start: datetime) -> datetime:
    if common.expire_at is None:
        return start + common.validity
    if common.expire_at <= start:
        raise ValidationFailed("'expire_at' must be after the send time.", param="expire_at")
    return common.expire_at


def _row(
    runtime: Runtime,
    principal: Principal,
    common: Common,
    raw_to: str,
    body: str | None,
    overrides: Mapping[str, Any],
    bulk_id: str | None = None,
    segmentations: dict[str, Segmentation] | None = None,
) -> dict[str, Any]:
    """Validate one recipient and body; the message row, ready to insert."""
    to = _recipient(raw_to)
    country = country_of(to)
    media = common.media_urls
    if media:  # an MMS: body optional, one message whatever its length, priced [prices] mms
        if country not in MMS_COUNTRIES:
            raise ValidationFailed(
                f"MMS goes to US and CA numbers only; {to} is in {country}.",
                code="mms_not_supported",
                param="to",
            )
        text = _body(body or "", allow_empty=True)
        seg = _segment(text, segmentations)
        segments, cost_units = 1, runtime.prices.mms_units
    else:
        text = _body(body)
        seg = _segment(text, segmentations)
        segments, cost_units = seg.segments, runtime.prices.cost(country, seg.segments)
    runtime.router.chain(
        test=principal.is_test,
        country=country,
        provider=common.provider,
        route_id=common.route_id,
        media=len(media),
        text=bool(text),
    )
    send_at = overrides.get("send_at", common.send_at)
    now = common.accepted_at
    expire_at = _row_expiry(common, send_at or now)
    return {
        "id": new_id("msg"),
        "account_id": principal.account_id,
        "api_key_id": principal.key_id,
        "mode": principal.environment,
        "direction": "outbound",
        "to_number": to,
        "from_number": common.sender,
        "body": text,
        "reference": overrides.get("reference") or common.reference,
        "status": st.SCHEDULED if send_at else st.QUEUED,
        "encoding": seg.encoding,
        "segments": segments,
        "cost_units": cost_units,
        "currency": principal.currency,
        "country": country,
        "provider": None,
        "provider_message_id": None,
        "route_id": None,
        "requested_provider": common.provider,
        "requested_route_id": common.route_id,
        "attempts": 0,
        "error_code": None,
        "error_message": None,
        "bulk_id": bulk_id,
        "next_attempt_at": send_at or now,
        "locked_until": None if send_at else common.locked_until,
        "expire_at": expire_at,
        "send_at": send_at,
        "sent_at": None,
        "delivered_at": None,
        "created_at": now,
        "updated_at": now,
        "type": "mms" if media else "sms",
        "media_urls": json.dumps(list(media)) if media else None,
    }


def _recipient(raw: str) -> str:
    try:
        return normalise(raw)
    except InvalidNumber as exc:
        raise ValidationFailed(f"'{raw}' {exc}.", code="invalid_phone_number", param="to") from exc


def _body(body: str | None, allow_empty: bool = False) -> str:
    if (body is None or body == "") and not allow_empty:
        raise ValidationFailed("The message body is empty.", code="empty_body", param="body")
    body = body or ""
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            f"The body has {len(body)} characters; the limit is {MAX_BODY}.",
            code="message_too_long",
            param="body",
        )
    return body


def _segment(body: str, cache: dict[str, Segmentation] | None) -> Segmentation:
    if cache is None:
        return segment(body)
    seg = cache.get(body)
    if seg is None:
        seg = cache[body] = segment(body)
    return seg


def _failed_item(to: str, exc: ValidationFailed) -> dict[str, Any]:
    error = {"code": exc.code, "message": exc.message}
    return {"id": None, "to": to, "status": st.FAILED, "cost": 0.0, "error": error}


async def _drop_opted_out(
    runtime: Runtime,
    principal: Principal,
    rows: list[dict[str, Any]],
    results: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Turn the rows of opted-out recipients into failed items (nothing created, no charge)."""
    async with runtime.database.read_sessions() as session:
        stopped = await contacts_service.opted_out_among(
            session, principal.account_id, list({row["to_number"] for row in rows})
        )
    if not stopped:
        return rows
    refused = ValidationFailed(
        "The recipient has opted out.", code="recipient_opted_out", param="to"
    )
    for index, item in enumerate(results):
        if item.get("to_number") in stopped:
            results[index] = _failed_item(item["to_number"], refused)
    return [row for row in rows if row["to_number"] not in stopped]


async def _accept(
    runtime: Runtime,
    principal: Principal,
    rows: list[dict[str, Any]],
    reference: str,
    what: str,
    guard: tuple[Any, dict[str, Any], Exception] | None = None,
    attach: Attach | None = None,
) -> bool:
    """Commit the rows and, for live keys, the debit (packages first): all or nothing (402).
    True when the queued rows were dispatched in the same commit (``_dispatch_in_process``)."""
    op = WriteOp(guard=guard)
    dispatched = await _dispatch_in_process(runtime, principal, rows, op)
    op.insert(messages, rows)
    if attach is not None:
        attach(op, rows)
    scheduled = [row for row in rows if row["status"] == st.SCHEDULED]
    if not principal.is_test:
        total = sum(row["cost_units"] for row in rows)
        sms = [row for row in rows if row["type"] == "sms"]  # packages are SMS: not for an MMS
        billing_service.add_debit(op, principal.account_id, total, reference, what, sms)
    if scheduled:  # events built after the debit: they show the cost packages left to pay
        op.insert_later(
            events, lambda: [message_event(message_to_dict(r), r["account_id"]) for r in scheduled]
        )
    await runtime.database.writer.submit(op)
    if scheduled:  # the worker may be asleep until a later due time
        runtime.wakeup.notify("messages")
    MESSAGES_ACCEPTED.labels(principal.environment).inc(len(rows))
    return dispatched


async def _dispatch_in_process(
    runtime: Runtime, principal: Principal, rows: list[dict[str, Any]], op: WriteOp
) -> bool:
    """For the built-in simulator only (in-process: calling it has no effect outside this
    request), dispatch before the accepting commit and fold the outcome into it, so a send
    costs one commit instead of two. The rows end as the second commit would leave them.
    False, rows untouched, when a real provider is involved or a send failed (its refund
    must follow the debit's commit): ``_dispatch_now`` then runs after the accept."""
    queued = [row for row in rows if row["status"] == st.QUEUED]
    if not queued or not (principal.is_test or runtime.router.simulated):
        return False
    trial = [dict(row) for row in queued]
    outcome = await dispatch(runtime, trial, deadline_in(runtime.settings.routing.send_budget))
    if any(row["status"] == st.FAILED for row in trial):
        return False
    for row, done in zip(queued, trial, strict=True):
        row.update(done, locked_until=None)  # what RECORD_DISPATCH or RELEASE would write
    op.inserts.extend(outcome.inserts)  # attempts and events; no refunds (nothing failed)
    return True


async def _dispatch_now(runtime: Runtime, rows: list[dict[str, Any]]) -> None:
    queued = [row for row in rows if row["status"] == st.QUEUED]
    if queued:
        op = await dispatch(runtime, queued, deadline_in(runtime.settings.routing.send_budget))
        await runtime.database.writer.submit(op)


def _bulk_items(request: BulkRequest) -> list[tuple[str, str | None, dict[str, Any]]]:
    if (request.recipients is None) == (request.messages is None):
        raise ValidationFailed(
            "Give either 'recipients' (with 'body') or 'messages'.", param="recipients"
        )
    items: list[tuple[str, str | None, dict[str, Any]]]
    if request.recipients is not None:
        items = [(to, request.body, {}) for to in request.recipients]
    else:
        items = [
            (item.to, item.body or request.body, _overrides(item))
            for item in request.messages or []
        ]
    if not items:
        raise ValidationFailed("At least one recipient is required.", param="recipients")
    if len(items) > MAX_RECIPIENTS:
        raise ValidationFailed(
            f"{len(items)} recipients; at most {MAX_RECIPIENTS} per request.",
            code="too_many_recipients",
            param="recipients",
        )
    return items


def _overrides(item: Any) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if item.reference is not None:
        overrides["reference"] = item.reference
    if item.send_at is not None:
        overrides["send_at"] = _schedule(item.send_at, utcnow(), "send_at")
    return overrides


def _bulk_result(bulk_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {name: 0 for name in (st.SENT, st.FAILED, st.QUEUED, st.SCHEDULED)}
    for item in items:
        if item["status"] in counts:
            counts[item["status"]] += 1
    return {
        "id": bulk_id,
        "object": "bulk_result",
        "total": len(items),
        "sent": counts[st.SENT],
        "failed": counts[st.FAILED],
        "queued": counts[st.QUEUED],
        "scheduled": counts[st.SCHEDULED],
        "messages": items,
    }


async def get_message(
    session: AsyncSession, account_id: str, message_id: str, mode: str | None = None
) -> dict[str, Any]:
    row = await MessageRepository(session).get(account_id, message_id, mode)
    if row is None:
        raise NotFound(f"No message {message_id}.", param="id")
    return message_to_dict(row)


async def list_messages(
    session: AsyncSession, account_id: str, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    rows, total = await MessageRepository(session).page(account_id, filters, offset, limit)
    return [message_to_dict(row) for row in rows], total


async def cancel_message(
    session: AsyncSession, principal: Principal, message_id: str
) -> dict[str, Any]:
    repository = MessageRepository(session)
    now = utcnow()
    row = await repository.cancel(principal.account_id, principal.environment, message_id, now)
    if row is None:
        current = await repository.get(principal.account_id, message_id, principal.environment)
        if current is None:
            raise NotFound(f"No message {message_id}.", param="id")
        raise Conflict(
            f"A message in status '{current['status']}' cannot be cancelled.",
            code="message_not_cancellable",
        )
    if row["mode"] == "live":
        await billing_service.refund(session, row["account_id"], row["cost_units"], row["id"])
    message = message_to_dict(row)
    await repository.add_events([message_event(message, row["account_id"], now)])
    return message
