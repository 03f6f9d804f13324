"""Twilio's HTTP Basic: the AccountSid (our account id) and the AuthToken (a LynSMS API key).

The username must be the AccountSid of the path and the key one of that account's;
anything else is Twilio's 20003 (401), as is a revoked or expired key. The key's
scopes, IP allowlist and rate limit apply as on the native API.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from starlette.requests import Request

from lynsms.accounts import scopes
from lynsms.accounts.auth import KEY_PREFIXES, Principal, authenticate_key
from lynsms.dialects.twilio.errors import AUTHENTICATION_FAILED, TwilioError, from_lynsms
from lynsms.exceptions import LynSMSError
from lynsms.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called: the key's principal, and the key itself (the callbacks' signing token)."""

    principal: Principal
    token: str


async def authorize(request: Request, account_sid: str, scope: str) -> Caller:
    """Authenticate the Basic credentials for ``account_sid`` and require ``scope``."""
    username, token = _credentials(request)
    if username != account_sid or not token.startswith(KEY_PREFIXES):
        raise AUTHENTICATION_FAILED
    try:
        principal = await authenticate_key(request, request.app.state.database, token)
    except LynSMSError as exc:
        raise from_lynsms(exc) from exc
    if principal.account_id != account_sid:
        raise AUTHENTICATION_FAILED
    if not scopes.grants(principal.scopes, scope):
        raise TwilioError(403, 20403, f"This API key lacks the '{scope}' scope.")
    await _count(request.app.state.runtime, principal)
    return Caller(principal, token)


def _credentials(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise AUTHENTICATION_FAILED
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise AUTHENTICATION_FAILED from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise AUTHENTICATION_FAILED
    return username, password


async def _count(runtime: Runtime, principal: Principal) -> None:
    """The key's rate limit (API.md §7) holds here too: Twilio's 20429 over it."""
    limit = principal.rate_limit_per_minute or runtime.settings.rate_limit_per_minute
    quota = await runtime.limiter.hit(principal.key_id, limit)
    if quota.exceeded:
        raise TwilioError(
            429, 20429, "Too Many Requests", headers={"Retry-After": str(quota.reset_in)}
        )
