"""The one error base class of the API, with stable ``code``s; one handler renders the envelope.

Every expected outcome is a ``LynSMSError`` and a 4xx; anything else is a bug
and becomes ``500 internal_error`` without a stack trace.

Tree (HTTP status); each class lists in ``codes`` every code it is raised with and
what it means, and that catalogue is what the OpenAPI document renders
(``lynsms.kit.openapi``)::

    LynSMSError
    ├── BadRequest                400
    ├── AuthenticationError       401
    ├── InsufficientBalance       402
    ├── PermissionDenied          403
    │   └── InsufficientScope     403  (+ required_scope, granted_scopes)
    ├── NotFound                  404
    ├── Conflict                  409
    ├── PayloadTooLarge           413
    ├── UnsupportedMediaType      415
    ├── ValidationFailed          422  validation_error and the specific codes of API.md §3
    ├── RateLimited               429
    └── ServiceUnavailable        503  (database unreachable)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class LynSMSError(Exception):
    status_code = 400
    code = "bad_request"
    codes: ClassVar[Mapping[str, str]] = {}  # code -> what it means, as a message would say it

    def __init__(
        self, message: str, *, code: str | None = None, param: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.param is not None:
            body["param"] = self.param
        body.update(self.extra)
        return body

    @classmethod
    def example(cls, code: str) -> LynSMSError:
        """An instance of ``code`` (one of ``codes``), as the documentation shows it."""
        return cls(cls.codes[code], code=code)


class BadRequest(LynSMSError):
    status_code = 400
    code = "bad_request"
    codes = {
        "invalid_json": "The request body is not valid JSON.",
        "invalid_idempotency_key": "Send one Idempotency-Key header of 1 to 255 printable ASCII "
        "characters.",
    }


class AuthenticationError(LynSMSError):
    status_code = 401
    code = "authentication_required"
    codes = {
        "authentication_required": "Send your API key as 'Authorization: Bearer ds_live_…'.",
        "invalid_api_key": "The API key is not valid.",
        "api_key_revoked": "This API key has been revoked.",
        "api_key_expired": "This API key has expired.",
    }


class InsufficientBalance(LynSMSError):
    status_code = 402
    code = "insufficient_balance"
    codes = {"insufficient_balance": "The account balance does not cover this request."}


class PermissionDenied(LynSMSError):
    status_code = 403
    code = "permission_denied"
    codes = {
        "ip_not_allowed": "Requests from this address are not allowed for this API key.",
        "environment_not_allowed": "A test key cannot create a live key.",
    }


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"
    codes = {"insufficient_scope": "This API key lacks the scope this request needs."}

    def __init__(self, required: str, granted: list[str]) -> None:
        super().__init__(
            f"This API key lacks the '{required}' scope.",
            required_scope=required,
            granted_scopes=granted,
        )

    @classmethod
    def example(cls, code: str) -> LynSMSError:
        return cls("messages:send", ["messages:read"])


class NotFound(LynSMSError):
    status_code = 404
    code = "not_found"
    codes = {"not_found": "No such object in this account."}


class Conflict(LynSMSError):
    status_code = 409
    code = "conflict"
    codes = {
        "idempotency_key_in_use": "A request with this Idempotency-Key is still running; "
        "retry shortly.",
        "message_not_cancellable": "Only a scheduled message, or a queued one not yet attempted, "
        "can be cancelled.",
        "sender_exists": "This sender id is already registered.",
        "contact_exists": "A contact with this phone number exists in this account.",
        "template_exists": "A template with this name exists in this account.",
        "campaign_not_editable": "Only a draft campaign can be edited; a scheduled or running "
        "one must be cancelled before it is deleted.",
        "campaign_not_launchable": "Only a draft campaign can be launched.",
        "campaign_not_cancellable": "A completed or cancelled campaign cannot be cancelled.",
    }


class PayloadTooLarge(LynSMSError):
    status_code = 413
    code = "payload_too_large"
    codes = {"payload_too_large": "The request body is over the size limit (1 MiB)."}


class UnsupportedMediaType(LynSMSError):
    status_code = 415
    code = "unsupported_media_type"
    codes = {"unsupported_media_type": "Send the request body as application/json."}


class ValidationFailed(LynSMSError):
    status_code = 422
    code = "validation_error"
    codes = {
        "validation_error": "A field is missing, malformed or out of range; 'param' names it.",
        "invalid_phone_number": "The number is not a possible E.164 number.",
        "invalid_sender": "The sender is not 1-11 alphanumeric characters, a long code or a "
        "short code.",
        "sender_not_approved": "The sender is not approved for live sends on this account.",
        "message_too_long": "The body is over 1,600 characters.",
        "empty_body": "The message body is empty.",
        "invalid_schedule_date": "The date is not an ISO-8601 timestamp in the future.",
        "too_many_recipients": "At most 1,000 recipients per request.",
        "unknown_route": "No route has this id.",
        "route_not_applicable": "The route does not cover the destination.",
        "unknown_provider": "The provider is unknown or not configured.",
        "recipient_opted_out": "The recipient has opted out of messages from this account.",
        "unknown_template": "No template with this id or name in this account.",
        "missing_template_variable": "The template uses a variable the request does not give.",
        "unknown_contact": "No contact with this id in this account.",
        "empty_audience": "The campaign's audience has no contacts.",
        "invalid_webhook_url": "The webhook URL is not allowed (private, link-local or "
        "unresolvable).",
        # Media and MMS (API.md §8, §12)
        "unknown_media": "No media with this id in this account (or it has expired).",
        "mms_not_supported": "MMS goes only to US and CA numbers, through Twilio, Sinch or "
        "ClickSend.",
    }


class RateLimited(LynSMSError):
    status_code = 429
    code = "rate_limited"
    codes = {"rate_limited": "Over this API key's requests per minute; retry after Retry-After."}


class ServiceUnavailable(LynSMSError):
    status_code = 503
    code = "service_unavailable"
    codes = {"service_unavailable": "The database is unavailable; retry shortly."}
