"""A fake of ClickSend's REST v3 send endpoints (``/v3/sms/send``, ``/v3/mms/send``) and pushes.

What it does, as ClickSend does (shapes from ``shared/provider-specs/clicksend`` and the
live observations in ``shared/research/providers.md`` §4):

- HTTP Basic ``username:api_key`` or 401 ``{"http_code": 401, "response_code":
  "UNAUTHORIZED", "response_msg": "Authorization failed.", "data": null}`` (no
  ``WWW-Authenticate``). ClickSend's public test accounts answer as documented: ``nocredit``
  (every message ``INSUFFICIENT_CREDIT``), ``notactive`` (401), ``banned`` (403 ``FORBIDDEN``),
  all with the key ``TEST_API_KEY``;
- the JSON body is checked against the field tables below (types, required fields, and no
  unknown fields: stricter than ClickSend, to catch typos) and, for SMS, against the spec's
  ``send_sms_request`` (loaded from ``$LYNSMS_CLICKSEND_SPEC`` or the shared spec file;
  ``spec_loaded`` says whether it was found). Violations answer 400 ``BAD_REQUEST``. The MMS
  fields come from ClickSend's SDK model (``media_file`` on top, ``subject`` <= 20 characters);
- a 200 envelope ``{http_code, response_code: "SUCCESS", response_msg, data: {total_price,
  total_count, queued_count, messages, _currency, blocked_count}}`` with a ``status`` per
  message, chosen by the ``Behaviour`` of its ``to``:

  ============ ===================================================================
  OK           ``SUCCESS``, recorded in ``accepted`` (``reference`` = ``custom_string``)
  HANG         sleeps ``hang_seconds``, then answers as OK
  SERVER_ERROR the whole request: 500 ``INTERNAL_SERVER_ERROR`` envelope
               (``server_error_status=503``: an HTML gateway page instead)
  THROTTLE     the whole request: 429 ``HTTP_TOO_MANY_REQUESTS`` with ``Retry-After``
  PERMANENT    ``INVALID_RECIPIENT`` inside the 200 (as ClickSend answers a bad number)
  BLACKLISTED  ``BLOCKED`` inside the 200, counted in ``blocked_count`` (ClickSend
               documents no opt-out code: this name is the fake's choice)
  PARTIAL      ``INVALID_RECIPIENT`` for this message, the others as their own behaviour
  ============ ===================================================================

  A ``to`` that is not E.164 is ``INVALID_RECIPIENT`` and an empty body ``EMPTY_MESSAGE``,
  whatever the behaviour. Refused messages have the minimal shape ClickSend gives them.
- unknown paths and wrong methods: 404 ``NOT_FOUND`` "Invalid endpoint. Please try again.".

Callbacks: ``status_callback`` builds the form-encoded receipt ClickSend's Delivery Report
rule pushes and ``inbound_callback`` the inbound-SMS push (form, or JSON with
``webhook_type="json"``), each as ``(url, headers, body)``; ``post_status`` /
``post_inbound`` send them.

Standalone, for the benchmark harness:
``python -m tests.fakes.clicksend --port N --username X --api-key Y``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import json
import math
import os
import re
import signal
import threading
import time
import uuid
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jsonschema_rs
import yaml  # type: ignore[import-untyped]
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.fakes.base import (
    AcceptedMessage,
    Behaviour,
    FakeProvider,
    ReceivedRequest,
    shared_file,
)

SPEC_ENV = "LYNSMS_CLICKSEND_SPEC"
DEFAULT_SPEC = str(shared_file("provider-specs/clicksend/openapi.yaml"))
TEST_API_KEY = "D83DED51-9E35-4D42-9BB9-0E34B7CA85AE"  # ClickSend's published test accounts
SUSPENDED = "Your account is suspended. Please contact support for more information."
RETRY_AFTER_SECONDS = 20
USER_ID, SUBACCOUNT_ID = 123456, 123456
SHARED_NUMBER = "+61411111112"  # the sender when a message names none
MAX_MESSAGES = 1000
MMS_SUBJECT_MAX = 20
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Request fields (name -> JSON type) per endpoint; from the spec (SMS) and the SDK (MMS).
SMS_MESSAGE_FIELDS: dict[str, type] = {
    "body": str,
    "to": str,
    "from": str,
    "source": str,
    "schedule": int,
    "custom_string": str,
    "list_id": str,
    "contact_id": int,
    "country": str,
    "from_email": str,
    "exclude_no_sender_id_recipients": bool,
}
MMS_MESSAGE_FIELDS: dict[str, type] = {
    "to": str,
    "body": str,
    "subject": str,
    "from": str,
    "country": str,
    "source": str,
    "list_id": int,
    "schedule": int,
    "custom_string": str,
    "from_email": str,
}
JSON_TYPES = {str: "string", int: "integer", bool: "boolean", list: "array", dict: "object"}
MESSAGE_FIELDS = {"sms": SMS_MESSAGE_FIELDS, "mms": MMS_MESSAGE_FIELDS}
MESSAGE_REQUIRED = {"sms": ("body",), "mms": ("to", "body", "subject")}
REQUEST_FIELDS: dict[str, dict[str, type]] = {
    "sms": {"messages": list, "senders": list, "shorten_urls": bool},
    "mms": {"media_file": str, "messages": list},
}
REQUEST_REQUIRED = {"sms": ("messages",), "mms": ("media_file", "messages")}
PRICES = {"sms": 0.0792, "mms": 0.3960}  # per part / per message
STATUS_BY_BEHAVIOUR = {
    Behaviour.PERMANENT: "INVALID_RECIPIENT",
    Behaviour.PARTIAL: "INVALID_RECIPIENT",
    Behaviour.BLACKLISTED: "BLOCKED",
}
BLOCKED_STATUSES = frozenset({"BLOCKED", "COUNTRY_NOT_ENABLED"})
CURRENCY = {
    "currency_name_short": "AUD",
    "currency_prefix_d": "$",
    "currency_prefix_c": "c",
    "currency_name_long": "Australian Dollars",
    "min_recharge_amount": "20.00",
    "max_recharge_amount": "10000.00",
}
COUNTRIES = {"+1": "US", "+61": "AU", "+44": "GB", "+64": "NZ", "+86": "CN"}
# Receipt per our lifecycle word: (status, status_code, status_text, default error_code).
RECEIPTS: dict[str, tuple[str, str, str, str]] = {
    "sent": ("Sent", "200", "Message sent to the network for delivery", ""),
    "delivered": ("Sent", "201", "Success: Message received on handset.", ""),
    "undelivered": ("Failed", "301", "Failed: Message not delivered", "8"),
    "failed": ("Cancelled", "301", "Message is cancelled", "5"),
}
GATEWAY_ERRORS = {  # help.clicksend.com "List of SMS gateway error codes"
    "5": "Message is cancelled",
    "7": "Unknown failure",
    "8": "Unknown subscriber. Number is inactive or invalid",
    "12": "Absent Subscriber. Phone is out of range or switched off.",
    "16": "Temporary network error - will be retried",
    "19": "Anti-spam rejection by recipient network",
    "20": "Message delivery receipt expired",
}
FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded"}


class FakeClickSend(FakeProvider):
    """ClickSend's send API on 127.0.0.1, with its receipt and inbound pushes."""

    name = "clicksend"

    def __init__(
        self,
        *,
        username: str = "fake-user",
        api_key: str = "fake-api-key",
        hang_seconds: float = 5.0,
        server_error_status: int = 500,
        receipt_url: str | None = None,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.username = username
        self.api_key = api_key
        self.server_error_status = server_error_status
        self.receipt_url = receipt_url  # the account's Delivery Report rule URL

    @property
    def spec_loaded(self) -> bool:
        return _validator() is not None

    def build_app(self) -> Starlette:
        routes = [
            Route("/v3/sms/send", self._send_sms, methods=["POST"]),
            Route("/v3/mms/send", self._send_mms, methods=["POST"]),
        ]
        handlers = {404: self._not_found, 405: self._not_found}
        return Starlette(routes=routes, exception_handlers=handlers)

    # --- the API -------------------------------------------------------------------------
    async def _send_sms(self, request: Request) -> Response:
        return await self._send(request, "sms")

    async def _send_mms(self, request: Request) -> Response:
        return await self._send(request, "mms")

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        self.record(_received(request, await request.body()))
        return envelope_response(404, "NOT_FOUND", "Invalid endpoint. Please try again.")

    async def _send(self, request: Request, kind: str) -> Response:
        body = await request.body()
        self.record(_received(request, body))
        account = self._account(request.headers.get("authorization"))
        if account is None:
            return envelope_response(401, "UNAUTHORIZED", "Authorization failed.")
        if account == "banned":
            return envelope_response(403, "FORBIDDEN", SUSPENDED)
        payload, problems = parse_request(body, kind)
        if problems:
            return envelope_response(400, "BAD_REQUEST", "; ".join(problems))
        return await self._answer(payload, kind, account)

    def _account(self, header: str | None) -> str | None:
        """``main`` for our credentials, a test account's name, or None (401)."""
        user, key = _basic_credentials(header or "")
        if _same(user, self.username) and _same(key, self.api_key):
            return "main"
        if _same(key, TEST_API_KEY) and user in ("nocredit", "banned"):
            return user
        return None

    async def _answer(self, payload: dict[str, Any], kind: str, account: str) -> Response:
        messages: list[dict[str, Any]] = payload["messages"]
        behaviours = [self.behaviour_for(str(message.get("to", ""))) for message in messages]
        if Behaviour.HANG in behaviours:
            await self.hang()
        failure = self._request_failure(behaviours)
        if failure is not None:
            return failure
        answers = [
            self._answer_one(message, behaviour, payload, kind, account)
            for message, behaviour in zip(messages, behaviours, strict=True)
        ]
        return JSONResponse(queued_envelope(answers))

    def _request_failure(self, behaviours: list[Behaviour]) -> Response | None:
        if Behaviour.SERVER_ERROR in behaviours:
            if self.server_error_status == 500:
                return envelope_response(500, "INTERNAL_SERVER_ERROR", "Internal server error.")
            status = HTTPStatus(self.server_error_status)
            page = f"<html><body><h1>{status.value} {status.phrase}</h1></body></html>"
            return HTMLResponse(page, status_code=status.value)
        if Behaviour.THROTTLE in behaviours:
            response = envelope_response(429, "HTTP_TOO_MANY_REQUESTS", "Too many attempts.")
            response.headers.update(_throttle_headers())
            return response
        return None

    def _answer_one(
        self,
        message: dict[str, Any],
        behaviour: Behaviour,
        payload: dict[str, Any],
        kind: str,
        account: str,
    ) -> dict[str, Any]:
        message_id = str(uuid.uuid4()).upper()
        status = message_status(message, behaviour, payload, account)
        if status != "SUCCESS":
            return refused_message(message, message_id, status)
        answer = queued_message(message, message_id, kind)
        self.accept(_accepted(answer, message, payload, kind, self.receipt_url))
        return answer

    # --- callbacks -----------------------------------------------------------------------
    def status_callback(
        self,
        accepted: AcceptedMessage,
        status: str,
        *,
        url: str | None = None,
        error_code: str | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        """The form-encoded receipt push; ``status``: sent, delivered, undelivered or failed."""
        target = url or self.receipt_url or accepted.callback_url
        if not target:
            raise ValueError("no receipt URL: pass url= or set receipt_url")
        fields = receipt_fields(accepted, status, error_code)
        return target, dict(FORM_HEADERS), urlencode(fields).encode()

    def inbound_callback(
        self, url: str, sender: str, to: str, body: str, *, webhook_type: str = "post"
    ) -> tuple[str, dict[str, str], bytes]:
        """The inbound-SMS push (``webhook_type`` ``post``: form fields, ``json``: JSON)."""
        fields = inbound_fields(sender, to, body, self._original(sender, to))
        if webhook_type == "json":
            return url, {"content-type": "application/json"}, json.dumps(fields).encode()
        strings = {key: str(value) for key, value in fields.items()}
        return url, dict(FORM_HEADERS), urlencode(strings).encode()

    async def post_status(
        self,
        accepted: AcceptedMessage,
        status: str,
        *,
        url: str | None = None,
        error_code: str | None = None,
    ) -> httpx.Response:
        return await _post(*self.status_callback(accepted, status, url=url, error_code=error_code))

    async def post_inbound(
        self, url: str, sender: str, to: str, body: str, *, webhook_type: str = "post"
    ) -> httpx.Response:
        return await _post(*self.inbound_callback(url, sender, to, body, webhook_type=webhook_type))

    def _original(self, sender: str, to: str) -> AcceptedMessage | None:
        """The last message we accepted to ``sender`` (the reply's original), if any."""
        for message in reversed(self.accepted):
            if message.to == sender and message.sender in (to, SHARED_NUMBER):
                return message
        return None


# --- requests -------------------------------------------------------------------------------
def parse_request(body: bytes, kind: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON body and what is wrong with it (empty when it is valid)."""
    try:
        payload = json.loads(body)
    except ValueError:
        return {}, ["the body is not JSON"]
    if not isinstance(payload, dict):
        return {}, ["the body must be a JSON object"]
    problems = _fields_problems("", payload, REQUEST_FIELDS[kind], REQUEST_REQUIRED[kind])
    if not problems:
        problems = _messages_problems(payload["messages"], kind)
    if not problems and kind == "sms":
        problems = spec_problems(payload)
    return payload, problems


def _messages_problems(messages: list[Any], kind: str) -> list[str]:
    if not 1 <= len(messages) <= MAX_MESSAGES:
        return [f"messages must hold 1 to {MAX_MESSAGES} messages"]
    problems: list[str] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]."
        if not isinstance(message, dict):
            problems.append(f"messages[{index}] must be an object")
            continue
        problems += _fields_problems(where, message, MESSAGE_FIELDS[kind], MESSAGE_REQUIRED[kind])
        if len(str(message.get("subject", ""))) > MMS_SUBJECT_MAX:
            problems.append(f"{where}subject is longer than {MMS_SUBJECT_MAX} characters")
    return problems


def _fields_problems(
    where: str, value: dict[str, Any], fields: dict[str, type], required: tuple[str, ...]
) -> list[str]:
    problems = [f"{where}{name} is required" for name in required if name not in value]
    for name, item in value.items():
        if name not in fields:
            problems.append(f"{where}{name} is not a ClickSend field")
        elif not _is_type(item, fields[name]):
            problems.append(f"{where}{name} must be {JSON_TYPES[fields[name]]}")
    return problems


def _is_type(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def spec_problems(payload: dict[str, Any]) -> list[str]:
    """Violations of the spec's ``send_sms_request`` (none when the spec is absent)."""
    validator = _validator()
    if validator is None:
        return []
    return [
        f"{_path(error.instance_path)}: {error.message}" for error in validator.iter_errors(payload)
    ]


def message_status(
    message: dict[str, Any], behaviour: Behaviour, payload: dict[str, Any], account: str
) -> str:
    """ClickSend's application status for one message of a valid request."""
    if account == "nocredit":
        return "INSUFFICIENT_CREDIT"
    if not E164.match(str(message.get("to", ""))):
        return "INVALID_RECIPIENT"
    if not str(message["body"]).strip():
        return "EMPTY_MESSAGE"
    if "media_file" in payload and not str(payload["media_file"]).startswith("http"):
        return "INVALID_MEDIA_FILE"
    return STATUS_BY_BEHAVIOUR.get(behaviour, "SUCCESS")


# --- replies --------------------------------------------------------------------------------
def envelope_response(http_code: int, response_code: str, response_msg: str) -> JSONResponse:
    envelope = {
        "http_code": http_code,
        "response_code": response_code,
        "response_msg": response_msg,
        "data": None,
    }
    return JSONResponse(envelope, status_code=http_code)


def queued_envelope(messages: list[dict[str, Any]]) -> dict[str, Any]:
    queued = [message for message in messages if message["status"] == "SUCCESS"]
    data = {
        "total_price": round(sum(float(message["message_price"]) for message in queued), 4),
        "total_count": len(messages),
        "queued_count": len(queued),
        "messages": messages,
        "_currency": CURRENCY,
        "blocked_count": sum(message["status"] in BLOCKED_STATUSES for message in messages),
    }
    return {
        "http_code": 200,
        "response_code": "SUCCESS",
        "response_msg": "Messages queued for delivery.",
        "data": data,
    }


def queued_message(message: dict[str, Any], message_id: str, kind: str) -> dict[str, Any]:
    now, to, body = int(time.time()), str(message["to"]), str(message["body"])
    parts = 1 if kind == "mms" else segments(body)
    answer: dict[str, Any] = {
        "direction": "out",
        "date": now,
        "to": to,
        "body": body,
        "from": message.get("from") or SHARED_NUMBER,
        "schedule": message.get("schedule") or now,
        "message_id": message_id,
        "message_parts": parts,
        "message_price": f"{PRICES[kind] * parts:.4f}",
        "from_email": message.get("from_email"),
        "list_id": None,
        "custom_string": message.get("custom_string", ""),
        "contact_id": None,
        "user_id": USER_ID,
        "subaccount_id": SUBACCOUNT_ID,
        "is_shared_system_number": "from" not in message,
        "country": country_of(to),
        "carrier": "Telstra",
        "status": "SUCCESS",
    }
    if kind == "mms":
        answer["subject"] = message["subject"]
    return answer


def refused_message(message: dict[str, Any], message_id: str, status: str) -> dict[str, Any]:
    """The minimal shape ClickSend gives a refused message (no price, parts or date)."""
    return {
        "to": message.get("to", ""),
        "body": message.get("body", ""),
        "from": message.get("from") or SHARED_NUMBER,
        "schedule": "",
        "message_id": message_id,
        "custom_string": message.get("custom_string", ""),
        "is_shared_system_number": "from" not in message,
        "status": status,
    }


def _accepted(
    answer: dict[str, Any],
    message: dict[str, Any],
    payload: dict[str, Any],
    kind: str,
    receipt_url: str | None,
) -> AcceptedMessage:
    extra = {"kind": kind, "date": answer["date"], "source": message.get("source")}
    if kind == "mms":
        extra.update(media_file=payload["media_file"], subject=message["subject"])
    return AcceptedMessage(
        provider_message_id=answer["message_id"],
        to=answer["to"],
        sender=answer["from"],
        body=answer["body"],
        callback_url=receipt_url,
        reference=message.get("custom_string"),
        extra=extra,
    )


def _throttle_headers() -> dict[str, str]:
    seconds = str(RETRY_AFTER_SECONDS)
    return {
        "retry-after": seconds,
        "x-ratelimit-limit": "6000",
        "x-ratelimit-remaining": "0",
        "ratelimit-reset": seconds,
    }


# --- pushes ---------------------------------------------------------------------------------
def receipt_fields(
    accepted: AcceptedMessage, status: str, error_code: str | None = None
) -> dict[str, str]:
    """The fields of a delivery receipt push, legacy duplicates (``messageid``) included."""
    if status not in RECEIPTS:
        raise ValueError(f"status must be one of {sorted(RECEIPTS)}, not {status!r}")
    word, code, text, default_error = RECEIPTS[status]
    error = error_code if error_code is not None else default_error
    reference = accepted.reference or ""
    return {
        "timestamp_send": str(accepted.extra.get("date", int(time.time()))),
        "timestamp": str(int(time.time())),
        "message_id": accepted.provider_message_id,
        "messageid": accepted.provider_message_id,
        "status": word,
        "status_code": code,
        "status_text": text,
        "error_code": error,
        "error_text": GATEWAY_ERRORS.get(error, "Unknown failure") if error else "",
        "custom_string": reference,
        "customstring": reference,
        "user_id": str(USER_ID),
        "subaccount_id": str(SUBACCOUNT_ID),
        "message_type": str(accepted.extra.get("kind", "sms")),
    }


def inbound_fields(
    sender: str, to: str, body: str, original: AcceptedMessage | None
) -> dict[str, Any]:
    """The fields of an inbound SMS push (JSON types; a form push sends them as strings)."""
    message_id = str(uuid.uuid4()).upper()
    words = body.split()
    return {
        "timestamp": int(time.time()),
        "from": sender,
        "to": to,
        "body": body,
        "message": body,
        "message_id": message_id,
        "messageid": message_id,
        "original_message_id": original.provider_message_id if original else "",
        "original_body": original.body if original else "",
        "custom_string": (original.reference or "") if original else "",
        "user_id": USER_ID,
        "_keyword": words[0].lower() if words else "",
    }


async def _post(url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, headers=headers, content=body)


# --- helpers --------------------------------------------------------------------------------
def _received(request: Request, body: bytes) -> ReceivedRequest:
    return ReceivedRequest(
        method=request.method,
        path=request.url.path,
        headers={key.lower(): value for key, value in request.headers.items()},
        body=body,
        query=dict(request.query_params),
    )


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, key = decoded.partition(":")
    return user, key


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def segments(text: str) -> int:
    """SMS parts, GSM-7 sizes only (160, then 153 per part): enough for prices."""
    return 1 if len(text) <= 160 else math.ceil(len(text) / 153)


def country_of(number: str) -> str:
    for prefix in sorted(COUNTRIES, key=len, reverse=True):
        if number.startswith(prefix):
            return COUNTRIES[prefix]
    return ""


def _path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "body"


@cache
def spec_schemas() -> dict[str, Any] | None:
    """``components.schemas`` of the ClickSend spec, or None when the file is absent."""
    path = Path(os.environ.get(SPEC_ENV) or DEFAULT_SPEC)
    if not path.is_file():
        return None
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML reads some examples as dates: a JSON round trip leaves only JSON types.
    schemas: dict[str, Any] = json.loads(json.dumps(spec["components"]["schemas"], default=str))
    return schemas


@cache
def _validator() -> jsonschema_rs.Validator | None:
    schemas = spec_schemas()
    if schemas is None:
        return None
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": {"schemas": schemas},
        "$ref": "#/components/schemas/send_sms_request",
    }
    return jsonschema_rs.validator_for(root)


# --- standalone -------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake ClickSend REST v3 on 127.0.0.1.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    parser.add_argument("--server-error-status", type=int, default=500)
    parser.add_argument("--receipt-url", default=None)
    parser.add_argument(
        "--behave", action="append", default=[], metavar="NUMBER=BEHAVIOUR", help="repeatable"
    )
    args = parser.parse_args(argv)
    fake = FakeClickSend(
        username=args.username,
        api_key=args.api_key,
        hang_seconds=args.hang_seconds,
        server_error_status=args.server_error_status,
        receipt_url=args.receipt_url,
    )
    for rule in args.behave:
        number, _, behaviour = rule.partition("=")
        fake.behave(number, Behaviour(behaviour))
    _serve(fake, args.port)


def _serve(fake: FakeClickSend, port: int) -> None:
    fake.start(port)
    print(f"fake clicksend listening on {fake.url}", flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    fake.stop()


if __name__ == "__main__":
    main()
