"""HTTP endpoints of messages: parse, authorise, one service call, render.

The two send routes are hot: their handlers are plain functions served by the
fast path (``lynsms.kit.fastpath``) and, for documentation and fallback, by the
FastAPI routes that call them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from lynsms.accounts.auth import MessagesRead, MessagesSend, authorize, requires
from lynsms.database import DbSession
from lynsms.exceptions import InsufficientBalance, NotFound
from lynsms.kit.clock import as_utc
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.fastpath import fast_route, json_body, parse_body
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams
from lynsms.messages import service
from lynsms.messages import status as st
from lynsms.messages.schemas import BulkRequest, BulkResultOut, MessageOut, SendRequest

PREFIX = "/api/v1/messages"
router = APIRouter(prefix="/messages", tags=["messages"])
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(st.ALL) + ")$")]
# What a send refuses (402 and nothing created) besides the conventions of every route.
_SENDER = ("invalid_sender", "sender_not_approved", "unknown_provider", "invalid_schedule_date")
_TEMPLATE = ("unknown_template", "missing_template_variable")
_MEDIA = ("unknown_media", "mms_not_supported")
_RECIPIENT = ("invalid_phone_number", "empty_body", "message_too_long", "recipient_opted_out")
_ROUTE = ("unknown_route", "route_not_applicable")


@fast_route("POST", PREFIX + "/send")
async def handle_send(request: Request) -> Response:
    principal = await authorize(request, "messages:send")
    body = await parse_body(request, SendRequest)
    return ok(await service.send_one(request.app.state.runtime, principal, body), 201)


@fast_route("POST", PREFIX + "/bulk")
async def handle_bulk(request: Request) -> Response:
    principal = await authorize(request, "messages:send")
    body = await parse_body(request, BulkRequest)
    return ok(await service.send_bulk(request.app.state.runtime, principal, body), 201)


@router.post(
    "/send",
    status_code=201,
    response_model=Envelope[MessageOut],
    openapi_extra=json_body(SendRequest),
    dependencies=[requires("messages:send")],
    responses=errors(InsufficientBalance, *_SENDER, *_TEMPLATE, *_RECIPIENT, *_ROUTE, *_MEDIA),
    summary="Send a single SMS",
)
async def send_message(request: Request) -> Response:
    return await handle_send(request)


@router.post(
    "/bulk",
    status_code=201,
    response_model=Envelope[BulkResultOut],
    openapi_extra=json_body(BulkRequest),
    dependencies=[requires("messages:send")],
    responses=errors(InsufficientBalance, *_SENDER, *_TEMPLATE, *_MEDIA, "too_many_recipients"),
    summary="Send to up to 1,000 recipients",
)
async def send_bulk(request: Request) -> Response:
    return await handle_bulk(request)


@router.get(
    "",
    response_model=PageEnvelope[MessageOut],
    summary="List messages, newest first",
)
async def list_messages(
    principal: MessagesRead,
    session: DbSession,
    page: PageParams,
    status: StatusFilter = None,
    to: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    reference: str | None = None,
    provider: str | None = None,
    direction: Annotated[str | None, Query(pattern="^(outbound|inbound)$")] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Response:
    filters: dict[str, Any] = {
        "status": status,
        "to": to,
        "from": from_,
        "reference": reference,
        "provider": provider,
        "direction": direction,
    }
    filters = {k: v for k, v in filters.items() if v is not None}
    filters.update(
        mode=principal.environment,  # a test key lists test messages only, a live key live ones
        created_after=as_utc(created_after) if created_after else None,
        created_before=as_utc(created_before) if created_before else None,
    )
    items, total = await service.list_messages(
        session, principal.account_id, filters, page.offset, page.limit
    )
    return ok_page(items, page.block(total))


@router.get(
    "/{message_id}",
    response_model=Envelope[MessageOut],
    responses=errors(NotFound),
    summary="Retrieve a message",
)
async def get_message(message_id: str, principal: MessagesRead, session: DbSession) -> Response:
    return ok(
        await service.get_message(session, principal.account_id, message_id, principal.environment)
    )


@router.post(
    "/{message_id}/cancel",
    response_model=Envelope[MessageOut],
    responses=errors(NotFound, "message_not_cancellable"),
    summary="Cancel a scheduled message and refund it",
)
async def cancel_message(message_id: str, principal: MessagesSend, session: DbSession) -> Response:
    return ok(await service.cancel_message(session, principal, message_id))
