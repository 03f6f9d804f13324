"""FakeSinch: Sinch's SMS REST API ("XMS" v1) batch endpoint on loopback, plus its callbacks.

Serves ``POST /xms/v1/{service_plan_id}/batches`` the way Sinch does (bearer
token per service plan, JSON validated against the API's rules, ``201`` with
the batch object, ``{"code", "text"}`` bodies for 400/403) and builds the
delivery-report and inbound callbacks Sinch POSTs, HMAC-signed when the fake
has a secret. Written from Sinch's documentation, independently of the
adapter, so the two check each other.

Behaviour per destination number (``fake.behave(number, Behaviour.X)``):

- ``SERVER_ERROR``: ``server_error_status`` (503 by default, or 500), no JSON body.
- ``THROTTLE``: 429 ("too many outstanding requests"), no JSON body.
- ``PERMANENT`` and ``PARTIAL``: 400 ``syntax_invalid_parameter_format`` for that
  ``to[i]``; Sinch rejects a batch as a whole, so there is no partial success.
- ``BLACKLISTED``: Sinch has no send-time error for opted-out or blocked
  recipients: the batch is accepted (201) and the recipient's final delivery
  report is ``Deleted`` (Sinch: "deleted by a remote SMSC … invalid MSISDN or
  opted out subscriber"); ``fake.final_status(accepted)`` says which.
- ``HANG``: sleeps ``hang_seconds``, then answers as for ``OK``.

Run standalone for the benchmark harness (serves until killed)::

    python -m tests.fakes.sinch --port 9102 --service-plan-id plan --api-token token \
        [--hmac-secret S] [--hang-seconds 5] [--behave +12025550143=server_error ...]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import re
import secrets
import signal
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.base import AcceptedMessage, Behaviour, FakeProvider, ReceivedRequest

MAX_RECIPIENTS = 1000
MAX_TEXT_BODY = 2000
MAX_CALLBACK_URL = 2048
MAX_CLIENT_REFERENCE = 128  # the saved 2021 spec; current docs may allow more
DEFAULT_EXPIRY = timedelta(days=3)

TYPES = {"mt_text", "mt_binary", "mt_media"}
DELIVERY_REPORTS = {"none", "summary", "full", "per_recipient", "per_recipient_final"}
KNOWN_FIELDS = {
    "to", "from", "body", "type", "udh", "delivery_report", "send_at", "expire_at",
    "callback_url", "client_reference", "flash_message", "max_number_of_message_parts",
    "truncate_concat", "parameters", "feedback_enabled", "from_ton", "from_npi",
    "strict_validation",
}  # fmt: skip

# Delivery-report ``code`` Sinch pairs with a status when no operator code applies.
DEFAULT_CODES = {"Queued": 400, "Dispatched": 401, "Delivered": 0, "Aborted": 402, "Cancelled": 407}

_IGNORED_IN_MSISDN = re.compile(r"[\s\-()]")  # Sinch ignores spaces, dashes and brackets
_GROUP_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")  # ULID, Sinch's id format
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SinchApiError(Exception):
    """An answer other than 201: the status and, for 400/403, Sinch's ``code`` and ``text``."""

    def __init__(self, status: int, code: str | None = None, text: str = "") -> None:
        super().__init__(text)
        self.status, self.code, self.text = status, code, text

    def response(self) -> Response:
        if self.code is None:
            return PlainTextResponse(self.text, status_code=self.status)
        return JSONResponse({"code": self.code, "text": self.text}, status_code=self.status)


def _invalid(code: str, text: str, status: int = 400) -> SinchApiError:
    return SinchApiError(status, code, text)


def sinch_time(moment: datetime) -> str:
    """UTC, ISO-8601 with milliseconds: ``2024-05-01T12:00:00.123Z``."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def new_id() -> str:
    """A ULID such as ``01FC66621VHDBN119Z8PMV1QPQ`` (48-bit milliseconds, 80 random bits)."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def msisdn_digits(raw: str) -> str | None:
    """Sinch's MSISDN rule: optional ``+`` or ``00``, 7 to 18 digits, separators ignored."""
    value = _IGNORED_IN_MSISDN.sub("", raw)
    value = value[1:] if value.startswith("+") else value[2:] if value.startswith("00") else value
    return value if value.isascii() and value.isdigit() and 7 <= len(value) <= 18 else None


