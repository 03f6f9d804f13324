"""Bearer-key authentication: hash lookup through a cache, then the key's own rules.

Keys are stored as SHA-256 hashes (a key carries 192 random bits, so a fast
hash is enough and lookups stay cheap). A key record is cached in-process for
``LYNSMS_KEY_CACHE_SECONDS``; revoking a key evicts it at once in the process
that revoked it. The cache is used only where that is every process that can
revoke (one process on SQLite); otherwise every request reads the key.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.openapi.models import HTTPBearer
from fastapi.security.base import SecurityBase

from lynsms.accounts import scopes as scope_rules
from lynsms.accounts.repository import principal_row
from lynsms.database import Database
from lynsms.exceptions import (
    AuthenticationError,
    InsufficientScope,
    LynSMSError,
    PermissionDenied,
)
from lynsms.kit.clock import utcnow
from lynsms.kit.metrics import KEY_CACHE_MISSES

KEY_PREFIXES = ("ds_live_", "ds_test_")
PRINCIPAL = "lynsms.principal"  # the request-state entry: a Principal or the error refusing it


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: one API key of one account."""

    key_id: str
    account_id: str
    environment: str  # live | test
    scopes: frozenset[str]
    currency: str
    rate_limit_per_minute: int | None
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    expires_at: datetime | None
    revoked: bool

    @property
    def is_test(self) -> bool:
        return self.environment == "test"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class KeyCache:
    """Principals by key hash, for a bounded time; evicted on revocation."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._last_used: dict[str, datetime] = {}

    def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is None or time.monotonic() - entry[0] > self.ttl:
            return None
        return entry[1]

    def put(self, key_hash: str, principal: Principal) -> None:
        if self.ttl > 0:
            self._entries[key_hash] = (time.monotonic(), principal)

    def evict_key(self, key_id: str) -> None:
        for key_hash, (_, principal) in list(self._entries.items()):
            if principal.key_id == key_id:
                del self._entries[key_hash]

    def mark_used(self, key_id: str, at: datetime) -> None:
        self._last_used[key_id] = at

    def take_used(self) -> dict[str, datetime]:
        used, self._last_used = self._last_used, {}
        return used


async def load_principal(database: Database, key_hash: str) -> Principal | None:
    async with database.autocommit.connect() as conn:
        key = await principal_row(conn, key_hash)
    if key is None:
        return None
    networks = tuple(ipaddress.ip_network(cidr, strict=False) for cidr in key.allowed_ips or [])
    return Principal(
        key_id=key.id,
        account_id=key.account_id,
        environment=key.environment,
        scopes=frozenset(key.scopes),
        currency=key.currency or "USD",
        rate_limit_per_minute=key.rate_limit_per_minute,
        allowed_networks=networks,
        expires_at=key.expires_at,
        revoked=key.revoked_at is not None,
    )


async def authenticate(request: Request, database: Database) -> Principal:
    return await authenticate_key(request, database, _bearer_token(request))


async def authenticate_key(request: Request, database: Database, raw: str) -> Principal:
    """The principal of a raw key, however the request carried it (API dialects use Basic)."""
    key_hash = hash_key(raw)
    cache: KeyCache = request.app.state.key_cache
    principal = cache.get(key_hash)
    if principal is None:
        KEY_CACHE_MISSES.inc()
        principal = await load_principal(database, key_hash)
        if principal is None:
            raise AuthenticationError("The API key is not valid.", code="invalid_api_key")
        cache.put(key_hash, principal)
    now = utcnow()
    _check_key(principal, now, request.client.host if request.client else None)
    cache.mark_used(principal.key_id, now)
    return principal


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise AuthenticationError(
            "Send your API key as 'Authorization: Bearer ds_live_…'.",
            code="authentication_required",
        )
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIXES):
        raise AuthenticationError("The API key is not valid.", code="invalid_api_key")
    return token


def _check_key(principal: Principal, now: datetime, client_ip: str | None) -> None:
    if principal.revoked:
        raise AuthenticationError("This API key has been revoked.", code="api_key_revoked")
    if principal.expires_at is not None and principal.expires_at <= now:
        raise AuthenticationError("This API key has expired.", code="api_key_expired")
    if principal.allowed_networks and not _ip_allowed(principal, client_ip):
        raise PermissionDenied(
            f"Requests from {client_ip} are not allowed for this API key.", code="ip_not_allowed"
        )


def _ip_allowed(principal: Principal, client_ip: str | None) -> bool:
    if client_ip is None:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    return any(address in network for network in principal.allowed_networks)


async def authenticate_once(request: Request) -> Principal:
    """The request's principal; authenticated once per request, the outcome kept in its state.

    The conventions middleware authenticates every ``/api/v1`` request first (for the
    rate limit); the route's ``authorize`` then reuses the principal or raises the same error.
    """
    state = request.scope.setdefault("state", {})
    outcome: Principal | LynSMSError | None = state.get(PRINCIPAL)
    if outcome is None:
        try:
            outcome = await authenticate(request, request.app.state.database)
        except LynSMSError as exc:
            outcome = exc
        state[PRINCIPAL] = outcome
    if isinstance(outcome, LynSMSError):
        raise outcome
    return outcome


async def authorize(request: Request, scope: str) -> Principal:
    """Authenticate the request's key and require ``scope`` of it."""
    principal = await authenticate_once(request)
    if not scope_rules.grants(principal.scopes, scope):
        raise InsufficientScope(scope, sorted(principal.scopes))
    return principal


BEARER_SCHEME = "bearerAuth"
_BEARER = HTTPBearer(
    bearerFormat="ds_live_… or ds_test_…",
    description="An API key: `Authorization: Bearer ds_live_…`, or `ds_test_…` for the "
    "sandbox. Each operation names the scope the key needs; `*` grants every scope.",
)


class Authenticator(SecurityBase):
    """Dependency: authenticate the key, then require one scope.

    A FastAPI security scheme, so that the OpenAPI document names the bearer scheme and,
    through ``requires``, the scope as each operation's security requirement.
    """

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.model = _BEARER
        self.scheme_name = BEARER_SCHEME

    async def __call__(self, request: Request) -> Principal:
        return await authorize(request, self.scope)


def requires(scope: str) -> Any:
    """The dependency of a route that needs ``scope``: checked, and documented in OpenAPI."""
    return Security(Authenticator(scope), scopes=[scope])


MessagesSend = Annotated[Principal, requires("messages:send")]
MessagesRead = Annotated[Principal, requires("messages:read")]
AccountRead = Annotated[Principal, requires("account:read")]
BillingRead = Annotated[Principal, requires("billing:read")]
SendersRead = Annotated[Principal, requires("senders:read")]
SendersWrite = Annotated[Principal, requires("senders:write")]
ApiKeysRead = Annotated[Principal, requires("api_keys:read")]
ApiKeysWrite = Annotated[Principal, requires("api_keys:write")]
WebhooksRead = Annotated[Principal, requires("webhooks:read")]
WebhooksWrite = Annotated[Principal, requires("webhooks:write")]
