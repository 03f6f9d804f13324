"""A fake of Infobip's SMS API v3 (``POST /sms/3/messages``) and of its callbacks.

What it does, as Infobip does (shapes from ``shared/provider-specs/infobip``):

- ``Authorization: App <api_key>`` or a 401 ``ApiError`` (``E401``);
- the JSON body is validated against the spec's ``SmsRequestEnvelope`` (loaded from
  ``$LYNSMS_INFOBIP_SPEC`` or ``/work/shared/provider-specs/infobip/openapi-spec.json``;
  without the file only the structure is checked, ``spec_loaded`` is then False), plus
  two rules the spec cannot say: at least one message and destination, and
  ``destinations[].to`` written as digits without ``+``. Violations answer 400 ``E400``;
- a 200 ``{"bulkId", "messages": [{"messageId", "status", "destination"}]}`` with a
  status per destination, chosen by ``Behaviour``:

  ========== ====================================================================
  OK         PENDING_ACCEPTED (groupId 1), recorded in ``accepted``
  HANG       sleeps ``hang_seconds``, then answers as OK
  SERVER_ERROR  the whole request: 500 ``E500`` (``server_error_status = 503``: an
             HTML gateway page)
  THROTTLE   the whole request: 429 ``E429``
  PERMANENT  400 ``E400`` with a violation when every destination is PERMANENT,
             otherwise REJECTED_DESTINATION (groupId 5, id 52) inside the 200
  BLACKLISTED  REJECTED_DESTINATION_BLOCKLISTED (groupId 5, id 14) inside the 200
  PARTIAL    REJECTED_DESTINATION inside the 200, the others PENDING_ACCEPTED
  ========== ====================================================================

  ``reject_inside_200(number, "REJECTED_NOT_ENOUGH_CREDITS")`` picks any other
  status of ``STATUSES`` for a number. ``legacy_errors=True`` answers errors in the
  older ``{"requestError": {"serviceException": {...}}}`` envelope instead.

Callbacks: ``status_callback`` / ``inbound_callback`` build the request Infobip would
send (``(url, headers, body)``, checked against the spec's webhook schemas);
``post_status`` / ``post_inbound`` send it.

Standalone, for the benchmark harness: ``python -m tests.fakes.infobip --port N --api-key X``.
"""

from __future__ import annotations

import argparse
import hmac
import json
import math
import os
import secrets
import socket
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.fakes.base import AcceptedMessage, Behaviour, FakeProvider, ReceivedRequest, shared_file

SPEC_ENV = "LYNSMS_INFOBIP_SPEC"
DEFAULT_SPEC = shared_file("provider-specs/infobip/openapi-spec.json")
_PREFIX = "20085a4036d67f66ebf204560d55d58a7c131c15d42c8ed9442747c488e08630."
REQUEST_SCHEMA = _PREFIX + "SmsRequestEnvelope"
RESPONSE_SCHEMA = _PREFIX + "SmsResponseEnvelope"
REPORTS_SCHEMA = _PREFIX + "DeliveryReports"
INBOUND_SCHEMA = (
    "cd5e571e477c0b81ca50ad592cf9f67cc32feded2012ec26d7fae09c0c2d5108.SmsMoReportResponse"
)
MAX_REPORTS_PER_REQUEST = 100

