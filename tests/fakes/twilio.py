"""A Twilio Programmable Messaging fake (API 2010-04-01) that speaks Twilio's own contract.

Serves ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``: HTTP Basic auth (Twilio's
20003 401 otherwise), the form checks Twilio makes (To required and E.164, From or
MessagingServiceSid, Body or MediaUrl, the spec's field patterns), then a 201 Message resource
or Twilio's ``{code, message, more_info, status}`` error body, chosen per destination number:

    SERVER_ERROR  500 code 20500 (or 503 code 20503 with ``server_error_status=503``)
    THROTTLE      429 code 20429
    PERMANENT     400 code 21211 (invalid To)
    BLACKLISTED   400 code 21610 (unsubscribed recipient)
    HANG          sleeps ``hang_seconds``, then answers as OK (Twilio may create it late)
    PARTIAL       as PERMANENT: Twilio sends one message per request, there is no partial

It also builds the callbacks Twilio would send (form-encoded, ``X-Twilio-Signature`` over the
public URL). Run standalone for the benchmark harness::

    python -m tests.fakes.twilio --port 8801 --account-sid AC... --auth-token secret
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.base import AcceptedMessage, Behaviour, FakeProvider, ReceivedRequest

API_VERSION = "2010-04-01"
MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
# Every field of the spec's CreateMessageRequest; Twilio ignores others, so does the fake.
KNOWN_FIELDS = frozenset(
    {
        *("To", "From", "MessagingServiceSid", "Body", "MediaUrl", "StatusCallback"),
        *("ApplicationSid", "MaxPrice", "ProvideFeedback", "Attempt", "ValidityPeriod"),
        *("ForceDelivery", "ContentRetention", "AddressRetention", "SmartEncoded"),
        *("PersistentAction", "TrafficType", "ShortenUrls", "ScheduleType", "SendAt"),
        *("SendAsMms", "ContentVariables", "RiskCheck", "FallbackFrom", "ContentSid"),
    }
)
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
ALPHANUMERIC_ID = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")  # spec pattern
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each
MAX_BODY = 1600
MAX_MEDIA = 10
MAX_VALIDITY = 36_000

Form = dict[str, list[str]]


@dataclass(frozen=True)
class TwilioFailure:
    """One of Twilio's error replies."""

    status: int
    code: int
    message: str

    def response(self) -> JSONResponse:
        body = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        headers = {"Twilio-Request-Id": "RQ" + secrets.token_hex(16)}
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return JSONResponse(body, status_code=self.status, headers=headers)


AUTH_FAILED = TwilioFailure(401, 20003, "Authenticate")
THROTTLED = TwilioFailure(429, 20429, "Too Many Requests")
SERVER_ERRORS = {
    500: TwilioFailure(500, 20500, "Internal Server Error"),
    503: TwilioFailure(503, 20503, "Service Unavailable"),
}


