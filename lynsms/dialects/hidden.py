"""Hidden webhook endpoints: how a dialect delivers per-message or per-batch callbacks.

A dialect whose requests name their own callback URL (Twilio's ``StatusCallback``,
Sinch's ``callback_url``) gets one endpoint per account and mode, with a stable id
(so concurrent first sends cannot create two), a ``format`` the webhook worker
knows, and the usual durable outbox, retries and attempt records. It is not listed
under ``/webhooks`` and cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.models import WebhookEndpoint
from lynsms.webhooks import signing

if TYPE_CHECKING:  # the dialects' callbacks (imported by the webhook worker) import this
    from lynsms.accounts.auth import Principal
    from lynsms.runtime import Runtime

endpoints: Table = WebhookEndpoint.__table__  # type: ignore[assignment]
_KNOWN = "hidden_endpoints"  # runtime attribute: hidden endpoints known to exist


@dataclass(frozen=True, slots=True)
class HiddenEndpoint:
    tag: str  # two letters in the id: ``tw``, ``sn``
    format: str
    url: str  # a placeholder: each message or batch names its own URL
    description: str
    events: frozenset[str]

    def endpoint_id(self, account_id: str, mode: str) -> str:
        """One per account and mode, stable, within the 32 characters of an id."""
        return f"whk_{self.tag}{mode[:1].upper()}{account_id.removeprefix('acct_')}"[:32]


async def ensure(runtime: Runtime, principal: Principal, spec: HiddenEndpoint) -> None:
    """Create the account's hidden endpoint of ``spec`` for the key's mode, once."""
    endpoint_id = spec.endpoint_id(principal.account_id, principal.environment)
    known: set[str] = runtime.__dict__.setdefault(_KNOWN, set())
    if endpoint_id in known:
        return
    async with session_scope(runtime.database, write=False) as session:
        exists = await HiddenEndpointRepository(session).exists(endpoint_id)
    if not exists:
        secret = signing.endpoint_secret(signing.server_key(runtime.settings), endpoint_id)
        async with session_scope(runtime.database, write=True) as session:
            await HiddenEndpointRepository(session).add(_row(spec, endpoint_id, principal, secret))
    known.add(endpoint_id)


def _row(
    spec: HiddenEndpoint, endpoint_id: str, principal: Principal, secret: str
) -> dict[str, Any]:
    return {
        "id": endpoint_id,
        "account_id": principal.account_id,
        "mode": principal.environment,
        "url": spec.url,
        "events": sorted(spec.events),
        "description": spec.description,
        "format": spec.format,
        "headers": {},
        "secret_hint": signing.secret_hint(secret),
        "enabled": True,
        "created_at": utcnow(),
    }


class HiddenEndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, endpoint_id: str) -> bool:
        found = await self.session.scalar(
            select(endpoints.c.id).where(endpoints.c.id == endpoint_id)
        )
        return found is not None

    async def add(self, values: dict[str, Any]) -> None:
        """Insert the endpoint unless a concurrent request just did."""
        try:
            async with self.session.begin_nested():
                await self.session.execute(endpoints.insert(), values)
        except IntegrityError:
            pass
