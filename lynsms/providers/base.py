"""What every provider adapter speaks: the request, the result and the closed error set.

An adapter builds the provider's HTTP request from an ``OutboundSms``, calls the
injected ``httpx.AsyncClient`` and maps the reply to a ``SendResult`` or to one
of the ``ProviderError`` subclasses below. Failover reads ``retryable`` and
never a provider's own codes (the provider's code is kept for the customer in
``provider_code``).

Error tree (``code``, ``retryable``)::

    ProviderError
    ├── ConnectionFailed      connection_failed      retryable  (DNS, refused, reset before a reply)
    ├── ProviderTimeout       timeout                retryable  (no reply within the timeout)
    ├── Throttled             throttled              retryable  (HTTP 429 or the provider's throttling code)
    ├── ProviderUnavailable   provider_unavailable   retryable  (HTTP 5xx, unparseable reply)
    ├── Rejected              rejected               hard       (invalid number, validation of our request)
    ├── Blacklisted           blacklisted            hard       (recipient opted out or blocked at the provider)
    ├── BillingFailed         billing                hard       (our account at the provider has no funds)
    └── ConfigurationError    configuration          hard       (bad credentials, unknown sender, disabled account)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, Protocol

import httpx


@dataclass(frozen=True, slots=True)
class OutboundSms:
    """One message to one recipient, as an adapter receives it."""

    message_id: str  # our id (msg_...); adapters pass it as the provider's client reference
    to: str  # E.164 with a leading +
    sender: str  # alphanumeric sender id, or an E.164 long code, or a short code
    body: str
    status_callback_url: str | None = None  # where the provider should POST delivery reports
    validity_seconds: int | None = None  # how long the provider may keep trying
    media_urls: tuple[str, ...] = ()  # MMS media, public URLs


@dataclass(frozen=True, slots=True)
class SendResult:
    """The provider accepted the message."""

    provider_message_id: str  # the id the provider's delivery reports will carry
    raw_status: str | None = None  # the provider's own status word, for the attempt log


class ProviderError(Exception):
    """Base of the closed set of provider failures."""

    code: ClassVar[str] = "provider_error"
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider_code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider_code = provider_code
        self.http_status = http_status
        self.retry_after = retry_after


class ConnectionFailed(ProviderError):
    code = "connection_failed"
    retryable = True


class ProviderTimeout(ProviderError):
    code = "timeout"
    retryable = True


class Throttled(ProviderError):
    code = "throttled"
    retryable = True


class ProviderUnavailable(ProviderError):
    code = "provider_unavailable"
    retryable = True


class Rejected(ProviderError):
    code = "rejected"


class Blacklisted(ProviderError):
    code = "blacklisted"


class BillingFailed(ProviderError):
    code = "billing"


class ConfigurationError(ProviderError):
    code = "configuration"


DeliveryStatus = Literal["sent", "delivered", "undelivered", "failed"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's delivery report for one message, mapped to our lifecycle."""

    provider_message_id: str
    status: DeliveryStatus
    provider_status: str  # the provider's own status word, kept verbatim
    error_code: str | None = None  # the provider's error code, verbatim
    error_message: str | None = None
    occurred_at: datetime | None = None
    recipient: str | None = None  # E.164 with +, where the report names it


@dataclass(frozen=True, slots=True)
class InboundSms:
    """A message a customer's number received."""

    sender: str  # E.164 with +
    to: str  # E.164 with + (the receiving number), or the short code as given
    body: str
    provider_message_id: str
    received_at: datetime | None = None


class CallbackRejected(Exception):
    """A callback failed authentication (bad signature or token): answer 401/403, change nothing."""


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """What a callback parser sees of an HTTP request to /callbacks/{provider}/..."""

    url: str  # the public URL the provider called (built from [server] public_url + path + query)
    headers: dict[str, str]  # lower-case names
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


class Provider(Protocol):
    """An adapter for one upstream provider."""

    name: str
    supports_mms: bool

    async def send(self, sms: OutboundSms) -> SendResult:
        """Send one message; raise a ``ProviderError`` subclass on failure."""
        ...

    def redact_values(self) -> list[str]:
        """Secrets that must never appear in logs or API responses."""
        ...

    def parse_status_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        """Authenticate and parse a delivery-report callback; raise ``CallbackRejected``."""
        ...

    def parse_inbound_callback(self, request: CallbackRequest) -> list[InboundSms]:
        """Authenticate and parse an inbound-message callback; raise ``CallbackRejected``."""
        ...


def map_transport_error(exc: httpx.HTTPError) -> ProviderError:
    """Turn an httpx transport failure into the retryable error it stands for."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(f"no reply within the timeout ({type(exc).__name__})")
    return ConnectionFailed(f"connection failed ({type(exc).__name__})")


def map_http_status(status: int, message: str, provider_code: str | None = None) -> ProviderError:
    """The generic reading of an HTTP error status, for replies an adapter has no better map for."""
    if status == 429:
        return Throttled(message, provider_code=provider_code, http_status=status)
    if status >= 500:
        return ProviderUnavailable(message, provider_code=provider_code, http_status=status)
    if status in (401, 403):
        return ConfigurationError(message, provider_code=provider_code, http_status=status)
    if status == 402:
        return BillingFailed(message, provider_code=provider_code, http_status=status)
    return Rejected(message, provider_code=provider_code, http_status=status)
