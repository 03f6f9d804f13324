"""``X-Api-Key`` (a LynSMS API key) plus the account's ``secret_code`` parameter.

No key, or one that is not a valid key, is 4003; a missing or wrong secret_code is 4001
(both 401). The key's scopes, IP allowlist and rate limit apply as on the native API.
The conventions middleware ignores these requests (they carry no bearer token), so the
rate limit is counted here.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from lynsms.accounts import scopes
from lynsms.accounts.auth import KEY_PREFIXES, Principal, authenticate_key
from lynsms.database import session_scope
from lynsms.dialects.lightningmsg import secrets
from lynsms.dialects.lightningmsg.errors import (
    INVALID_API_KEY,
    WRONG_PARAMETERS,
    LightningError,
    invalid_api_key,
    wrong_secret_code,
)
from lynsms.exceptions import LynSMSError


async def authorize(request: Request, params: dict[str, Any], scope: str) -> Principal:
    raw = request.headers.get("x-api-key", "").strip()
    if not raw.startswith(KEY_PREFIXES):
        raise invalid_api_key()
    try:
        principal = await authenticate_key(request, request.app.state.database, raw)
    except LynSMSError as exc:
        raise invalid_api_key() from exc
    code = params.get("secret_code")
    if not isinstance(code, str) or not code:
        raise wrong_secret_code()
    async with session_scope(request.app.state.database, write=False) as session:
        if not await secrets.matches(session, principal.account_id, code):
            raise wrong_secret_code()
    if not scopes.grants(principal.scopes, scope):
        raise LightningError(
            INVALID_API_KEY, f"This API key lacks the '{scope}' scope.", http_status=403
        )
    runtime = request.app.state.runtime
    limit = principal.rate_limit_per_minute or runtime.settings.rate_limit_per_minute
    quota = await runtime.limiter.hit(principal.key_id, limit)
    if quota.exceeded:
        raise LightningError(
            WRONG_PARAMETERS,
            f"Over {limit} requests per minute for this API key; retry later.",
            http_status=429,
            headers={"Retry-After": str(quota.reset_in)},
        )
    return principal
