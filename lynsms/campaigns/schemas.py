"""Request and response shapes of campaigns (API.md §8, §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictStr, field_validator, model_validator

from lynsms.accounts.schemas import StrictBody
from lynsms.kit.envelope import ResponseModel
from lynsms.templates import placeholders
from lynsms.templates.schemas import MAX_BODY, Variables

MAX_CONTACT_IDS = 100_000
MAX_TAGS = 100
STATUSES = ("draft", "scheduled", "running", "completed", "cancelled")
_EXAMPLE: dict[str, Any] = {
    "name": "Black Friday",
    "from": "LynShop",
    "template_id": "tpl_0Ut8kQzAbCdEfGhIjKlMnOpQr",
    "variables": {"code": "BF26"},
    "audience": {"tags": ["vip", "newsletter"]},
    "send_at": "2026-11-27T09:00:00Z",
}


class Audience(StrictBody):
    """Contacts with any of ``tags``, or the contacts ``contact_ids``: one of the two."""

    tags: list[StrictStr] | None = Field(default=None, min_length=1, max_length=MAX_TAGS)
    contact_ids: list[StrictStr] | None = Field(
        default=None, min_length=1, max_length=MAX_CONTACT_IDS
    )

    @model_validator(mode="after")
    def _one_of(self) -> Audience:
        if (self.tags is None) == (self.contact_ids is None):
            raise ValueError("give either 'tags' or 'contact_ids'")
        return self

    def to_json(self) -> dict[str, list[str]]:
        if self.tags is not None:
            return {"tags": list(dict.fromkeys(self.tags))}
        return {"contact_ids": list(dict.fromkeys(self.contact_ids or []))}


class _Fields(StrictBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from", min_length=1, max_length=32)
    template_id: str | None = Field(default=None, max_length=32)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    variables: Variables | None = Field(default=None, max_length=1000)
    audience: Audience | None = None
    send_at: str | None = Field(
        default=None, description="ISO-8601 timestamp in the future; absent: at launch."
    )

    @field_validator("body")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return None if value is None else placeholders.check(value)


class CampaignCreate(_Fields):
    """A draft: everything but ``name`` may come later (launch checks it is complete)."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, json_schema_extra={"examples": [_EXAMPLE]}
    )

    name: str = Field(min_length=1, max_length=200)


class CampaignUpdate(_Fields):
    """A partial update of a draft: only the fields sent change; ``null`` clears one."""

    name: str | None = Field(default=None, min_length=1, max_length=200)


class Stats(ResponseModel):
    total: int = Field(description="The audience at launch: the sum of the other counts.")
    queued: int = Field(description="Not yet handed to a provider.")
    sent: int = Field(description="Handed to a provider, no final report yet.")
    delivered: int
    failed: int = Field(
        description="Failed, undelivered, expired, or not sendable (e.g. a contact missing a "
        "template variable): not charged unless a provider took it."
    )
    skipped_opted_out: int
    cancelled: int = Field(description="Not sent because the campaign was cancelled.")


class TagsAudienceOut(ResponseModel):
    tags: list[str] = Field(description="Contacts with any of these tags.")


class ContactsAudienceOut(ResponseModel):
    contact_ids: list[str]


class CampaignOut(ResponseModel):
    id: str = Field(examples=["cmp_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["campaign"] = "campaign"
    name: str
    from_: str | None = Field(alias="from")
    template_id: str | None
    body: str | None
    variables: dict[str, Any]
    audience: TagsAudienceOut | ContactsAudienceOut | None
    send_at: datetime | None
    status: Literal["draft", "scheduled", "running", "completed", "cancelled"]
    stats: Stats
    cost: float = Field(description="Money reserved at launch, net of prepaid packages.")
    currency: str
    created_at: datetime
    updated_at: datetime
    launched_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
