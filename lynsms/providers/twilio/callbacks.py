"""Twilio's status callbacks and inbound-message webhooks: verify, then parse.

Both arrive form-encoded and signed: ``X-Twilio-Signature`` is
Base64(HMAC-SHA1(auth token, URL + every POST parameter as name + value, sorted by name)).
The URL is the public one Twilio called, query string included; like Twilio's SDKs we also
accept it with the scheme's default port added or removed. Every field takes part in the
signature, including ones this module does not read (Twilio adds fields without notice).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from lynsms.providers.base import (
    CallbackRejected,
    CallbackRequest,
    DeliveryReport,
    DeliveryStatus,
    InboundSms,
)

if TYPE_CHECKING:
    from lynsms.providers.twilio.adapter import TwilioConfig

SIGNATURE_HEADER = "x-twilio-signature"
_DEFAULT_PORTS = {"https": 443, "http": 80}

# Twilio's message status → our lifecycle. Statuses not listed (receiving, received,
# partially_delivered, anything new) are acknowledged and ignored.
STATUS_MAP: dict[str, DeliveryStatus] = {
    "accepted": "sent",  # a Messaging Service took it; no sender chosen yet
    "scheduled": "sent",  # waiting for its SendAt time
    "queued": "sent",  # in Twilio's queue for the sender
    "sending": "sent",  # being handed to the carrier
    "sent": "sent",  # the carrier accepted it
    "delivered": "delivered",  # the carrier confirmed delivery to the handset
    "read": "delivered",  # read receipt (WhatsApp, RCS): delivered and then some
    "undelivered": "undelivered",  # the carrier could not deliver it (ErrorCode says why)
    "failed": "failed",  # Twilio could not send it (ErrorCode says why)
    "canceled": "failed",  # a scheduled message was canceled: it will never be sent
}


def compute_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature`` for a form POST to ``url``."""
    payload = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_request(auth_token: str, request: CallbackRequest) -> list[tuple[str, str]]:
    """The request's form fields, once its signature checks out; else ``CallbackRejected``."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        raise CallbackRejected("missing X-Twilio-Signature")
    params = _form_fields(request.body)
    for url in url_variants(request.url):
        expected = compute_signature(auth_token, url, params)
        if hmac.compare_digest(expected.encode(), signature.encode()):
            return params
    raise CallbackRejected("X-Twilio-Signature does not match")


def url_variants(url: str) -> list[str]:
    """``url`` as given, then with the scheme's default port removed or added."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.netloc:
        return [url]
    try:
        port = parts.port
    except ValueError:
        return [url]
    if port is None:
        netloc = f"{parts.netloc}:{default}"
    elif port == default:
        netloc = parts.netloc.rsplit(":", 1)[0]
    else:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=netloc))]


def parse_status_callback(config: TwilioConfig, request: CallbackRequest) -> list[DeliveryReport]:
    """A verified status callback as at most one ``DeliveryReport``."""
    fields = dict(verify_request(config.auth_token, request))
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    provider_status = fields.get("MessageStatus") or fields.get("SmsStatus") or ""
    status = STATUS_MAP.get(provider_status.lower())
    if not sid or status is None:
        return []
    report = DeliveryReport(
        provider_message_id=sid,
        status=status,
        provider_status=provider_status,
        error_code=fields.get("ErrorCode") or None,
        error_message=fields.get("ErrorMessage") or None,
        recipient=fields.get("To") or None,
    )
    return [report]


def parse_inbound_callback(config: TwilioConfig, request: CallbackRequest) -> list[InboundSms]:
    """A verified inbound-message webhook as at most one ``InboundSms``."""
    fields = dict(verify_request(config.auth_token, request))
    sid = fields.get("MessageSid") or fields.get("SmsMessageSid") or fields.get("SmsSid")
    sender, to = fields.get("From"), fields.get("To")
    if not sid or not sender or not to:
        return []
    return [InboundSms(sender=sender, to=to, body=fields.get("Body", ""), provider_message_id=sid)]


def _form_fields(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRejected("callback body is not UTF-8") from None
    return parse_qsl(text, keep_blank_values=True)
