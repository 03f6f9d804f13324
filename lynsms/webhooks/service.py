"""Webhook endpoints (create, list, delete) and the events an account can read back."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts.auth import Principal
from lynsms.config import Settings
from lynsms.dialects.sinch import callbacks as sinch_callbacks
from lynsms.dialects.twilio import callbacks as twilio_callbacks
from lynsms.exceptions import NotFound, ValidationFailed
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.models import WebhookEndpoint
from lynsms.webhooks import signing
from lynsms.webhooks.delivery import LIGHTNINGMSG_EVENTS
from lynsms.webhooks.repository import (
    PENDING,
    DeliveryRepository,
    EndpointRepository,
    EventRepository,
    FanOutRepository,
)
from lynsms.webhooks.schemas import ALL_EVENTS, WebhookCreate
from lynsms.webhooks.urls import UnsafeUrl, check_destination


async def check_url(settings: Settings, url: str) -> None:
    """Refuse (422 ``invalid_webhook_url``) a URL whose host is an internal address.

    It resolves DNS, which can be slow: call it before taking a write session (on
    SQLite that holds the process's write lock)."""
    try:
        await check_destination(url, settings.webhooks_allow_private)
    except UnsafeUrl as exc:
        raise ValidationFailed(
            f"The webhook URL is not allowed: {exc}.", code="invalid_webhook_url", param="url"
        ) from exc


async def create_endpoint(
    session: AsyncSession, settings: Settings, principal: Principal, spec: WebhookCreate
) -> dict[str, Any]:
    """Create the endpoint (its URL already checked) in the key's mode; the result alone
    carries the secret."""
    endpoint_id = new_id("whk")
    secret = signing.endpoint_secret(signing.server_key(settings), endpoint_id)
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        account_id=principal.account_id,
        mode=principal.environment,
        url=spec.url,
        events=spec.events,
        description=spec.description,
        format=spec.format,
        headers=spec.headers,
        secret_hint=signing.secret_hint(secret),
        enabled=True,
        created_at=utcnow(),
    )
    await EndpointRepository(session).add(endpoint)
    return {**endpoint_to_dict(endpoint), "secret": secret}


async def list_endpoints(
    session: AsyncSession, account_id: str, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    found, total = await EndpointRepository(session).page(account_id, offset, limit)
    return [endpoint_to_dict(endpoint) for endpoint in found], total


async def delete_endpoint(
    session: AsyncSession, account_id: str, endpoint_id: str
) -> dict[str, Any]:
    """Soft-delete the endpoint; its pending deliveries are given up."""
    endpoint = await EndpointRepository(session).get(account_id, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.", param="id")
    now = utcnow()
    endpoint.deleted_at = now
    await session.flush()
    await DeliveryRepository(session).fail_pending([endpoint.id], now)
    return endpoint_to_dict(endpoint)


def endpoint_to_dict(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "object": "webhook_endpoint",
        "url": endpoint.url,
        "events": list(endpoint.events),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "mode": endpoint.mode,
        "format": endpoint.format,
        "secret_hint": endpoint.secret_hint,
        "created_at": isoformat(endpoint.created_at),
    }


async def list_events(
    session: AsyncSession, principal: Principal, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The key's mode's events, newest first."""
    payloads, total = await EventRepository(session).page(
        principal.account_id, principal.environment, filters, offset, limit
    )
    return [orjson.loads(payload) for payload in payloads], total


async def get_event(session: AsyncSession, principal: Principal, event_id: str) -> dict[str, Any]:
    """The event as sent, plus each of its deliveries with every attempt."""
    repository = EventRepository(session)
    payload = await repository.payload(principal.account_id, principal.environment, event_id)
    if payload is None:
        raise NotFound(f"No event {event_id}.", param="id")
    event: dict[str, Any] = orjson.loads(payload)
    event["deliveries"] = await _deliveries(repository, event_id)
    return event


async def _deliveries(repository: EventRepository, event_id: str) -> list[dict[str, Any]]:
    rows = await repository.deliveries(event_id)
    by_delivery: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for attempt in await repository.attempts([row["id"] for row in rows]):
        by_delivery[attempt["delivery_id"]].append(
            {
                "at": isoformat(attempt["created_at"]),
                "status_code": attempt["status_code"],
                "latency_ms": attempt["latency_ms"],
                "error": attempt["error"],
            }
        )
    return [
        {
            "webhook_id": row["endpoint_id"],
            "status": row["status"],
            "next_attempt_at": isoformat(row["next_attempt_at"]),
            "attempts": by_delivery[row["id"]],
        }
        for row in rows
    ]


async def fan_out(session: AsyncSession, limit: int) -> int:
    """Turn up to ``limit`` new events into deliveries to every matching endpoint."""
    repository = FanOutRepository(session)
    skipped = await repository.skip_unwatched()
    pending = await repository.lock_pending(limit)
    if not pending:
        return skipped
    hooks = await repository.live_endpoints(sorted({event["account_id"] for event in pending}))
    by_account: dict[str, list[RowMapping]] = defaultdict(list)
    for hook in hooks:
        by_account[hook["account_id"]].append(hook)
    called_back = await _with_status_callback(repository, hooks, pending)
    if any(hook["format"] == sinch_callbacks.FORMAT for hook in hooks):
        called_back |= await sinch_callbacks.reported_events(session, pending)
    now = utcnow()
    await repository.add_deliveries(
        [
            _delivery_row(event["id"], hook["id"], now)
            for event in pending
            for hook in by_account[event["account_id"]]
            if matches(hook, event, called_back)
        ]
    )
    await repository.mark_fanned_out([event["id"] for event in pending])
    return skipped + len(pending)


async def _with_status_callback(
    repository: FanOutRepository, hooks: Sequence[RowMapping], pending: Sequence[RowMapping]
) -> frozenset[str]:
    """Which of the events' messages have a Twilio StatusCallback (if a hook wants to know)."""
    if not any(hook["format"] == twilio_callbacks.FORMAT for hook in hooks):
        return frozenset()
    message_ids = {event["message_id"] for event in pending if event["message_id"]}
    return await repository.with_status_callback(sorted(message_ids))


def matches(hook: RowMapping, event: RowMapping, called_back: Container[str] = ()) -> bool:
    """Whether the endpoint wants the event: same mode, subscribed type, created before it.

    A ``twilio`` endpoint (hidden, one per account and mode) takes the status changes of
    the messages sent with a StatusCallback (``called_back``), to POST to each one's URL;
    a ``sinch`` one the events that make a batch's delivery report (their ids, in
    ``called_back`` too: ``lynsms.dialects.sinch.callbacks.reported_events``).
    """
    if hook["format"] == sinch_callbacks.FORMAT:
        return hook["mode"] == event["mode"] and event["id"] in called_back
    if hook["format"] == twilio_callbacks.FORMAT:
        return (
            hook["mode"] == event["mode"]
            and event["type"] in twilio_callbacks.EVENTS
            and event["message_id"] in called_back
        )
    kinds = hook["events"] or []
    return (
        hook["mode"] == event["mode"]
        and (ALL_EVENTS in kinds or event["type"] in kinds)
        and (hook["format"] != "lightningmsg" or event["type"] in LIGHTNINGMSG_EVENTS)
        and hook["created_at"] <= event["created_at"]
    )


def _delivery_row(event_id: str, endpoint_id: str, now: datetime) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "endpoint_id": endpoint_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "created_at": now,
        "updated_at": now,
    }
