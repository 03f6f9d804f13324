"""The one error base class of the API, with stable ``code``s; one handler renders the envelope.

Every expected outcome is a ``LynSMSError`` and a 4xx; anything else is a bug
and becomes ``500 internal_error`` without a stack trace.

Tree (HTTP status, code)::

    LynSMSError
    ├── BadRequest                400  invalid_json, invalid_idempotency_key, bad_request
    ├── AuthenticationError       401  authentication_required, invalid_api_key,
    │                                  api_key_revoked, api_key_expired
    ├── InsufficientBalance       402  insufficient_balance
    ├── PermissionDenied          403  ip_not_allowed, environment_not_allowed
    │   └── InsufficientScope     403  insufficient_scope (+ required_scope, granted_scopes)
    ├── NotFound                  404  not_found
    ├── Conflict                  409  idempotency_key_in_use, message_not_cancellable, ...
    ├── PayloadTooLarge           413  payload_too_large
    ├── UnsupportedMediaType      415  unsupported_media_type
    ├── ValidationFailed          422  validation_error and the specific codes of API.md §3
    ├── RateLimited               429  rate_limited
    └── ServiceUnavailable        503  service_unavailable (database unreachable)
"""

from __future__ import annotations

from typing import Any


class LynSMSError(Exception):
    status_code = 400
    code = "bad_request"

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


class BadRequest(LynSMSError):
    status_code = 400
    code = "bad_request"


class AuthenticationError(LynSMSError):
    status_code = 401
    code = "authentication_required"


class InsufficientBalance(LynSMSError):
    status_code = 402
    code = "insufficient_balance"


class PermissionDenied(LynSMSError):
    status_code = 403
    code = "permission_denied"


class InsufficientScope(PermissionDenied):
    code = "insufficient_scope"

    def __init__(self, required: str, granted: list[str]) -> None:
        super().__init__(
            f"This API key lacks the '{required}' scope.",
            required_scope=required,
            granted_scopes=granted,
        )


class NotFound(LynSMSError):
    status_code = 404
    code = "not_found"


class Conflict(LynSMSError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(LynSMSError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(LynSMSError):
    status_code = 415
    code = "unsupported_media_type"


class ValidationFailed(LynSMSError):
    status_code = 422
    code = "validation_error"


class RateLimited(LynSMSError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(LynSMSError):
    status_code = 503
    code = "service_unavailable"
