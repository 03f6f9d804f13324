"""Per-request context: the request id, readable anywhere while a request is served."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def mint_request_id(client_value: str | None) -> str:
    """Honour a well-formed client ``X-Request-Id``; otherwise ``req_<12 hex>``."""
    if client_value and _CLIENT_ID.fullmatch(client_value):
        return client_value
    return "req_" + secrets.token_hex(6)


def current_request_id() -> str:
    return request_id_var.get()