class FakeTwilio(FakeProvider):
    """Twilio's Messages API on loopback; see the module docstring."""

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        hang_seconds: float = 5.0,
        server_error_status: int = 500,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        if server_error_status not in SERVER_ERRORS:
            raise ValueError("server_error_status must be 500 or 503")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.server_error_status = server_error_status
        self.default_service_sid = "MG" + secrets.token_hex(16)

    # --- the API ---------------------------------------------------------------------------
    def build_app(self) -> Starlette:
        route = Route(MESSAGES_PATH, self.create_message, methods=["POST"])
        return Starlette(routes=[route], exception_handlers={404: _not_found})

    async def create_message(self, request: Request) -> Response:
        body = await request.body()
        self.record(_received(request, body))
        if not self._authorised(request):
            return AUTH_FAILED.response()
        form = _form(request.headers.get("content-type", ""), body)
        behaviour = self.behaviour_for(_first(form, "To") or "+")
        if behaviour is Behaviour.HANG:
            await self.hang()
        failure = self._early_failure(behaviour) or validate(form) or _late_failure(behaviour, form)
        if failure is not None:
            return failure.response()
        return JSONResponse(self._accept(form), status_code=201)

    def _authorised(self, request: Request) -> bool:
        if request.path_params["AccountSid"] != self.account_sid:
            return False
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        given = request.headers.get("authorization", "")
        scheme, _, encoded = given.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except ValueError:
            return False
        return hmac.compare_digest(decoded, expected)

    def _early_failure(self, behaviour: Behaviour) -> TwilioFailure | None:
        if behaviour is Behaviour.SERVER_ERROR:
            return SERVER_ERRORS[self.server_error_status]
        if behaviour is Behaviour.THROTTLE:
            return THROTTLED
        return None

    def _accept(self, form: Form) -> dict[str, Any]:
        message = self._message_resource(form)
        self.accept(
            AcceptedMessage(
                provider_message_id=message["sid"],
                to=message["to"],
                sender=_first(form, "From") or _first(form, "MessagingServiceSid") or "",
                body=message["body"],
                callback_url=_first(form, "StatusCallback"),
                extra={"form": form, "resource": message},
            )
        )
        return message

    def _message_resource(self, form: Form) -> dict[str, Any]:
        media = form.get("MediaUrl", [])
        service = _first(form, "MessagingServiceSid")
        sid = ("MM" if media else "SM") + secrets.token_hex(16)
        body = _first(form, "Body") or ""
        now = format_datetime(datetime.now(UTC))
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": _first(form, "From"),
            "messaging_service_sid": service or self.default_service_sid,
            "num_media": str(len(media)),
            "num_segments": "0" if service else str(segments(body)),
            "price": None,
            "price_unit": None,
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{base}/Media.json"},
            "to": _first(form, "To"),
            "uri": f"{base}.json",
        }

    # --- callbacks, the way Twilio sends them ----------------------------------------------
    def status_callback(
        self, accepted: AcceptedMessage, status: str, *, error_code: str | None = None
    ) -> tuple[str, dict[str, str], bytes]:
        """Twilio's status callback for ``accepted``: (URL, headers, form body), signed."""
        if accepted.callback_url is None:
            raise ValueError("the message was sent without a StatusCallback")
        sid = accepted.provider_message_id
        fields = {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": accepted.to}
        fields |= {"MessageSid": sid, "AccountSid": self.account_sid}
        fields |= self._sender_fields(accepted) | {"ApiVersion": API_VERSION}
        if error_code is not None:
            fields["ErrorCode"] = error_code
        if status in ("delivered", "undelivered"):
            fields["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
        return self.signed(accepted.callback_url, fields)

    def inbound_callback(
        self, url: str, sender: str, to: str, body: str
    ) -> tuple[str, dict[str, str], bytes]:
        """Twilio's incoming-message webhook to ``url``: (URL, headers, form body), signed."""
        sid = "SM" + secrets.token_hex(16)
        fields = {"ToCountry": "", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0"}
        fields |= {"ToCity": "", "FromZip": "", "SmsSid": sid, "FromState": ""}
        fields |= {"SmsStatus": "received", "FromCity": "", "Body": body, "FromCountry": ""}
        fields |= {"To": to, "ToZip": ""}
        fields |= {"NumSegments": str(segments(body)), "MessageSid": sid}
        fields |= {"AccountSid": self.account_sid, "From": sender, "ApiVersion": API_VERSION}
        return self.signed(url, fields)

    def signed(self, url: str, fields: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
        """A form POST to ``url`` carrying a valid ``X-Twilio-Signature``."""
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": twilio_signature(self.auth_token, url, fields),
            "i-twilio-idempotency-token": str(uuid.uuid4()),
            "user-agent": "TwilioProxy/1.1",
        }
        return url, headers, urlencode(fields).encode()

    async def post_status(
        self,
        accepted: AcceptedMessage,
        status: str,
        *,
        error_code: str | None = None,
        target: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """POST a status callback to its signed URL (or to ``target``, e.g. behind a proxy)."""
        url, headers, body = self.status_callback(accepted, status, error_code=error_code)
        return await _post(target or url, headers, body, client)

    async def post_inbound(
        self,
        url: str,
        sender: str,
        to: str,
        body: str,
        *,
        target: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> httpx.Response:
        """POST an inbound-message webhook signed for ``url`` (to ``target`` if given)."""
        signed_url, headers, form = self.inbound_callback(url, sender, to, body)
        return await _post(target or signed_url, headers, form, client)

    def _sender_fields(self, accepted: AcceptedMessage) -> dict[str, str]:
        if MESSAGING_SERVICE_SID.match(accepted.sender):
            return {"MessagingServiceSid": accepted.sender, "From": "+15005550006"}
        return {"From": accepted.sender}


# --- request validation (Twilio's checks, in Twilio's order) ---------------------------------
def validate(form: Form) -> TwilioFailure | None:
    """The first of Twilio's 400s that ``form`` earns, or ``None``."""
    for check in CHECKS:
        failure = check(form)
        if failure is not None:
            return failure
    return None


def _check_to(form: Form) -> TwilioFailure | None:
    to = _first(form, "To")
    if not to:
        return TwilioFailure(400, 21604, "A 'To' phone number is required.")
    if not E164.match(to):
        return TwilioFailure(400, 21211, f"Invalid 'To' Phone Number: {to}")
    return None


def _check_sender(form: Form) -> TwilioFailure | None:
    sender, service = _first(form, "From"), _first(form, "MessagingServiceSid")
    if not sender and not service:
        return TwilioFailure(400, 21603, "A 'From' phone number is required.")
    if service and not MESSAGING_SERVICE_SID.match(service):
        return TwilioFailure(400, 21701, f"The Messaging Service Sid {service} is invalid.")
    if sender and not any(p.match(sender) for p in (E164, SHORT_CODE, ALPHANUMERIC_ID)):
        message = f"The 'From' number {sender} is not a valid phone number or shortcode."
        return TwilioFailure(400, 21212, message)
    return None


def _check_content(form: Form) -> TwilioFailure | None:
    body, media, content = (
        _first(form, "Body"),
        form.get("MediaUrl", []),
        _first(form, "ContentSid"),
    )
    if not body and not media and not content:
        return TwilioFailure(400, 21602, "Message body is required.")
    if body and len(body) > MAX_BODY:
        message = "The concatenated message body exceeds the 1600 character limit."
        return TwilioFailure(400, 21617, message)
    return None


def _check_media(form: Form) -> TwilioFailure | None:
    media = form.get("MediaUrl", [])
    if len(media) > MAX_MEDIA:
        return TwilioFailure(400, 21623, "Number of media files exceeds allowed limit")
    if not all(_is_url(url) for url in media):
        return TwilioFailure(400, 21620, "Invalid media URL(s)")
    return None


def _check_callback(form: Form) -> TwilioFailure | None:
    url = _first(form, "StatusCallback")
    if url is not None and not (_is_url(url) and "_" not in (urlsplit(url).hostname or "")):
        return TwilioFailure(400, 21609, f"The StatusCallback URL {url} is not a valid URL.")
    return None


def _check_validity(form: Form) -> TwilioFailure | None:
    value = _first(form, "ValidityPeriod")
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_VALIDITY:
        message = "Validity period can only be set to integers between 1 and 36,000 seconds."
        return TwilioFailure(400, 21624, message)
    return None


CHECKS: tuple[Callable[[Form], TwilioFailure | None], ...] = (
    _check_to,
    _check_sender,
    _check_content,
    _check_media,
    _check_callback,
    _check_validity,
)


def _late_failure(behaviour: Behaviour, form: Form) -> TwilioFailure | None:
    to = _first(form, "To")
    if behaviour in (Behaviour.PERMANENT, Behaviour.PARTIAL):
        return TwilioFailure(400, 21211, f"Invalid 'To' Phone Number: {to}")
    if behaviour is Behaviour.BLACKLISTED:
        return TwilioFailure(400, 21610, "Attempt to send to unsubscribed recipient")
    return None


# --- helpers -----------------------------------------------------------------------------------
def twilio_signature(auth_token: str, url: str, fields: dict[str, str]) -> str:
    """Base64(HMAC-SHA1(token, URL + name+value of every field sorted by name)), as Twilio signs."""
    data = url + "".join(f"{name}{fields[name]}" for name in sorted(fields))
    mac = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def segments(body: str) -> int:
    """SMS segments for ``body``: GSM-7 160/153 septets, else UCS-2 70/67 code units."""
    if set(body) <= GSM7_BASIC | GSM7_EXTENDED:
        units, single, multi = len(body) + sum(c in GSM7_EXTENDED for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // multi)


def _received(request: Request, body: bytes) -> ReceivedRequest:
    return ReceivedRequest(
        method=request.method,
        path=request.url.path,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
        query=dict(request.query_params),
    )


def _form(content_type: str, body: bytes) -> Form:
    """The POST fields; a body that is not form-encoded carries none (as at Twilio)."""
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    form: Form = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(name, []).append(value)
    return form


def _first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    message = f"The requested resource {request.url.path} was not found"
    return TwilioFailure(status, 20404, message).response()


async def _post(
    url: str, headers: dict[str, str], body: bytes, client: httpx.AsyncClient | None
) -> httpx.Response:
    if client is not None:
        return await client.post(url, headers=headers, content=body)
    async with httpx.AsyncClient(timeout=10.0) as own:
        return await own.post(url, headers=headers, content=body)


# --- standalone ------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    args = _arguments().parse_args(argv)
    fake = FakeTwilio(args.account_sid, args.auth_token, hang_seconds=args.hang_seconds)
    for rule in args.behave:
        number, _, behaviour = rule.partition("=")
        fake.behave(number, Behaviour(behaviour))
    fake.port = args.port
    print(f"FakeTwilio on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(fake.build_app(), host=args.host, port=args.port, log_level="warning")


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Serve the Twilio Messages API fake.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--hang-seconds", type=float, default=5.0)
    parser.add_argument(
        "--behave",
        action="append",
        default=[],
        metavar="NUMBER=BEHAVIOUR",
        help="e.g. +12025550143=throttle (repeatable)",
    )
    return parser


if __name__ == "__main__":
    main()