class FakeSinch(FakeProvider):
    name = "sinch"

    def __init__(
        self,
        *,
        service_plan_id: str = "fake-plan",
        api_token: str = "fake-token",
        hmac_secret: str | None = None,
        hang_seconds: float = 5.0,
        server_error_status: int = 503,
        default_callback_url: str | None = None,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.service_plan_id = service_plan_id
        self.api_token = api_token
        self.hmac_secret = hmac_secret
        self.server_error_status = server_error_status
        self.default_callback_url = default_callback_url  # the plan's dashboard default

    def build_app(self) -> Starlette:
        route = Route("/xms/v1/{service_plan_id}/batches", self._batches, methods=["POST"])
        return Starlette(routes=[route])

    def __enter__(self) -> FakeSinch:
        self.start()
        return self

    # --- the batches endpoint ------------------------------------------------------------
    async def _batches(self, request: Request) -> Response:
        body = await request.body()
        self.record(_received(request, body))
        try:
            return await self._create_batch(request, body)
        except SinchApiError as error:
            return error.response()

    async def _create_batch(self, request: Request, body: bytes) -> Response:
        self._authorise(request)
        if not request.headers.get("content-type", "").startswith("application/json"):
            raise SinchApiError(415, text="Unsupported Media Type")
        batch = _validate(_parse_json(body))
        if batch.get("delivery_report", "none") != "none":
            self._require_callback_url(batch)
        recipients = [msisdn_digits(to) or to for to in batch["to"]]
        behaviour = await self._apply_behaviour(recipients)
        return JSONResponse(self._accept(batch, recipients, behaviour), status_code=201)

    def _authorise(self, request: Request) -> None:
        given = request.headers.get("authorization", "").encode()
        token_ok = hmac.compare_digest(given, f"Bearer {self.api_token}".encode())
        if not token_ok or request.path_params["service_plan_id"] != self.service_plan_id:
            raise SinchApiError(401, text="Unauthorized")

    def _require_callback_url(self, batch: dict[str, Any]) -> None:
        if not batch.get("callback_url") and not self.default_callback_url:
            text = "Requesting delivery report without any callback URL."
            raise _invalid("missing_callback_url", text, status=403)

    async def _apply_behaviour(self, recipients: list[str]) -> Behaviour:
        behaviours = [self.behaviour_for(number) for number in recipients]
        index, behaviour = next(
            ((i, b) for i, b in enumerate(behaviours) if b is not Behaviour.OK), (0, Behaviour.OK)
        )
        if behaviour is Behaviour.SERVER_ERROR:
            raise SinchApiError(self.server_error_status, text="Service Unavailable")
        if behaviour is Behaviour.THROTTLE:
            raise SinchApiError(429, text="Too Many Requests")
        if behaviour in (Behaviour.PERMANENT, Behaviour.PARTIAL):
            raise _bad_msisdn(index, recipients[index])
        if behaviour is Behaviour.HANG:
            await self.hang()
        return behaviour

    def _accept(
        self, batch: dict[str, Any], recipients: list[str], how: Behaviour
    ) -> dict[str, Any]:
        created = datetime.now(UTC)
        reply = _batch_object(new_id(), batch, recipients, created)
        for number in recipients:
            self.accept(_accepted(reply, batch, number, how))
        return reply

    # --- callbacks, as Sinch sends them --------------------------------------------------
    def final_status(self, accepted: AcceptedMessage) -> str:
        """The final report status Sinch would send for this message under its behaviour."""
        blacklisted = accepted.extra.get("behaviour") == Behaviour.BLACKLISTED.value
        return "Deleted" if blacklisted else "Delivered"

    def status_callback(
        self,
        accepted: AcceptedMessage,
        status: str,
        *,
        code: int | None = None,
        url: str | None = None,
    ) -> tuple[str, dict[str, str], bytes]:
        """A ``recipient_delivery_report_sms`` (what ``per_recipient`` batches get)."""
        now = sinch_time(datetime.now(UTC))
        payload: dict[str, Any] = {
            "type": "recipient_delivery_report_sms",
            "batch_id": accepted.provider_message_id,
            "recipient": accepted.to.lstrip("+"),
            "code": DEFAULT_CODES.get(status, 0) if code is None else code,
            "status": status,
            "at": now,
        }
        if status not in ("Queued", "Dispatched"):
            payload["operator_status_at"] = now
        return self._callback(self._callback_url(accepted, url), _with_reference(payload, accepted))

    def batch_status_callback(
        self,
        accepted: AcceptedMessage,
        status: str,
        *,
        code: int | None = None,
        url: str | None = None,
        full: bool = True,
    ) -> tuple[str, dict[str, str], bytes]:
        """A ``delivery_report_sms`` (``full`` lists recipients, ``summary`` only counts)."""
        entry: dict[str, Any] = {
            "code": DEFAULT_CODES.get(status, 0) if code is None else code,
            "status": status,
            "count": 1,
        }
        if full:
            entry["recipients"] = [accepted.to.lstrip("+")]
        payload = {
            "type": "delivery_report_sms",
            "batch_id": accepted.provider_message_id,
            "total_message_count": 1,
            "statuses": [entry],
        }
        return self._callback(self._callback_url(accepted, url), _with_reference(payload, accepted))

    def inbound_callback(
        self, url: str, sender: str, to: str, body: str
    ) -> tuple[str, dict[str, str], bytes]:
        """An ``mo_text``: numbers without ``+``, a short code as given."""
        payload = {
            "type": "mo_text",
            "id": new_id(),
            "from": msisdn_digits(sender) or sender,
            "to": msisdn_digits(to) or to,
            "body": body,
            "received_at": sinch_time(datetime.now(UTC)),
        }
        return self._callback(url, payload)

    async def post_status(
        self,
        accepted: AcceptedMessage,
        status: str,
        *,
        code: int | None = None,
        url: str | None = None,
    ) -> httpx.Response:
        return await _post(*self.status_callback(accepted, status, code=code, url=url))

    async def post_inbound(self, url: str, sender: str, to: str, body: str) -> httpx.Response:
        return await _post(*self.inbound_callback(url, sender, to, body))

    def _callback_url(self, accepted: AcceptedMessage, url: str | None) -> str:
        target = url or accepted.callback_url or self.default_callback_url
        if not target:
            raise ValueError("no callback URL: pass url= or send with a callback_url")
        return target

    def _callback(self, url: str, payload: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
        body = json.dumps(payload).encode()
        headers = {"content-type": "application/json"}
        if self.hmac_secret:
            headers.update(signature_headers(self.hmac_secret, body))
        return url, headers, body


# --- request validation (Sinch's rules) --------------------------------------------------
def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise _invalid("syntax_invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _invalid("syntax_invalid_json", "The request body must be a JSON object.")
    unknown = sorted(set(data) - KNOWN_FIELDS)
    if unknown:
        raise _invalid("syntax_invalid_json", f"Unrecognized field '{unknown[0]}'.")
    return data


def _validate(batch: dict[str, Any]) -> dict[str, Any]:
    _check_recipients(batch.get("to"))
    _check_sender(batch.get("from"))
    _check_body(batch.get("type", "mt_text"), batch.get("body"), batch.get("udh"))
    _check_options(batch)
    _check_times(batch.get("send_at"), batch.get("expire_at"))
    return batch


def _check_recipients(to: Any) -> None:
    if to is None:
        raise _invalid("syntax_constraint_violation", "Missing required parameter 'to'.")
    if not isinstance(to, list) or not all(isinstance(entry, str) for entry in to):
        raise _invalid("syntax_invalid_json", "Parameter 'to' must be an array of strings.")
    if not 1 <= len(to) <= MAX_RECIPIENTS:
        text = f"Parameter 'to' must have between 1 and {MAX_RECIPIENTS} elements."
        raise _invalid("syntax_constraint_violation", text)
    for index, entry in enumerate(to):
        if _GROUP_ID.fullmatch(entry):
            raise _invalid("unknown_group", f"Group with id '{entry}' not found.", status=403)
        if msisdn_digits(entry) is None:
            raise _bad_msisdn(index, entry)


def _bad_msisdn(index: int, value: str) -> SinchApiError:
    text = (
        f"The format of parameter 'to[{index}]' is invalid; "
        f"value '{value}' is not a valid MSISDN or group ID."
    )
    return _invalid("syntax_invalid_parameter_format", text)


def _check_sender(sender: Any) -> None:
    if sender is None:
        return  # Sinch falls back to the plan's default originator
    if not isinstance(sender, str):
        raise _invalid("syntax_invalid_json", "Parameter 'from' must be a string.")
    digits = _IGNORED_IN_MSISDN.sub("", sender).lstrip("+")
    short_code = digits.isdigit() and 3 <= len(digits) <= 6
    if not (msisdn_digits(sender) or short_code or _ALPHANUMERIC_SENDER.fullmatch(sender)):
        text = f"The format of parameter 'from' is invalid; value '{sender}' is not a valid sender."
        raise _invalid("syntax_invalid_parameter_format", text)


def _check_body(kind: Any, body: Any, udh: Any) -> None:
    if kind not in TYPES:
        raise _invalid("syntax_invalid_parameter_format", f"Unknown batch type '{kind}'.")
    if body is None:
        raise _invalid("syntax_constraint_violation", "Missing required parameter 'body'.")
    if kind == "mt_media":
        _check_media(body)
    elif not isinstance(body, str):
        raise _invalid("syntax_invalid_json", "Parameter 'body' must be a string.")
    elif len(body) > MAX_TEXT_BODY:
        text = f"Parameter 'body' exceeds {MAX_TEXT_BODY} characters."
        raise _invalid("syntax_constraint_violation", text)
    if kind == "mt_binary" and not isinstance(udh, str):
        raise _invalid("syntax_constraint_violation", "Parameter 'udh' is required for mt_binary.")


def _check_media(body: Any) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        raise _invalid("syntax_constraint_violation", "Parameter 'body.url' is required.")
    if not body["url"].startswith(("http://", "https://")):
        raise _invalid("syntax_invalid_parameter_format", "Parameter 'body.url' is not a URL.")
    if not isinstance(body.get("message", ""), str):
        raise _invalid("syntax_invalid_json", "Parameter 'body.message' must be a string.")


def _check_options(batch: dict[str, Any]) -> None:
    if batch.get("delivery_report", "none") not in DELIVERY_REPORTS:
        text = f"Unknown delivery report type '{batch.get('delivery_report')}'."
        raise _invalid("syntax_invalid_parameter_format", text)
    _check_string(batch, "callback_url", MAX_CALLBACK_URL)
    url = batch.get("callback_url")
    if url is not None and not url.startswith(("http://", "https://")):
        raise _invalid("syntax_invalid_parameter_format", "Parameter 'callback_url' is not a URL.")
    _check_string(batch, "client_reference", MAX_CLIENT_REFERENCE)
    for flag in ("flash_message", "truncate_concat", "feedback_enabled"):
        if not isinstance(batch.get(flag, False), bool):
            raise _invalid("syntax_invalid_json", f"Parameter '{flag}' must be a boolean.")


def _check_string(batch: dict[str, Any], field: str, limit: int) -> None:
    value = batch.get(field)
    if value is not None and not isinstance(value, str):
        raise _invalid("syntax_invalid_json", f"Parameter '{field}' must be a string.")
    if value is not None and len(value) > limit:
        text = f"Parameter '{field}' exceeds {limit} characters."
        raise _invalid("syntax_constraint_violation", text)


def _check_times(send_at: Any, expire_at: Any) -> None:
    start = _parse_time("send_at", send_at) or datetime.now(UTC)
    end = _parse_time("expire_at", expire_at)
    if end is not None and end <= start:
        text = "Parameter 'expire_at' must be after send_at."
        raise _invalid("syntax_constraint_violation", text)


def _parse_time(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        text = f"The format of parameter '{field}' is invalid; expected ISO-8601."
        raise _invalid("syntax_invalid_parameter_format", text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # no offset means UTC


# --- replies and records ------------------------------------------------------------------
def _batch_object(
    batch_id: str, batch: dict[str, Any], recipients: list[str], created: datetime
) -> dict[str, Any]:
    start = _parse_time("send_at", batch.get("send_at")) or created
    reply: dict[str, Any] = {
        "id": batch_id,
        "to": recipients,
        "from": _sender_out(batch.get("from")),
        "canceled": False,
        "body": batch["body"],
        "type": batch.get("type", "mt_text"),
        "created_at": sinch_time(created),
        "modified_at": sinch_time(created),
        "delivery_report": batch.get("delivery_report", "none"),
        "expire_at": batch.get("expire_at") or sinch_time(start + DEFAULT_EXPIRY),
        "flash_message": batch.get("flash_message", False),
        "feedback_enabled": batch.get("feedback_enabled", False),
    }
    for optional in ("send_at", "callback_url", "client_reference", "udh"):
        if batch.get(optional) is not None:
            reply[optional] = batch[optional]
    return {key: value for key, value in reply.items() if value is not None}


def _sender_out(sender: str | None) -> str | None:
    """Sinch returns numbers without ``+`` or ``00``."""
    return None if sender is None else msisdn_digits(sender) or sender


def _accepted(
    reply: dict[str, Any], batch: dict[str, Any], number: str, how: Behaviour
) -> AcceptedMessage:
    body = batch["body"]
    text = body.get("message", "") if isinstance(body, dict) else body
    extra = {
        "type": reply["type"],
        "delivery_report": reply["delivery_report"],
        "expire_at": reply["expire_at"],
        "behaviour": how.value,
    }
    if isinstance(body, dict):
        extra["media_url"] = body["url"]
    return AcceptedMessage(
        provider_message_id=reply["id"],
        to="+" + number,
        sender=reply.get("from", ""),
        body=text,
        callback_url=batch.get("callback_url"),
        reference=batch.get("client_reference"),
        extra=extra,
    )


def _received(request: Request, body: bytes) -> ReceivedRequest:
    return ReceivedRequest(
        method=request.method,
        path=request.url.path,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        query=dict(request.query_params),
    )


def _with_reference(payload: dict[str, Any], accepted: AcceptedMessage) -> dict[str, Any]:
    if accepted.reference is not None:
        payload["client_reference"] = accepted.reference
    return payload


def signature_headers(secret: str, body: bytes) -> dict[str, str]:
    """Sinch's HMAC headers: Base64(HMAC-SHA256(secret, body + "." + nonce + "." + timestamp))."""
    nonce, timestamp = new_id(), str(int(time.time()))
    message = body + f".{nonce}.{timestamp}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return {
        "x-sinch-webhook-signature": base64.b64encode(digest).decode(),
        "x-sinch-webhook-signature-nonce": nonce,
        "x-sinch-webhook-signature-timestamp": timestamp,
        "x-sinch-webhook-signature-algorithm": "HmacSHA256",
    }


async def _post(url: str, headers: dict[str, str], body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.post(url, content=body, headers=headers)


# --- standalone -----------------------------------------------------------------------------
def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.sinch", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--service-plan-id", required=True)
    parser.add_argument("--api-token", required=True)
    parser.add_argument("--hmac-secret")
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    parser.add_argument("--behave", action="append", default=[], metavar="NUMBER=BEHAVIOUR")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _arguments(argv)
    fake = FakeSinch(
        service_plan_id=args.service_plan_id,
        api_token=args.api_token,
        hmac_secret=args.hmac_secret,
        hang_seconds=args.hang_seconds,
    )
    for rule in args.behave:
        number, _, behaviour = rule.partition("=")
        fake.behave(number, Behaviour(behaviour))
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    fake.start(args.port)
    print(f"FakeSinch listening on {fake.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
