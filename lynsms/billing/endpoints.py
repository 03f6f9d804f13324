"""HTTP endpoints of billing."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lynsms.accounts.auth import BillingRead
from lynsms.billing import service
from lynsms.billing.schemas import BalanceOut, PackageOut
from lynsms.database import DbSession
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.pagination import PageParams

router = APIRouter(tags=["billing"])


@router.get("/balance", response_model=Envelope[BalanceOut], summary="Current balance")
async def get_balance(principal: BillingRead, session: DbSession) -> Response:
    return ok(await service.balance(session, principal.account_id, principal.currency))


@router.get(
    "/packages",
    response_model=PageEnvelope[PackageOut],
    summary="Prepaid SMS packages, newest first, expired ones included",
)
async def list_packages(principal: BillingRead, session: DbSession, page: PageParams) -> Response:
    packages, total = await service.list_packages(
        session, principal.account_id, page.offset, page.limit
    )
    return ok_page(packages, page.block(total))
