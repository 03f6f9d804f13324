"""Request and response shapes of templates (API.md §8, §12)."""

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
from lynsms.kit.envelope import ResponseModel
from lynsms.templates import placeholders

MAX_BODY = 1600
NAME_PATTERN = r"^[a-z0-9_]{1,64}$"
# A variable's value: what a JSON scalar may be (null is not a value).
Variable = StrictStr | StrictBool | StrictInt | StrictFloat
Variables = dict[str, Variable]
_EXAMPLE: dict[str, Any] = {
    "name": "order_confirmation",
    "body": "Hi {{ first_name }}, order {{order.id}} is confirmed.",
    "description": "Sent when an order is paid",
}


class TemplateCreate(StrictBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(pattern=NAME_PATTERN, description="[a-z0-9_]{1,64}, unique per account.")
    body: str = Field(min_length=1, max_length=MAX_BODY, description="With {{variable}}s.")
    description: str | None = Field(default=None, max_length=500)

    @field_validator("body")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        return placeholders.check(value)


class TemplateUpdate(StrictBody):
    """A partial update: only the fields sent change; ``null`` clears the description."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    body: str | None = Field(default=None, min_length=1, max_length=MAX_BODY)
    description: str | None = Field(default=None, max_length=500)

    @field_validator("body")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        return None if value is None else placeholders.check(value)


class TemplateOut(ResponseModel):
    id: str = Field(examples=["tpl_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["template"] = "template"
    name: str
    body: str
    variables: list[str] = Field(description="The placeholders' names, in order of appearance.")
    description: str | None
    created_at: datetime
    updated_at: datetime


class PreviewRequest(StrictBody):
    variables: Variables = Field(default_factory=dict, max_length=1000)


class PreviewOut(ResponseModel):
    body: str
    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
