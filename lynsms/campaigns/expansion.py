"""The worker's part of a campaign: start it, expand its recipients into messages, finish it.

A pass takes one due campaign under a row lock (``SKIP LOCKED`` on PostgreSQL, so
several workers share campaigns; SQLite has one writer) and, in one transaction,
turns the next ``BATCH`` recipients into queued messages and moves the campaign's
``cursor`` past them. A worker killed mid-pass rolls back and the next pass does the
batch again; a recipient's id is its message's id, so nobody gets two messages. The
messages then go out through the normal dispatch at the worker's full rate;
expansion stays ``BACKLOG`` messages ahead of it, so a cancel still finds most of a
big campaign unsent. A campaign completes when every recipient is expanded and no
message of it waits for a provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.billing import service as billing_service
from lynsms.campaigns.repository import CampaignRepository
from lynsms.campaigns.views import campaign_to_dict
from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.messages import status as st
from lynsms.runtime import Runtime
from lynsms.webhooks.events import event_row

BATCH = 1_000
BACKLOG = 2 * BATCH
DUE_PER_PASS = 4
RECHECK = timedelta(seconds=0.5)  # how soon a running campaign is looked at again
VALIDITY = timedelta(hours=48)  # as a message sent without validity_period


async def advance_due(runtime: Runtime) -> int:
    """One pass over due campaigns; how many recipients were expanded or settled."""
    now = utcnow()
    async with session_scope(runtime.database, write=False) as session:
        due = await CampaignRepository(session).due(now, DUE_PER_PASS)
    done = 0
    for campaign_id in due:
        async with session_scope(runtime.database, write=True) as session:
            done += await _advance(session, campaign_id, utcnow())
    return done


async def next_due(runtime: Runtime) -> datetime | None:
    async with session_scope(runtime.database, write=False) as session:
        return await CampaignRepository(session).next_due()


async def _advance(session: AsyncSession, campaign_id: str, now: datetime) -> int:
    repository = CampaignRepository(session)
    campaign = await repository.lock(campaign_id, skip_locked=True)
    if campaign is None or campaign["status"] not in ("scheduled", "running"):
        return 0
    if campaign["next_run_at"] is None or campaign["next_run_at"] > now:
        return 0
    changes: dict[str, Any] = {"updated_at": now}
    started: list[dict[str, Any]] = []
    if campaign["status"] == "scheduled":
        changes.update(status="running", started_at=now)
        started = [{**campaign, **changes}]
    backlog = await repository.backlog(campaign_id)
    expanded = 0
    if campaign["cursor"] < campaign["recipients"] and backlog < BACKLOG:
        batch = await repository.recipients_from(campaign_id, campaign["cursor"], BATCH)
        expanded, skipped = await _expand(session, repository, campaign, batch, now)
        backlog += expanded - skipped
        changes["cursor"] = batch[-1]["seq"] + 1
        changes["skipped_opted_out"] = campaign["skipped_opted_out"] + skipped
    current = {**campaign, **changes}
    events = [_event(row, {}, "campaign.started", now) for row in started]
    if current["cursor"] >= current["recipients"] and backlog == 0:
        changes.update(status="completed", completed_at=now, next_run_at=None)
        counts = await repository.counts(campaign_id)
        events.append(_event({**current, **changes}, counts, "campaign.completed", now))
    else:
        more = current["cursor"] < current["recipients"] and backlog < BACKLOG
        changes["next_run_at"] = now if more else now + RECHECK
    await repository.update(campaign_id, changes)
    if events:
        await repository.add_events(events)
    return expanded + len(events)


async def _expand(
    session: AsyncSession,
    repository: CampaignRepository,
    campaign: Mapping[str, Any],
    batch: Sequence[Mapping[str, Any]],
    now: datetime,
) -> tuple[int, int]:
    """Messages for ``batch``; a contact who opted out since launch is skipped and refunded.
    ``(recipients settled, of which skipped)``."""
    stopped = await repository.opted_out(
        campaign["account_id"], sorted({str(row["to_number"]) for row in batch})
    )
    rows = [_message(campaign, row, now) for row in batch if row["to_number"] not in stopped]
    await repository.add_messages(rows)
    skipped = [row for row in batch if row["to_number"] in stopped]
    if campaign["mode"] == "live":
        for row in skipped:
            await billing_service.refund(
                session, campaign["account_id"], int(row["cost_units"]), row["id"]
            )
    return len(batch), len(skipped)


def _message(
    campaign: Mapping[str, Any], recipient: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "id": recipient["id"],
        "account_id": campaign["account_id"],
        "api_key_id": campaign["api_key_id"],
        "mode": campaign["mode"],
        "direction": "outbound",
        "to_number": recipient["to_number"],
        "from_number": campaign["from_number"],
        "body": recipient["body"],
        "reference": None,
        "status": st.QUEUED,
        "encoding": recipient["encoding"],
        "segments": recipient["segments"],
        "cost_units": recipient["cost_units"],
        "currency": campaign["currency"],
        "country": recipient["country"],
        "provider": None,
        "provider_message_id": None,
        "route_id": None,
        "requested_provider": None,
        "requested_route_id": None,
        "attempts": 0,
        "error_code": None,
        "error_message": None,
        "bulk_id": campaign["id"],
        "next_attempt_at": now,
        "locked_until": None,
        "expire_at": now + VALIDITY,
        "send_at": None,
        "sent_at": None,
        "delivered_at": None,
        "created_at": now,
        "updated_at": now,
    }


def _event(
    campaign: Mapping[str, Any], counts: Mapping[str, int], kind: str, now: datetime
) -> dict[str, Any]:
    data = campaign_to_dict(campaign, counts)
    return event_row(campaign["account_id"], campaign["mode"], kind, data, at=now)