# status name: (groupId, groupName, id, description) — Infobip's general status codes
STATUSES: dict[str, tuple[int, str, int, str]] = {
    "PENDING_WAITING_DELIVERY": (1, "PENDING", 3, "Message sent, waiting for delivery report"),
    "PENDING_ENROUTE": (1, "PENDING", 7, "Message sent to next instance"),
    "PENDING_ACCEPTED": (1, "PENDING", 26, "Message sent to next instance"),
    "UNDELIVERABLE_REJECTED_OPERATOR": (2, "UNDELIVERABLE", 4, "Message rejected by operator"),
    "UNDELIVERABLE_NOT_DELIVERED": (2, "UNDELIVERABLE", 9, "Message sent not delivered"),
    "DELIVERED_TO_OPERATOR": (3, "DELIVERED", 2, "Message delivered to operator"),
    "DELIVERED_TO_HANDSET": (3, "DELIVERED", 5, "Message delivered to handset"),
    "EXPIRED_EXPIRED": (4, "EXPIRED", 15, "Message expired"),
    "EXPIRED_DLR_UNKNOWN": (4, "EXPIRED", 29, "Message expired, delivery status unknown"),
    "REJECTED_NETWORK": (5, "REJECTED", 6, "Network is forbidden"),
    "REJECTED_PREFIX_MISSING": (5, "REJECTED", 8, "Number prefix missing"),
    "REJECTED_DND": (5, "REJECTED", 10, "Destination on DND list"),
    "REJECTED_SOURCE": (5, "REJECTED", 11, "Invalid source address"),
    "REJECTED_NOT_ENOUGH_CREDITS": (5, "REJECTED", 12, "Not enough credits"),
    "REJECTED_SENDER": (5, "REJECTED", 13, "Sender ID blocklisted"),
    "REJECTED_DESTINATION_BLOCKLISTED": (5, "REJECTED", 14, "Destination address blocklisted"),
    "REJECTED_PREPAID_PACKAGE_EXPIRED": (5, "REJECTED", 17, "Account credits expired"),
    "REJECTED_ROUTE_NOT_AVAILABLE": (5, "REJECTED", 19, "No routes available on the account"),
    "REJECTED_FLOODING_FILTER": (5, "REJECTED", 20, "Rejected by the flooding filter"),
    "REJECTED_SYSTEM_ERROR": (5, "REJECTED", 21, "System error"),
    "REJECTED_DUPLICATE_MESSAGE_ID": (5, "REJECTED", 23, "Duplicate message ID"),
    "REJECTED_MESSAGE_TOO_LONG": (5, "REJECTED", 25, "Message too long"),
    "REJECTED_DESTINATION": (5, "REJECTED", 52, "Invalid destination address"),
}
# a group name given to status_callback stands for this status
GROUP_STATUS = {
    "PENDING": "PENDING_WAITING_DELIVERY",
    "DELIVERED": "DELIVERED_TO_HANDSET",
    "UNDELIVERABLE": "UNDELIVERABLE_NOT_DELIVERED",
    "EXPIRED": "EXPIRED_EXPIRED",
    "REJECTED": "REJECTED_DESTINATION",
}
# error name: (groupId, groupName, id, description, permanent)
ERRORS: dict[str, tuple[int, str, int, str, bool]] = {
    "NO_ERROR": (0, "OK", 0, "No Error", False),
    "EC_UNKNOWN_SUBSCRIBER": (1, "HANDSET_ERRORS", 1, "Unknown Subscriber", True),
    "EC_ABSENT_SUBSCRIBER_SM": (1, "HANDSET_ERRORS", 6, "Absent Subscriber", False),
    "EC_ILLEGAL_SUBSCRIBER": (1, "HANDSET_ERRORS", 9, "Illegal Subscriber", True),
    "EC_CALL_BARRED": (1, "HANDSET_ERRORS", 13, "Call Barred", False),
    "EC_ABSENT_SUBSCRIBER": (1, "HANDSET_ERRORS", 27, "Absent Subscriber", False),
    "EC_SM_DF_MEMORYCAPACITYEXCEEDED": (
        1,
        "HANDSET_ERRORS",
        256,
        "Memory Capacity Exceeded",
        False,
    ),
}
GROUP_ERROR = {"UNDELIVERABLE": "EC_UNKNOWN_SUBSCRIBER", "EXPIRED": "EC_ABSENT_SUBSCRIBER"}
_BEHAVIOUR_STATUS = {
    Behaviour.PERMANENT: "REJECTED_DESTINATION",
    Behaviour.PARTIAL: "REJECTED_DESTINATION",
    Behaviour.BLACKLISTED: "REJECTED_DESTINATION_BLOCKLISTED",
}
# (errorCode, description, action) of Infobip's ApiError, and the legacy (messageId, text)
_API_ERRORS = {
    400: (
        "E400",
        "Request cannot be processed.",
        "Check the syntax, violations and adjust the request.",
    ),
    401: (
        "E401",
        "The request lacks valid authentication credentials for the requested resource.",
        "Check the resources and adjust authentication credentials.",
    ),
    429: (
        "E429",
        "Too many requests sent.",
        "Check request rate limit specified in the API endpoint documentation resource.",
    ),
    500: ("E500", "Something went wrong.", "Contact the support."),
}
_LEGACY_ERRORS = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Invalid login details"),
    429: ("TOO_MANY_REQUESTS", "Too many requests"),
    500: ("GENERAL_ERROR", "Something went wrong. Please contact support."),
}
_GATEWAY_PAGE = "<html><body><h1>503 Service Unavailable</h1></body></html>"

Violation = dict[str, str]
Destination = tuple[dict[str, Any], dict[str, Any]]  # (message, destination)


