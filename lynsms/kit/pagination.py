"""Offset pagination (seed 002): ``page`` and ``limit`` in, the ``pagination`` block out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

MAX_LIMIT = 100
MAX_PAGE = 10**12  # past any list, and its OFFSET still fits the databases' 64-bit integers


@dataclass(frozen=True, slots=True)
class Page:
    page: int
    limit: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    def block(self, total_items: int) -> dict[str, Any]:
        total_pages = (total_items + self.limit - 1) // self.limit
        return {
            "page": self.page,
            "limit": self.limit,
            "total_items": total_items,
            "total_pages": total_pages,
            "has_next": self.page < total_pages,
            "has_prev": self.page > 1,
        }


async def _page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
    limit: Annotated[
        int, Query(ge=1, description="Items per page; above 100 is capped at 100.")
    ] = 20,
) -> Page:
    return Page(page=page, limit=min(limit, MAX_LIMIT))


PageParams = Annotated[Page, Depends(_page_params)]
