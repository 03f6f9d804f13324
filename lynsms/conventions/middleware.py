"""The request conventions of API.md §7, as one pure-ASGI layer in front of ``/api/v1``.

Per request: authenticate the key once (the routes reuse the principal), count the
request against the key's rate limit (the headers go on every authenticated response;
over the limit, 429), then serve a POST, PUT, PATCH or DELETE that sends an
``Idempotency-Key`` through ``idempotency.serve``. A request without a usable key
passes through untouched, and the route refuses it. Without the header, the cost is a
scan of the request headers for it.

It sits inside ``RequestContextMiddleware`` (request id, 413 and 415 come first) and
outside ``FastPathMiddleware``, so the hot send routes follow the same conventions.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lynsms.accounts.auth import Principal, authenticate_once
from lynsms.conventions import idempotency
from lynsms.exceptions import LynSMSError, RateLimited
from lynsms.kit.middleware import exception_response
from lynsms.runtime import Runtime

API_PREFIX = "/api/v1/"


class ConventionsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        principal = await _principal(scope)
        if principal is None:
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        limit = principal.rate_limit_per_minute or runtime.settings.rate_limit_per_minute
        quota = await runtime.limiter.hit(principal.key_id, limit)
        stamped = Stamped(send, quota.headers())
        try:
            if quota.exceeded:
                raise RateLimited(
                    f"Over {limit} requests per minute for this API key; retry later.",
                    headers={"Retry-After": str(quota.reset_in)},
                )
            await self._serve(scope, receive, stamped, runtime, principal)
        except Exception as exc:  # after authentication, errors carry the rate-limit headers too
            if stamped.started:
                raise
            await exception_response(exc, scope["path"])(scope, receive, stamped)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, runtime: Runtime, principal: Principal
    ) -> None:
        key = idempotency.idempotency_key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        await idempotency.serve(
            self.app,
            scope,
            receive,
            send,
            store=runtime.idempotency,
            api_key_id=principal.key_id,
            key=key,
        )


async def _principal(scope: Scope) -> Principal | None:
    try:
        return await authenticate_once(Request(scope))
    except LynSMSError:
        return None  # the route raises it again, as if this layer were not there


class Stamped:
    """An ASGI ``send`` that adds headers to the response and tells whether it has started."""

    __slots__ = ("headers", "send", "started")

    def __init__(self, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        self.send = send
        self.headers = headers
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            message["headers"] = [*message.get("headers", ()), *self.headers]
        await self.send(message)
