"""HTTP endpoints of campaigns: parse, authorise, one service call, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from lynsms.accounts.auth import Principal, requires
from lynsms.campaigns import launch, service
from lynsms.campaigns.schemas import STATUSES, CampaignCreate, CampaignOut, CampaignUpdate
from lynsms.database import DbSession
from lynsms.exceptions import InsufficientBalance, NotFound
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams
from lynsms.messages.schemas import MessageOut

CampaignsRead = Annotated[Principal, requires("campaigns:read")]
CampaignsWrite = Annotated[Principal, requires("campaigns:write")]
StatusFilter = Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")]
_CONTENT = ("unknown_template", "invalid_sender", "invalid_schedule_date")
_LAUNCH = (
    "campaign_not_launchable",
    "sender_not_approved",
    "empty_audience",
    "unknown_contact",
    *_CONTENT,
)

router = APIRouter(prefix="/campaigns", tags=["campaigns"])


@router.get(
    "",
    response_model=PageEnvelope[CampaignOut],
    summary="List campaigns, newest first",
)
async def list_campaigns(
    principal: CampaignsRead, session: DbSession, page: PageParams, status: StatusFilter = None
) -> Response:
    items, total = await service.list_campaigns(session, principal, status, page.offset, page.limit)
    return ok_page(items, page.block(total))


@router.post(
    "",
    status_code=201,
    response_model=Envelope[CampaignOut],
    responses=errors(*_CONTENT),
    summary="Create a draft campaign",
)
async def create_campaign(
    body: CampaignCreate, principal: CampaignsWrite, session: DbSession
) -> Response:
    return ok(await service.create_campaign(session, principal, body), 201)


@router.get(
    "/{campaign_id}",
    response_model=Envelope[CampaignOut],
    responses=errors(NotFound),
    summary="Retrieve a campaign with its live stats",
)
async def get_campaign(campaign_id: str, principal: CampaignsRead, session: DbSession) -> Response:
    return ok(await service.get_campaign(session, principal, campaign_id))


@router.patch(
    "/{campaign_id}",
    response_model=Envelope[CampaignOut],
    responses=errors(NotFound, "campaign_not_editable", *_CONTENT),
    summary="Edit a draft; null clears a field",
)
async def update_campaign(
    campaign_id: str, body: CampaignUpdate, principal: CampaignsWrite, session: DbSession
) -> Response:
    return ok(await service.update_campaign(session, principal, campaign_id, body))


@router.delete(
    "/{campaign_id}",
    response_model=Envelope[CampaignOut],
    responses=errors(NotFound, "campaign_not_editable"),
    summary="Delete a draft or a finished campaign (its messages stay)",
)
async def delete_campaign(
    campaign_id: str, principal: CampaignsWrite, session: DbSession
) -> Response:
    return ok(await service.delete_campaign(session, principal, campaign_id))


@router.post(
    "/{campaign_id}/launch",
    response_model=Envelope[CampaignOut],
    responses=errors(NotFound, InsufficientBalance, *_LAUNCH),
    summary="Freeze the audience, reserve the cost, and run at send_at or now",
)
async def launch_campaign(
    campaign_id: str, principal: CampaignsWrite, request: Request
) -> Response:
    runtime = request.app.state.runtime
    return ok(await launch.launch(runtime, principal, campaign_id))


@router.post(
    "/{campaign_id}/cancel",
    response_model=Envelope[CampaignOut],
    responses=errors(NotFound, "campaign_not_cancellable"),
    summary="Cancel what is not sent yet, and refund it",
)
async def cancel_campaign(
    campaign_id: str, principal: CampaignsWrite, session: DbSession
) -> Response:
    return ok(await service.cancel_campaign(session, principal, campaign_id))


@router.get(
    "/{campaign_id}/messages",
    response_model=PageEnvelope[MessageOut],
    responses=errors(NotFound),
    summary="The campaign's messages, in audience order",
)
async def list_campaign_messages(
    campaign_id: str, principal: CampaignsRead, session: DbSession, page: PageParams
) -> Response:
    items, total = await service.list_messages(
        session, principal, campaign_id, page.offset, page.limit
    )
    return ok_page(items, page.block(total))