class FakeInfobip(FakeProvider):
    name = "infobip"

    def __init__(
        self,
        api_key: str = "test-infobip-key",
        *,
        hang_seconds: float = 5.0,
        legacy_errors: bool = False,
        server_error_status: int = 500,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.api_key = api_key
        self.legacy_errors = legacy_errors
        self.server_error_status = server_error_status
        self.rejections: dict[str, str] = {}

    @property
    def spec_loaded(self) -> bool:
        return _validator(REQUEST_SCHEMA) is not None

    def reject_inside_200(self, number: str, status_name: str) -> None:
        if STATUSES[status_name][1] != "REJECTED":
            raise ValueError(f"{status_name} is not in the REJECTED group")
        self.rejections[_plus(number)] = status_name

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    def build_app(self) -> Starlette:
        return Starlette(routes=[Route("/sms/3/messages", self._send, methods=["POST"])])

    # --- POST /sms/3/messages ------------------------------------------------------------
    async def _send(self, request: Request) -> Response:
        body = await request.body()
        self.record(_received(request, body))
        if not self._authorised(request.headers.get("authorization", "")):
            return self._error(401)
        payload, violations = _parse(body)
        if violations:
            return self._error(400, violations)
        destinations = _destinations(payload)
        behaviours = [self.behaviour_for(dest["to"]) for _, dest in destinations]
        if Behaviour.HANG in behaviours:
            await self.hang()
        failure = self._request_failure(payload, behaviours)
        if failure is not None:
            return failure
        return JSONResponse(self._answer(payload, destinations, behaviours))

    def _authorised(self, header: str) -> bool:
        return hmac.compare_digest(header.encode(), f"App {self.api_key}".encode())

    def _request_failure(
        self, payload: dict[str, Any], behaviours: list[Behaviour]
    ) -> Response | None:
        if Behaviour.SERVER_ERROR in behaviours:
            if self.server_error_status == 500:
                return self._error(500)
            return HTMLResponse(_GATEWAY_PAGE, status_code=self.server_error_status)
        if Behaviour.THROTTLE in behaviours:
            return self._error(429)
        if all(behaviour is Behaviour.PERMANENT for behaviour in behaviours):
            return self._error(400, _invalid_destinations(payload))
        return None

    def _answer(
        self, payload: dict[str, Any], destinations: list[Destination], behaviours: list[Behaviour]
    ) -> dict[str, Any]:
        options = payload.get("options") or {}
        bulk_id = (options.get("schedule") or {}).get("bulkId") or str(secrets.randbits(62))
        with_count = bool(options.get("includeSmsCountInResponse"))
        answers = [
            self._answer_one(message, dest, behaviour, bulk_id, with_count)
            for (message, dest), behaviour in zip(destinations, behaviours, strict=True)
        ]
        return {"bulkId": bulk_id, "messages": answers}

    def _answer_one(
        self,
        message: dict[str, Any],
        dest: dict[str, Any],
        behaviour: Behaviour,
        bulk_id: str,
        with_count: bool,
    ) -> dict[str, Any]:
        message_id = dest.get("messageId") or str(uuid.uuid4())
        status = self.rejections.get(_plus(dest["to"])) or _BEHAVIOUR_STATUS.get(
            behaviour, "PENDING_ACCEPTED"
        )
        if status == "PENDING_ACCEPTED":
            self.accept(_accepted(message, dest, message_id, bulk_id))
        answer = {
            "messageId": message_id,
            "status": status_object(status),
            "destination": dest["to"],
        }
        if with_count:
            answer["details"] = {"messageCount": segments(_text(message))}
        return answer

    def _error(self, status: int, violations: list[Violation] | None = None) -> JSONResponse:
        if self.legacy_errors:
            message_id, text = _LEGACY_ERRORS[status]
            exception: dict[str, Any] = {"messageId": message_id, "text": text}
            if violations:
                exception["validationErrors"] = {
                    v["property"]: [v["violation"]] for v in violations
                }
            return JSONResponse({"requestError": {"serviceException": exception}}, status)
        code, description, action = _API_ERRORS[status]
        body = {
            "errorCode": code,
            "description": description,
            "action": action,
            "violations": violations or [],
            "resources": [],
        }
        return JSONResponse(body, status)

    # --- callbacks -------------------------------------------------------------------------
    def status_callback(
        self,
        accepted: list[AcceptedMessage] | AcceptedMessage,
        status: str,
        *,
        url: str | None = None,
        error: str | dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        """One delivery-report request: ``status`` is a status name or a group name."""
        batch = [accepted] if isinstance(accepted, AcceptedMessage) else list(accepted)
        if not 1 <= len(batch) <= MAX_REPORTS_PER_REQUEST:
            raise ValueError("an Infobip report batch holds 1 to 100 results")
        target = url or batch[0].callback_url
        if target is None:
            raise ValueError("no callback URL: pass url= or send with webhooks.delivery.url")
        payload = {"results": [_report(message, status, error) for message in batch]}
        return target, _callback_headers(), _checked_json(REPORTS_SCHEMA, payload)

    def inbound_callback(
        self, url: str, sender: str, to: str, body: str
    ) -> tuple[str, dict[str, str], bytes]:
        """One MO request (renderer ``MO_JSON_2``) for ``body`` sent by ``sender`` to ``to``."""
        result = {
            "messageId": str(uuid.uuid4()),
            "from": sender.removeprefix("+"),
            "to": to.removeprefix("+"),
            "text": body,
            "cleanText": body,
            "receivedAt": infobip_time(datetime.now(UTC)),
            "smsCount": segments(body),
            "price": {"pricePerMessage": 0, "currency": "EUR"},
        }
        payload = {"results": [result], "messageCount": 1, "pendingMessageCount": 0}
        return url, _callback_headers(), _checked_json(INBOUND_SCHEMA, payload)

    async def post_status(
        self,
        accepted: list[AcceptedMessage] | AcceptedMessage,
        status: str,
        *,
        url: str | None = None,
        error: str | dict[str, Any] | None = None,
    ) -> httpx.Response:
        return await _post(*self.status_callback(accepted, status, url=url, error=error))

    async def post_inbound(self, url: str, sender: str, to: str, body: str) -> httpx.Response:
        return await _post(*self.inbound_callback(url, sender, to, body))


# --- request checks --------------------------------------------------------------------------
def _received(request: Request, body: bytes) -> ReceivedRequest:
    return ReceivedRequest(
        method=request.method,
        path=request.url.path,
        headers=dict(request.headers),
        body=body,
        query=dict(request.query_params),
    )


def _parse(body: bytes) -> tuple[dict[str, Any], list[Violation]]:
    try:
        payload = json.loads(body)
    except ValueError:
        return {}, [{"property": "", "violation": "request body is not valid JSON"}]
    violations = spec_violations(REQUEST_SCHEMA, payload)
    if violations is None:
        violations = _structure_violations(payload)
    if not violations:
        violations = _fake_rules(payload)
    return payload, violations


def spec_violations(schema: str, payload: Any) -> list[Violation] | None:
    """The spec's verdict on ``payload`` (None when the spec file is not available)."""
    validator = _validator(schema)
    if validator is None:
        return None
    return [
        {"property": _property(error.instance_path), "violation": error.message}
        for error in validator.iter_errors(payload)
    ]


def _structure_violations(payload: Any) -> list[Violation]:
    """Without the spec file: the shape the fake relies on (properties named as the spec's)."""
    if not isinstance(payload, dict) or "messages" not in payload:
        return [{"property": "", "violation": "messages is required"}]
    messages = payload["messages"]
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return [{"property": "messages", "violation": "must be an array of objects"}]
    found = []
    for i, message in enumerate(messages):
        dests = message.get("destinations")
        if not isinstance(dests, list) or not all(isinstance(d, dict) for d in dests):
            found.append({"property": f"messages[{i}].destinations", "violation": "required"})
        elif not all(isinstance(d.get("to"), str) for d in dests):
            found.append({"property": f"messages[{i}].destinations", "violation": "to required"})
        if not isinstance((message.get("content") or {}).get("text"), str):
            found.append({"property": f"messages[{i}].content", "violation": "text required"})
    return found


def _fake_rules(payload: dict[str, Any]) -> list[Violation]:
    """What Infobip enforces beyond the schema (and what the adapter must get right)."""
    if not payload["messages"]:
        return [{"property": "messages", "violation": "must not be empty"}]
    found = []
    for i, message in enumerate(payload["messages"]):
        if not message["destinations"]:
            found.append(
                {"property": f"messages[{i}].destinations", "violation": "must not be empty"}
            )
        for j, dest in enumerate(message["destinations"]):
            if not (dest["to"].isdigit() and 3 <= len(dest["to"]) <= 15):
                found.append(
                    {
                        "property": f"messages[{i}].destinations[{j}].to",
                        "violation": "must be a number in international format without '+'",
                    }
                )
    return found


def _invalid_destinations(payload: dict[str, Any]) -> list[Violation]:
    return [
        {
            "property": f"messages[{i}].destinations[{j}].to",
            "violation": "Invalid destination address.",
        }
        for i, message in enumerate(payload["messages"])
        for j, _ in enumerate(message["destinations"])
    ]


def _destinations(payload: dict[str, Any]) -> list[Destination]:
    return [(message, dest) for message in payload["messages"] for dest in message["destinations"]]


def _accepted(
    message: dict[str, Any], dest: dict[str, Any], message_id: str, bulk_id: str
) -> AcceptedMessage:
    webhooks = message.get("webhooks") or {}
    return AcceptedMessage(
        provider_message_id=message_id,
        to=_plus(dest["to"]),
        sender=str(message.get("sender", "")),
        body=_text(message),
        callback_url=(webhooks.get("delivery") or {}).get("url"),
        reference=webhooks.get("callbackData"),
        extra={
            "bulkId": bulk_id,
            "sentAt": infobip_time(datetime.now(UTC)),
            "messageCount": segments(_text(message)),
            "options": message.get("options") or {},
        },
    )


# --- callback building ------------------------------------------------------------------------
def _report(
    message: AcceptedMessage, status: str, error: str | dict[str, Any] | None
) -> dict[str, Any]:
    name = GROUP_STATUS.get(status, status)
    if name not in STATUSES:
        raise ValueError(f"unknown Infobip status {status!r}")
    result: dict[str, Any] = {
        "bulkId": message.extra.get("bulkId", str(secrets.randbits(62))),
        "price": {"pricePerMessage": 0.01, "currency": "EUR"},
        "status": status_object(name),
        "error": _error_object(error, STATUSES[name][1]),
        "messageId": message.provider_message_id,
        "to": message.to.removeprefix("+"),
        "sender": message.sender,
        "sentAt": message.extra.get("sentAt", infobip_time(datetime.now(UTC))),
        "doneAt": infobip_time(datetime.now(UTC)),
        "messageCount": message.extra.get("messageCount", 1),
        "mccMnc": "22801",
    }
    if message.reference is not None:
        result["callbackData"] = message.reference
    return result


def status_object(name: str) -> dict[str, Any]:
    group_id, group_name, status_id, description = STATUSES[name]
    return {
        "groupId": group_id,
        "groupName": group_name,
        "id": status_id,
        "name": name,
        "description": description,
    }


def _error_object(error: str | dict[str, Any] | None, group: str) -> dict[str, Any]:
    if isinstance(error, dict):
        return error
    name = error or GROUP_ERROR.get(group, "NO_ERROR")
    group_id, group_name, error_id, description, permanent = ERRORS[name]
    return {
        "groupId": group_id,
        "groupName": group_name,
        "id": error_id,
        "name": name,
        "description": description,
        "permanent": permanent,
    }


def _callback_headers() -> dict[str, str]:
    return {"content-type": "application/json", "user-agent": "Infobip-fake/1.0"}


def _checked_json(schema: str, payload: dict[str, Any]) -> bytes:
    violations = spec_violations(schema, payload)
    if violations:
        raise ValueError(f"the fake built a callback the spec refuses: {violations}")
    return json.dumps(payload).encode()


async def _post(url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, content=body, headers=headers)


# --- small helpers ----------------------------------------------------------------------------
def infobip_time(moment: datetime) -> str:
    """``yyyy-MM-dd'T'HH:mm:ss.SSSZ``: ``2019-11-09T16:00:00.000+0000``."""
    millis = f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + millis + moment.strftime("%z")


def segments(text: str) -> int:
    gsm = all(ord(char) < 128 for char in text)
    single, part = (160, 153) if gsm else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / part)


def _text(message: dict[str, Any]) -> str:
    return str((message.get("content") or {}).get("text", ""))


def _plus(number: str) -> str:
    return number if number.startswith("+") else "+" + number


def _property(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def spec_path() -> Path:
    return Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)


@cache
def _spec_components() -> dict[str, Any] | None:
    path = spec_path()
    if not path.is_file():
        return None
    components: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["components"]
    return components


@cache
def _validator(schema: str) -> jsonschema_rs.Validator | None:
    components = _spec_components()
    if components is None:
        return None
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
        "$ref": f"#/components/schemas/{schema}",
    }
    return jsonschema_rs.validator_for(root)


# --- standalone -------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    """Serve in the main thread (uvloop where installed) until SIGINT / SIGTERM."""
    parser = argparse.ArgumentParser(description="Serve a fake Infobip SMS API v3 on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    fake = FakeInfobip(api_key=args.api_key, hang_seconds=args.hang_seconds)
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets created with it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    fake.port = sock.getsockname()[1]
    print(f"fake infobip listening on {fake.url}", flush=True)
    config = uvicorn.Config(fake.build_app(), log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
