"""Campaign drafts (create, read, list, edit, delete), cancel, and the messages of one.

Launching is ``launch.py``; the worker's part is ``expansion.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts.auth import Principal
from lynsms.billing import service as billing_service
from lynsms.campaigns.repository import CampaignRepository
from lynsms.campaigns.schemas import CampaignCreate, CampaignUpdate
from lynsms.campaigns.views import campaign_to_dict
from lynsms.exceptions import Conflict, NotFound, ValidationFailed
from lynsms.kit.clock import parse_timestamp, utcnow
from lynsms.kit.ids import new_id
from lynsms.messages.views import message_to_dict
from lynsms.senders import service as senders_service
from lynsms.templates.repository import TemplateRepository
from lynsms.webhooks.events import message_event

EDITABLE = ("draft",)
CANCELLABLE = ("draft", "scheduled", "running")
DELETABLE = ("draft", "completed", "cancelled")
_COUNTERS = (  # zero on a draft; set by launch and the worker
    "total",
    "skipped_opted_out",
    "failed_at_launch",
    "recipients",
    "cursor",
    "withdrawn",
    "reserved_units",
)


async def create_campaign(
    session: AsyncSession, principal: Principal, spec: CampaignCreate
) -> dict[str, Any]:
    now = utcnow()
    row: dict[str, Any] = {
        "id": new_id("cmp"),
        "account_id": principal.account_id,
        "mode": principal.environment,
        "api_key_id": None,
        "name": spec.name,
        "status": "draft",
        "currency": principal.currency,
        "variables": {},
        "from_number": None,
        "template_id": None,
        "body": None,
        "audience": None,
        "send_at": None,
        **{name: 0 for name in _COUNTERS},
        "created_at": now,
        "updated_at": now,
    }
    row.update(await _fields(session, principal, spec, set(spec.model_fields_set), now))
    _check_content(row)
    repository = CampaignRepository(session)
    await repository.insert(row)
    return await _read(repository, principal, row["id"])


async def get_campaign(
    session: AsyncSession, principal: Principal, campaign_id: str
) -> dict[str, Any]:
    return await _read(CampaignRepository(session), principal, campaign_id)


async def list_campaigns(
    session: AsyncSession, principal: Principal, status: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    repository = CampaignRepository(session)
    rows, total = await repository.page(
        principal.account_id, principal.environment, status, offset, limit
    )
    return [campaign_to_dict(row, await _counts(repository, row)) for row in rows], total


async def update_campaign(
    session: AsyncSession, principal: Principal, campaign_id: str, patch: CampaignUpdate
) -> dict[str, Any]:
    repository = CampaignRepository(session)
    current = await _get(repository, principal, campaign_id)
    if current["status"] not in EDITABLE:
        raise Conflict(
            f"A {current['status']} campaign cannot be edited; only a draft can.",
            code="campaign_not_editable",
        )
    sent = set(patch.model_fields_set)
    if "name" in sent and patch.name is None:
        raise ValidationFailed("'name' cannot be null.", param="name")
    now = utcnow()
    changes = await _fields(session, principal, patch, sent, now)
    if "name" in sent:
        changes["name"] = patch.name
    _check_content({**current, **changes})
    await repository.update(campaign_id, {**changes, "updated_at": now})
    return await _read(repository, principal, campaign_id)


async def delete_campaign(
    session: AsyncSession, principal: Principal, campaign_id: str
) -> dict[str, Any]:
    """A draft, or a finished campaign (its messages stay); a live one must be cancelled."""
    repository = CampaignRepository(session)
    found = await _read(repository, principal, campaign_id)
    if found["status"] not in DELETABLE:
        raise Conflict(
            f"A {found['status']} campaign cannot be deleted; cancel it first.",
            code="campaign_not_editable",
        )
    await repository.delete(campaign_id)
    return found


async def cancel_campaign(
    session: AsyncSession, principal: Principal, campaign_id: str
) -> dict[str, Any]:
    """Stop it: recipients not yet expanded and messages no provider has are cancelled and
    refunded (money and package SMS); messages already handed over go on."""
    repository = CampaignRepository(session)
    campaign = await repository.lock(campaign_id, skip_locked=False)
    if campaign is None or (campaign["account_id"], campaign["mode"]) != (
        principal.account_id,
        principal.environment,
    ):
        raise NotFound(f"No campaign {campaign_id}.", param="id")
    if campaign["status"] not in CANCELLABLE:
        raise Conflict(
            f"A {campaign['status']} campaign cannot be cancelled.",
            code="campaign_not_cancellable",
        )
    now = utcnow()
    units = await repository.unsent_units(campaign_id, campaign["cursor"])
    cancelled = await repository.cancel_messages(campaign_id, now)
    units += sum(int(row["cost_units"]) for row in cancelled)
    if campaign["mode"] == "live":  # a message refunded before has no package SMS left out
        await billing_service.refund_many(
            session,
            campaign["account_id"],
            units,
            repository.unrefunded_ids(campaign_id, campaign["cursor"]),
            campaign_id,
            f"campaign {campaign_id} cancelled: unsent messages",
        )
    await repository.update(
        campaign_id,
        {
            "status": "cancelled",
            "withdrawn": campaign["withdrawn"] + campaign["recipients"] - campaign["cursor"],
            "cursor": campaign["recipients"],
            "next_run_at": None,
            "cancelled_at": now,
            "updated_at": now,
        },
    )
    await repository.add_events(
        [message_event(message_to_dict(row), row["account_id"], now) for row in cancelled]
    )
    return await _read(repository, principal, campaign_id)


async def list_messages(
    session: AsyncSession, principal: Principal, campaign_id: str, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    repository = CampaignRepository(session)
    await _get(repository, principal, campaign_id)
    rows, total = await repository.message_page(campaign_id, offset, limit)
    return [message_to_dict(row) for row in rows], total


# --- helpers -------------------------------------------------------------------------------
async def _fields(
    session: AsyncSession,
    principal: Principal,
    spec: CampaignCreate | CampaignUpdate,
    sent: set[str],
    now: datetime,
) -> dict[str, Any]:
    """The columns the request sets, validated (``null`` clears)."""
    values: dict[str, Any] = {}
    if "from_" in sent:
        values["from_number"] = None if spec.from_ is None else _sender(spec.from_)
    if "template_id" in sent:
        values["template_id"] = spec.template_id
        if spec.template_id is not None:
            await _template_exists(session, principal.account_id, spec.template_id)
    if "body" in sent:
        values["body"] = spec.body
    if "variables" in sent:
        values["variables"] = dict(spec.variables or {})
    if "audience" in sent:
        values["audience"] = None if spec.audience is None else spec.audience.to_json()
    if "send_at" in sent:
        values["send_at"] = None if spec.send_at is None else future(spec.send_at, now)
    return values


def _sender(raw: str) -> str:
    sender, _ = senders_service.canonical(raw)
    return sender


def future(raw: str, now: datetime) -> datetime:
    try:
        when = parse_timestamp(raw)
    except ValueError as exc:
        raise ValidationFailed(
            "'send_at' is not an ISO-8601 timestamp.", code="invalid_schedule_date", param="send_at"
        ) from exc
    if when <= now:
        raise ValidationFailed(
            "'send_at' must be in the future.", code="invalid_schedule_date", param="send_at"
        )
    return when


async def _template_exists(session: AsyncSession, account_id: str, template_id: str) -> None:
    if await TemplateRepository(session).get(account_id, template_id) is None:
        raise ValidationFailed(
            f"No template '{template_id}' on this account.",
            code="unknown_template",
            param="template_id",
        )


def _check_content(row: dict[str, Any]) -> None:
    if row.get("template_id") is not None and row.get("body") is not None:
        raise ValidationFailed("Give 'body' or 'template_id', not both.", param="body")


async def _counts(repository: CampaignRepository, row: Any) -> dict[str, int]:
    if row["status"] == "draft":
        return {}
    return await repository.counts(row["id"])


async def _get(repository: CampaignRepository, principal: Principal, campaign_id: str) -> Any:
    row = await repository.get(principal.account_id, principal.environment, campaign_id)
    if row is None:
        raise NotFound(f"No campaign {campaign_id}.", param="id")
    return row


async def _read(
    repository: CampaignRepository, principal: Principal, campaign_id: str
) -> dict[str, Any]:
    row = await _get(repository, principal, campaign_id)
    return campaign_to_dict(row, await _counts(repository, row))
