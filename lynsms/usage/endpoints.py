"""HTTP endpoint of usage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from lynsms.accounts.auth import BillingRead
from lynsms.database import Database, get_database
from lynsms.kit.envelope import Envelope, ok
from lynsms.usage import service
from lynsms.usage.schemas import GroupBy, UsageOut

router = APIRouter(tags=["billing"])

_WHEN = "A date (2026-11-25) or an ISO-8601 timestamp; without an offset, UTC."


@router.get(
    "/usage",
    response_model=Envelope[UsageOut],
    summary="Messages, segments, cost and outcomes over a window",
)
async def get_usage(
    principal: BillingRead,
    database: Annotated[Database, Depends(get_database)],
    from_: Annotated[
        str | None, Query(alias="from", description=_WHEN + " Default: 30 days before 'to'.")
    ] = None,
    to: Annotated[
        str | None, Query(description=_WHEN + " A date includes that whole day. Default: now.")
    ] = None,
    group_by: Annotated[
        GroupBy | None, Query(description="Break the totals down; without it, totals only.")
    ] = None,
) -> Response:
    """Usage of the caller's environment (a test key sees test-mode usage only).

    Counts outbound messages by ``created_at`` in ``[from, to)``. ``cost`` is what
    stays charged (failed, expired and cancelled messages are refunded, so count
    0); ``failed`` counts failed, undelivered and expired messages. Breakdown rows
    exist only for keys with messages, in ascending order (days in UTC).
    """
    return ok(
        await service.usage(
            database, principal.account_id, principal.environment, from_, to, group_by
        )
    )
