"""HTTP endpoints of messages: parse, authorise, one service call, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from lynsms.accounts.auth import MessagesRead, MessagesSend
from lynsms.database import DbSession
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.pagination import PageParams
from lynsms.messages import service
from lynsms.messages import status as st
from lynsms.messages.schemas import BulkRequest, BulkResultOut, MessageOut, SendRequest
from lynsms.runtime import Runtime, get_runtime

router = APIRouter(prefix="/messages", tags=["messages"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(st.ALL) + ")$")]


@router.post(
    "/send",
    status_code=201,
    response_model=Envelope[MessageOut],
    summary="Send a single SMS (scope messages:send)",
)
async def send_message(body: SendRequest, principal: MessagesSend, runtime: RuntimeDep) -> Response:
    return ok(await service.send_one(runtime, principal, body), 201)


@router.post(
    "/bulk",
    status_code=201,
    response_model=Envelope[BulkResultOut],
    summary="Send to up to 1,000 recipients (scope messages:send)",
)
async def send_bulk(body: BulkRequest, principal: MessagesSend, runtime: RuntimeDep) -> Response:
    return ok(await service.send_bulk(runtime, principal, body), 201)


@router.get(
    "",
    response_model=PageEnvelope[MessageOut],
    summary="List messages, newest first (scope messages:read)",
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
    filters.update(created_after=created_after, created_before=created_before)
    items, total = await service.list_messages(
        session, principal.account_id, filters, page.offset, page.limit
    )
    return ok_page(items, page.block(total))


@router.get(
    "/{message_id}",
    response_model=Envelope[MessageOut],
    summary="Retrieve a message (scope messages:read)",
)
async def get_message(message_id: str, principal: MessagesRead, session: DbSession) -> Response:
    return ok(await service.get_message(session, principal.account_id, message_id))


@router.post(
    "/{message_id}/cancel",
    response_model=Envelope[MessageOut],
    summary="Cancel a scheduled message (scope messages:send)",
)
async def cancel_message(message_id: str, principal: MessagesSend, session: DbSession) -> Response:
    return ok(await service.cancel_message(session, principal, message_id))
