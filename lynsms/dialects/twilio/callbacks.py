"""Twilio-style status callbacks of messages sent with a ``StatusCallback`` (API.md §12).

They travel through the webhook machinery (``lynsms.webhooks``): every status event of
such a message is fanned out to the account's hidden endpoint of format ``twilio``, and
the delivery worker POSTs it, retried on the webhook schedule, to the message's own URL.
This module builds what is POSTed: Twilio's form fields, signed with
``X-Twilio-Signature`` (Base64 HMAC-SHA1 of the URL and the sorted fields) keyed by the
API key the message was sent with, which a Twilio client knows as its auth token.

That key is kept sealed (Fernet: AES-CBC and HMAC-SHA256) under a key derived from the
server's secret key, the root of every webhook secret already.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
from cryptography.fernet import Fernet, InvalidToken

from lynsms.dialects.hidden import HiddenEndpoint
from lynsms.dialects.twilio.resources import API_VERSION, twilio_error, twilio_status
from lynsms.dialects.twilio.sids import sid_of
from lynsms.providers.twilio.callbacks import compute_signature

FORMAT = "twilio"  # the webhook endpoint format that carries them
# The status changes a StatusCallback hears of: those after the create response's own.
EVENTS = frozenset(
    {
        "message.sent",
        "message.delivered",
        "message.undelivered",
        "message.failed",
        "message.expired",
        "message.cancelled",
    }
)
USER_AGENT = "LynSMS-Webhooks/1.0 (Twilio-compatible status callback)"
_SEALING_CONTEXT = b"lynsms/twilio/auth-token/v1"
_REPORTED = frozenset({"delivered", "undelivered"})  # those that carry RawDlrDoneDate


# Each message names its own StatusCallback URL.
ENDPOINT = HiddenEndpoint(
    "tw",
    FORMAT,
    "twilio:StatusCallback",
    "Twilio-compatible API: each message's StatusCallback",
    EVENTS,
)


@lru_cache(maxsize=8)
def _fernet(server_key: bytes) -> Fernet:
    derived = hmac.new(server_key, _SEALING_CONTEXT, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(server_key: bytes, token: str) -> str:
    return _fernet(server_key).encrypt(token.encode()).decode("ascii")


def unseal(server_key: bytes, sealed: str) -> str | None:
    """The token, or None when it was sealed under another server key."""
    try:
        return _fernet(server_key).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None


def check_url(url: str) -> bool:
    """Whether ``url`` is a StatusCallback Twilio would take: absolute http(s), a host
    without underscores, no credentials."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parses the port: raises on a bad one)
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(host)
        and "_" not in host
        and not (parts.username or parts.password)
        and len(url) <= 2048
    )


def status_fields(
    message: dict[str, Any], account_sid: str, occurred_at: datetime
) -> dict[str, str]:
    """The form fields of the callback for ``message`` (the event's data) in its status."""
    sid = sid_of(message["id"])
    status = twilio_status(message["status"])
    fields = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "From": message["from"],
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": message["to"],
    }
    error = message.get("error") or {}
    code, _ = twilio_error(
        message["status"], error.get("code"), error.get("message"), message.get("provider")
    )
    if code is not None:
        fields["ErrorCode"] = str(code)
    if message["status"] in _REPORTED:
        fields["RawDlrDoneDate"] = occurred_at.astimezone(UTC).strftime("%y%m%d%H%M")
    return fields


def callback_request(
    payload: str, account_sid: str, url: str, token: str, event_id: str, occurred_at: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the callback of one stored event."""
    message = orjson.loads(payload)["data"]
    fields = status_fields(message, account_sid, occurred_at)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": USER_AGENT,
        "i-twilio-idempotency-token": event_id,  # the same on every retry of one change
        "x-twilio-signature": compute_signature(token, url, fields.items()),
    }
    return urlencode(fields).encode(), headers
