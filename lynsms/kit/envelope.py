"""The response envelope of API.md §1: ``success``, ``data`` or ``error``, ``meta``."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from starlette.responses import Response

from lynsms.kit.context import current_request_id

API_VERSION = "v1"
T = TypeVar("T")


class Meta(BaseModel):
    request_id: str
    api_version: str = API_VERSION


class Envelope(BaseModel, Generic[T]):
    """Documentation of the success envelope (responses are rendered by ``ok``)."""

    success: bool = True
    data: T
    meta: Meta


class Pagination(BaseModel):
    page: int
    limit: int
    total_items: int
    total_pages: int
    has_next: bool
    has_prev: bool


class PageEnvelope(BaseModel, Generic[T]):
    success: bool = True
    data: list[T]
    pagination: Pagination
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
