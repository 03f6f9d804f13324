"""Sinch's bearer token: a LynSMS API key of the account that is the service plan.

The path's ``service_plan_id`` must be the key's account id; anything else (no token, a
token that is no key, a revoked or expired key, another account's key) is 401 in Sinch's
shape. The key's scopes, IP allowlist and rate limit apply as on the native API.
"""

from __future__ import annotations

from starlette.requests import Request

from lynsms.accounts import scopes
from lynsms.accounts.auth import KEY_PREFIXES, Principal, authenticate_key
from lynsms.dialects.sinch.errors import UNAUTHORIZED, SinchError, from_lynsms
from lynsms.exceptions import LynSMSError


async def authorize(request: Request, service_plan_id: str, scope: str) -> Principal:
    """Authenticate the bearer token for ``service_plan_id`` and require ``scope``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(KEY_PREFIXES):
        raise UNAUTHORIZED
    try:
        principal = await authenticate_key(request, request.app.state.database, token)
    except LynSMSError as exc:
        raise from_lynsms(exc) from exc
    if principal.account_id != service_plan_id:
        raise UNAUTHORIZED
    if not scopes.grants(principal.scopes, scope):
        raise SinchError(403, "forbidden", f"This API key lacks the '{scope}' scope.")
    runtime = request.app.state.runtime
    limit = principal.rate_limit_per_minute or runtime.settings.rate_limit_per_minute
    quota = await runtime.limiter.hit(principal.key_id, limit)
    if quota.exceeded:
        raise SinchError(
            429,
            "too_many_requests",
            "Too many requests.",
            headers={"Retry-After": str(quota.reset_in)},
        )
    return principal
