"""HTTP endpoints of billing."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from lynsms.accounts.auth import BillingRead
from lynsms.billing import service
from lynsms.billing.schemas import BalanceOut
from lynsms.database import DbSession
from lynsms.kit.envelope import Envelope, ok

router = APIRouter(tags=["billing"])


@router.get(
    "/balance", response_model=Envelope[BalanceOut], summary="Current balance (scope billing:read)"
)
async def get_balance(principal: BillingRead, session: DbSession) -> Response:
    return ok(await service.balance(session, principal.account_id, principal.currency))
