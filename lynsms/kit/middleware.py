"""Pure-ASGI middleware: request id, body size (413) and content type (415) for the JSON API."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lynsms.exceptions import LynSMSError, PayloadTooLarge
from lynsms.kit.context import mint_request_id, request_id_var
from lynsms.kit.envelope import error
from lynsms.kit.errors import unexpected_response

MAX_JSON_BODY = 1024 * 1024
_JSON_PREFIX = "/api/v1/"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The routes whose body is not JSON: path -> (largest body in bytes, content types taken).
BODY_RULES: dict[str, tuple[int, frozenset[str]]] = {}


# The same for every path under a prefix (a compatibility API with path parameters).
BODY_PREFIX_RULES: dict[str, tuple[int, frozenset[str]]] = {}


def body_rule(path: str, max_bytes: int, content_types: frozenset[str]) -> None:
    """Let ``path`` take bodies of ``content_types`` up to ``max_bytes`` instead of JSON."""
    BODY_RULES[path] = (max_bytes, content_types)


def body_prefix_rule(prefix: str, max_bytes: int, content_types: frozenset[str]) -> None:
    """``body_rule`` for every path that starts with ``prefix``."""
    BODY_PREFIX_RULES[prefix] = (max_bytes, content_types)


def _rule(path: str) -> tuple[int, frozenset[str]] | None:
    rule = BODY_RULES.get(path)
    if rule is None and BODY_PREFIX_RULES:
        rule = next((r for p, r in BODY_PREFIX_RULES.items() if path.startswith(p)), None)
    return rule


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = mint_request_id(headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode())
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                sent = message.get("headers", [])
                if not any(name == b"x-request-id" for name, _ in sent):  # a replay keeps its own
                    message["headers"] = [*sent, header]
            await send(message)

        try:
            refusal = _refusal(scope, headers)
            if refusal is not None:
                await refusal(scope, receive, send_with_id)
                return
            rule = _rule(scope.get("path", ""))
            limit = MAX_JSON_BODY if rule is None else rule[0]
            await self.app(scope, _limited(receive, limit), send_with_id)
        except Exception as exc:  # the last line of defence: an envelope, never a trace
            if not started:
                await exception_response(exc, scope.get("path", ""))(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def exception_response(exc: Exception, path: str) -> ASGIApp:
    """The envelope for an exception that escaped the app: a LynSMSError's own, else 500/503."""
    if isinstance(exc, LynSMSError):
        headers = exc.extra.pop("headers", None)
        return error(exc.status_code, exc.to_dict(), headers)
    return unexpected_response(exc, path)


def _refusal(scope: Scope, headers: dict[str, str]) -> ASGIApp | None:
    if scope["method"] not in _BODY_METHODS or not scope["path"].startswith(_JSON_PREFIX):
        return None
    rule = _rule(scope["path"])
    limit = MAX_JSON_BODY if rule is None else rule[0]
    length = headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        return _too_large(limit)
    has_body = (length is not None and length != "0") or "transfer-encoding" in headers
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if has_body and not _accepted(content_type, rule):
        taken = "application/json" if rule is None else " or ".join(sorted(rule[1]))
        return error(
            415,
            {
                "code": "unsupported_media_type",
                "message": f"Send the request body as {taken}.",
            },
        )
    return None


def _accepted(content_type: str, rule: tuple[int, frozenset[str]] | None) -> bool:
    if rule is not None:
        return content_type in rule[1]
    return content_type == "application/json" or content_type.endswith("+json")


class BodyTooLarge(PayloadTooLarge):
    def __init__(self, limit: int = MAX_JSON_BODY) -> None:
        super().__init__(f"The request body is over {limit} bytes.")


def _too_large(limit: int) -> ASGIApp:
    return error(
        413,
        {
            "code": "payload_too_large",
            "message": f"The request body is over {limit} bytes.",
        },
    )


def _limited(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return wrapped
