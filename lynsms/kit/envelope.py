"""The response envelope of API.md §1: ``success``, ``data`` or ``error``, ``meta``."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from lynsms.kit.context import current_request_id

API_VERSION = "v1"
T = TypeVar("T")


class ResponseModel(BaseModel):
    """A documented response shape: a field with a default is still always present in it."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Meta(ResponseModel):
    request_id: str = Field(description="Equals the X-Request-Id header.")
    api_version: str = API_VERSION


class Envelope(ResponseModel, Generic[T]):
    """Documentation of the success envelope (responses are rendered by ``ok``)."""

    success: Literal[True] = True
    data: T
    meta: Meta


class Pagination(ResponseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "page": 2,
                    "limit": 50,
                    "total_items": 134,
                    "total_pages": 3,
                    "has_next": True,
                    "has_prev": True,
                }
            ]
        },
    )

    page: int
    limit: int
    total_items: int
    total_pages: int
    has_next: bool
    has_prev: bool


class PageEnvelope(ResponseModel, Generic[T]):
    """Documentation of the list envelope (responses are rendered by ``ok_page``)."""

    success: Literal[True] = True
    data: list[T]
    pagination: Pagination
    meta: Meta


class FieldProblem(BaseModel):
    param: str | None
    message: str


class ErrorObject(BaseModel):
    """Documentation of ``error``: a stable ``code``, a message for humans, the field at fault."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, snake_case: program against it.")
    message: str = Field(description="For humans; may change.")
    param: str | None = Field(default=None, description="The offending field, if there is one.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="validation_error: every problem found, the first one above."
    )
    required_scope: str | None = Field(default=None, description="insufficient_scope only.")
    granted_scopes: list[str] | None = Field(default=None, description="insufficient_scope only.")


class ErrorEnvelope(ResponseModel):
    """Documentation of the error envelope (responses are rendered by ``error``)."""

    success: Literal[False] = False
    error: ErrorObject
    meta: Meta


def meta() -> dict[str, str]:
    return {"request_id": current_request_id(), "api_version": API_VERSION}


def render(body: dict[str, Any], status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


def ok(data: Any, status_code: int = 200) -> Response:
    return render({"success": True, "data": data, "meta": meta()}, status_code)


def ok_page(items: list[Any], pagination: dict[str, Any]) -> Response:
    return render({"success": True, "data": items, "pagination": pagination, "meta": meta()})


def error(
    status_code: int, error_body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    response = render({"success": False, "error": error_body, "meta": meta()}, status_code)
    if headers:
        response.headers.update(headers)
    return response
