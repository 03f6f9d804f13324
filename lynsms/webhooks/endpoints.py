"""HTTP endpoints of webhook endpoints and events: parse, authorise, one service call, render."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from lynsms.accounts.auth import WebhooksRead, WebhooksWrite
from lynsms.database import DbSession
from lynsms.exceptions import NotFound
from lynsms.kit.clock import as_utc
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams
from lynsms.webhooks import service
from lynsms.webhooks.events import TYPES
from lynsms.webhooks.schemas import (
    EventDetailOut,
    EventOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
)

TypeFilter = Annotated[
    str | None, Query(pattern="^(" + "|".join(re.escape(kind) for kind in TYPES) + ")$")
]

router = APIRouter(tags=["webhooks"])


async def _checked_body(body: WebhookCreate, request: Request) -> WebhookCreate:
    """The body, its URL's host resolved and vetted (SSRF) before any session is opened."""
    await service.check_url(request.app.state.runtime.settings, body.url)
    return body


# Dependencies run in the order of the parameters: authorise, then resolve DNS, then take
# the write session (which on SQLite holds the process's write lock for the request).
CheckedWebhook = Annotated[WebhookCreate, Depends(_checked_body)]


@router.get(
    "/webhooks",
    response_model=PageEnvelope[WebhookOut],
    summary="List webhook endpoints",
)
async def list_webhooks(principal: WebhooksRead, session: DbSession, page: PageParams) -> Response:
    items, total = await service.list_endpoints(
        session, principal.account_id, page.offset, page.limit
    )
    return ok_page(items, page.block(total))


@router.post(
    "/webhooks/create",
    status_code=201,
    response_model=Envelope[WebhookCreated],
    responses=errors("invalid_webhook_url"),
    summary="Create a webhook endpoint; the response alone shows its secret",
)
async def create_webhook(
    principal: WebhooksWrite, body: CheckedWebhook, session: DbSession, request: Request
) -> Response:
    settings = request.app.state.runtime.settings
    return ok(await service.create_endpoint(session, settings, principal, body), 201)


@router.delete(
    "/webhooks/{webhook_id}",
    response_model=Envelope[WebhookOut],
    responses=errors(NotFound),
    summary="Delete a webhook endpoint",
)
async def delete_webhook(webhook_id: str, principal: WebhooksWrite, session: DbSession) -> Response:
    return ok(await service.delete_endpoint(session, principal.account_id, webhook_id))


@router.get(
    "/events",
    response_model=PageEnvelope[EventOut],
    summary="List events of the key's mode, newest first",
)
async def list_events(
    principal: WebhooksRead,
    session: DbSession,
    page: PageParams,
    type: TypeFilter = None,
    message_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Response:
    filters = {
        "type": type,
        "message_id": message_id,
        "created_after": as_utc(created_after) if created_after else None,
        "created_before": as_utc(created_before) if created_before else None,
    }
    items, total = await service.list_events(session, principal, filters, page.offset, page.limit)
    return ok_page(items, page.block(total))


@router.get(
    "/events/{event_id}",
    response_model=Envelope[EventDetailOut],
    responses=errors(NotFound),
    summary="Retrieve an event with its deliveries and their attempts",
)
async def get_event(event_id: str, principal: WebhooksRead, session: DbSession) -> Response:
    return ok(await service.get_event(session, principal, event_id))
