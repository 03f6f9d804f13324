"""Launching a campaign: freeze and render its audience, pay for it, hand it to the worker.

At launch every contact of the audience is settled: opted out (skipped, counted),
not sendable (a missing template variable, no route, too long: failed, counted, not
charged), or a recipient with its rendered body, price and the id of the message it
will become. The recipients, the debit (prepaid packages first, then money: the send
path's own ``billing.add_debit``) and the campaign's new status are one write: a 402
leaves the draft exactly as it was. The worker then turns recipients into messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from lynsms.accounts.auth import Principal
from lynsms.billing import service as billing_service
from lynsms.campaigns.repository import LAUNCH, NOT_DRAFT, CampaignRepository, recipients
from lynsms.campaigns.views import campaign_to_dict
from lynsms.exceptions import Conflict, LynSMSError, NotFound, ValidationFailed
from lynsms.kit.clock import utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.phones import country_of
from lynsms.kit.segments import Segmentation, segment
from lynsms.messages.service import MAX_BODY
from lynsms.runtime import Runtime
from lynsms.templates import placeholders
from lynsms.templates.repository import TemplateRepository
from lynsms.webhooks.events import event_row, events
from lynsms.writer import WriteOp


@dataclass
class Settled:
    """The audience, settled contact by contact."""

    total: int = 0
    skipped: int = 0
    failed: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)


async def launch(runtime: Runtime, principal: Principal, campaign_id: str) -> dict[str, Any]:
    now = utcnow()
    async with runtime.database.read_sessions() as session:
        repository = CampaignRepository(session)
        campaign = await repository.get(principal.account_id, principal.environment, campaign_id)
        if campaign is None:
            raise NotFound(f"No campaign {campaign_id}.", param="id")
        _launchable(campaign)
        sender = await _sender(runtime, principal, campaign)
        body = await _body(session, principal, campaign)
        send_at = None if campaign["send_at"] is None else future_at(campaign["send_at"], now)
        contacts = await _audience(repository, principal.account_id, campaign["audience"])
        stopped = await repository.opted_out(
            principal.account_id, sorted({str(c["phone"]) for c in contacts})
        )
    settled = _settle(runtime, principal, campaign, body, contacts, stopped)
    row = await _commit(runtime, principal, campaign, sender, settled, send_at, now)
    runtime.wakeup.notify("messages")
    return campaign_to_dict(row, {})


def _launchable(campaign: Mapping[str, Any]) -> None:
    if campaign["status"] != "draft":
        raise Conflict(
            f"A {campaign['status']} campaign cannot be launched; only a draft can.",
            code="campaign_not_launchable",
        )
    if campaign["audience"] is None:
        raise ValidationFailed("The campaign has no 'audience'.", param="audience")


def future_at(send_at: datetime, now: datetime) -> datetime:
    """A scheduled launch must still be ahead (a draft may have waited past its date)."""
    if send_at <= now:
        raise ValidationFailed(
            "'send_at' has passed; set a new one or null to launch now.",
            code="invalid_schedule_date",
            param="send_at",
        )
    return send_at


async def _sender(runtime: Runtime, principal: Principal, campaign: Mapping[str, Any]) -> str:
    sender = campaign["from_number"]
    if sender is None:
        raise ValidationFailed("The campaign has no 'from'.", param="from")
    if not principal.is_test and not await runtime.approvals.is_approved(
        runtime.database, principal.account_id, sender
    ):
        raise ValidationFailed(
            f"Sender '{sender}' is not approved for live sends on this account.",
            code="sender_not_approved",
            param="from",
        )
    return str(sender)


async def _body(session: Any, principal: Principal, campaign: Mapping[str, Any]) -> str:
    if campaign["template_id"] is None:
        if campaign["body"] is None:
            raise ValidationFailed("The campaign has no 'body' and no 'template_id'.", param="body")
        return str(campaign["body"])
    template = await TemplateRepository(session).get(principal.account_id, campaign["template_id"])
    if template is None:
        raise ValidationFailed(
            f"No template '{campaign['template_id']}' on this account.",
            code="unknown_template",
            param="template_id",
        )
    return template.body


async def _audience(
    repository: CampaignRepository, account_id: str, audience: Mapping[str, Any]
) -> list[Any]:
    if "tags" in audience:
        found = await repository.contacts_tagged(account_id, list(audience["tags"]))
    else:
        wanted = list(audience["contact_ids"])
        found = await repository.contacts_by_id(account_id, wanted)
        missing = set(wanted) - {row["id"] for row in found}
        if missing:
            first = next(item for item in wanted if item in missing)
            raise ValidationFailed(
                f"No contact '{first}' on this account ({len(missing)} unknown).",
                code="unknown_contact",
                param="audience.contact_ids",
            )
    if not found:
        raise ValidationFailed(
            "The audience has no contacts.", code="empty_audience", param="audience"
        )
    return found


def _settle(
    runtime: Runtime,
    principal: Principal,
    campaign: Mapping[str, Any],
    body: str,
    contacts: list[Any],
    stopped: set[str],
) -> Settled:
    settled = Settled(total=len(contacts))
    variables = dict(campaign["variables"] or {})
    cache: dict[str, Segmentation] = {}
    for contact in contacts:
        if contact["phone"] in stopped:
            settled.skipped += 1
            continue
        try:
            text = _render(body, variables, contact)
            row = _recipient(runtime, principal, campaign["id"], contact, text, cache)
        except (LynSMSError, placeholders.MissingVariables):
            settled.failed += 1
            continue
        row["seq"] = len(settled.rows)
        settled.rows.append(row)
    return settled


def _render(body: str, variables: dict[str, Any], contact: Mapping[str, Any]) -> str:
    """Variables from the campaign first, then the contact: name, phone, email, attributes."""
    values = dict(contact["attributes"] or {})
    for name in ("email", "phone", "name"):
        if contact[name] is not None:
            values[name] = contact[name]
    values.update(variables)
    return placeholders.render(body, values)


def _recipient(
    runtime: Runtime,
    principal: Principal,
    campaign_id: str,
    contact: Mapping[str, Any],
    text: str,
    cache: dict[str, Segmentation],
) -> dict[str, Any]:
    if not text or len(text) > MAX_BODY:
        raise ValidationFailed("The rendered body is empty or too long.", param="body")
    phone = str(contact["phone"])
    country = country_of(phone)
    runtime.router.chain(test=principal.is_test, country=country)  # raises if no route
    seg = cache.get(text)
    if seg is None:
        seg = cache[text] = segment(text)
    return {
        "id": new_id("msg"),
        "campaign_id": campaign_id,
        "contact_id": contact["id"],
        "to_number": phone,
        "country": country,
        "body": text,
        "encoding": seg.encoding,
        "segments": seg.segments,
        "cost_units": runtime.prices.cost(country, seg.segments),
    }


async def _commit(
    runtime: Runtime,
    principal: Principal,
    campaign: Mapping[str, Any],
    sender: str,
    settled: Settled,
    send_at: datetime | None,
    now: datetime,
) -> dict[str, Any]:
    """One write: recipients, debit, status (and ``campaign.started`` when it starts now)."""
    status = "scheduled" if send_at is not None else "running"
    launched = {
        "p_id": campaign["id"],
        "p_status": status,
        "p_key": principal.key_id,
        "p_from": sender,
        "p_total": settled.total,
        "p_skipped": settled.skipped,
        "p_failed": settled.failed,
        "p_recipients": len(settled.rows),
        "p_reserved": 0,
        "p_run_at": send_at or now,
        "p_now": now,
        "p_started_at": None if send_at is not None else now,
    }
    after = _after_launch(campaign, launched)
    refused = Conflict("The campaign is no longer a draft.", code="campaign_not_launchable")
    op = WriteOp(guard=(NOT_DRAFT, {"id": campaign["id"]}, refused))
    op.insert(recipients, settled.rows)
    if not principal.is_test:
        units = sum(row["cost_units"] for row in settled.rows)
        what = f"campaign {campaign['id']}: {len(settled.rows)} messages"
        billing_service.add_debit(
            op, principal.account_id, units, campaign["id"], what, settled.rows
        )

    def started() -> list[dict[str, Any]]:
        # Built after the debit (on every attempt): the money it took, net of packages. The
        # LAUNCH update runs after the inserts, so it reads this same figure.
        launched["p_reserved"] = (
            0 if principal.is_test else sum(row["cost_units"] for row in settled.rows)
        )
        if status != "running":
            return []
        data = campaign_to_dict(after(), {})
        return [event_row(campaign["account_id"], campaign["mode"], "campaign.started", data)]

    op.insert_later(events, started)
    op.update(LAUNCH, [launched])
    try:
        await runtime.database.writer.submit(op)
    except IntegrityError as exc:  # launched at the same time by another process
        raise refused from exc
    return after()


def _after_launch(
    campaign: Mapping[str, Any], launched: dict[str, Any]
) -> Callable[[], dict[str, Any]]:
    def row() -> dict[str, Any]:
        return {
            **campaign,
            "status": launched["p_status"],
            "api_key_id": launched["p_key"],
            "from_number": launched["p_from"],
            "total": launched["p_total"],
            "skipped_opted_out": launched["p_skipped"],
            "failed_at_launch": launched["p_failed"],
            "recipients": launched["p_recipients"],
            "reserved_units": launched["p_reserved"],
            "next_run_at": launched["p_run_at"],
            "launched_at": launched["p_now"],
            "started_at": launched["p_started_at"],
            "updated_at": launched["p_now"],
        }

    return row
