"""Request and response shapes of accounts and API keys."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lynsms.accounts import scopes as scope_rules
from lynsms.kit.envelope import ResponseModel


class StrictBody(BaseModel):
    """A request body: unknown fields are refused and named."""

    model_config = ConfigDict(extra="forbid")


class ApiKeyCreate(StrictBody):
    name: str = Field(default="", max_length=200)
    environment: Literal["live", "test"] = "live"
    scopes: list[str] = Field(default_factory=lambda: [scope_rules.ALL], min_length=1)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    allowed_ips: list[str] = Field(default_factory=list, max_length=100)
    expires_at: datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = [scope for scope in value if scope not in scope_rules.KNOWN]
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(unknown)}")
        return sorted(set(value))

    @field_validator("allowed_ips")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        networks = []
        for cidr in value:
            try:
                networks.append(str(ipaddress.ip_network(cidr, strict=False)))
            except ValueError as exc:
                raise ValueError(f"'{cidr}' is not an IP address or CIDR range") from exc
        return networks


class ApiKeyOut(ResponseModel):
    id: str = Field(examples=["key_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["api_key"] = "api_key"
    name: str
    environment: Literal["live", "test"]
    scopes: list[str]
    prefix: str = Field(examples=["ds_live_AbCd"])
    rate_limit_per_minute: int | None
    allowed_ips: list[str]
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The raw key. Shown only once.")


class AccountOut(ResponseModel):
    id: str = Field(examples=["acct_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["account"] = "account"
    name: str
    email: str
    currency: str
    balance: float
    created_at: datetime
