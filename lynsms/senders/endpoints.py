"""HTTP endpoints of sender ids."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lynsms.accounts.auth import SendersRead, SendersWrite
from lynsms.database import DbSession
from lynsms.exceptions import NotFound
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams
from lynsms.senders import service
from lynsms.senders.schemas import SenderCreate, SenderOut

router = APIRouter(prefix="/senders", tags=["senders"])


@router.get("", response_model=PageEnvelope[SenderOut], summary="List sender ids")
async def list_senders(principal: SendersRead, session: DbSession, page: PageParams) -> Response:
    senders, total = await service.list_senders(
        session, principal.account_id, page.offset, page.limit
    )
    return ok_page([service.sender_to_dict(s) for s in senders], page.block(total))


@router.post(
    "/create",
    status_code=201,
    response_model=Envelope[SenderOut],
    responses=errors("invalid_sender", "sender_exists"),
    summary="Register a sender id; it starts pending",
)
async def create_sender(
    body: SenderCreate, principal: SendersWrite, session: DbSession
) -> Response:
    return ok(
        service.sender_to_dict(await service.register(session, principal.account_id, body)), 201
    )


@router.get(
    "/{sender_pk}",
    response_model=Envelope[SenderOut],
    responses=errors(NotFound),
    summary="Retrieve a sender id",
)
async def get_sender(sender_pk: str, principal: SendersRead, session: DbSession) -> Response:
    return ok(service.sender_to_dict(await service.get(session, principal.account_id, sender_pk)))
