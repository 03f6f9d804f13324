"""Request and response shapes of contacts (API.md §8, §12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
)

from lynsms.accounts.schemas import StrictBody
from lynsms.contacts import fields
from lynsms.kit.envelope import ResponseModel

Attribute = StrictStr | StrictBool | StrictInt | StrictFloat
_EXAMPLE: dict[str, Any] = {
    "phone": "+447700900100",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "tags": ["vip", "london"],
    "attributes": {"plan": "pro", "visits": 12, "beta": True},
}


class ContactFields(StrictBody):
    """What create and update share; each check is ``lynsms.contacts.fields``'."""

    name: str | None = Field(default=None, examples=["Ada Lovelace"])
    email: str | None = Field(default=None, examples=["ada@example.com"])
    tags: list[StrictStr] | None = Field(default=None, description="Trimmed and de-duplicated.")
    opted_out: StrictBool | None = Field(
        default=None,
        description="The number's opt-out for the account: true opts it out, false back in.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else fields.name(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else fields.email(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else fields.tags(value)


class ContactCreate(ContactFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    phone: str = Field(description="E.164, normalised; unique per account.")
    attributes: dict[str, Attribute] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, Any]) -> dict[str, Any]:
        return fields.attributes(value)


class ContactUpdate(ContactFields):
    """A partial update: only the fields sent change; ``null`` clears a field."""

    phone: str | None = None
    attributes: dict[str, Attribute | None] | None = Field(
        default=None, description="Merged into the contact's; a key set to null is removed."
    )

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else fields.attributes(value)


class ContactOut(ResponseModel):
    id: str = Field(examples=["ct_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["contact"] = "contact"
    phone: str
    name: str | None
    email: str | None
    attributes: dict[str, Attribute]
    tags: list[str]
    opted_out: bool
    opted_out_at: datetime | None
    created_at: datetime
    updated_at: datetime


class RowError(ResponseModel):
    code: str
    message: str


class ImportFailure(ResponseModel):
    row: int = Field(description="The data row, counted from 1 (the header excluded).")
    error: RowError


class ImportResultOut(ResponseModel):
    created: int
    updated: int
    failed: list[ImportFailure]
