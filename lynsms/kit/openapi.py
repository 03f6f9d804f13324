"""The OpenAPI document, built from the code: nothing in it is written by hand as JSON.

- ``errors(*raised)`` is the ``responses=`` of a route: for each status, the error
  codes the route can answer with (an exception class stands for all its ``codes``,
  a string for one code), the error envelope with ``code`` restricted to them, an
  example per code and the list in ``x-error-codes``.
- ``build(...)`` is FastAPI's document of the given routes with what every route
  shares added once: the scope the bearer requirement names, in the description;
  401, 403, 429 and 503; on a POST, PUT, PATCH or DELETE the ``Idempotency-Key``
  parameter, 400, 409 ``idempotency_key_in_use``, 413 and 415; 422
  ``validation_error`` where there is anything to validate (instead of FastAPI's
  own shape); ``X-Request-Id`` on every response and the rate-limit headers on those
  of an authenticated request (API.md §1, §7).
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from typing import Any

from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from starlette.routing import BaseRoute

from lynsms.exceptions import (
    AuthenticationError,
    InsufficientScope,
    LynSMSError,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from lynsms.kit.envelope import ErrorEnvelope

CODES = "x-error-codes"
REF = "#/components/schemas/"
Raised = type[LynSMSError] | str
Responses = dict[int | str, dict[str, Any]]
_EXAMPLE_META = {"request_id": "req_3f9a0c1d2b4e", "api_version": "v1"}


def catalogue() -> dict[str, type[LynSMSError]]:
    """Every documented error code and the class that raises it (``codes`` of each class)."""
    found: dict[str, type[LynSMSError]] = {}
    pending: list[type[LynSMSError]] = [LynSMSError]
    while pending:
        cls = pending.pop()
        found.update(dict.fromkeys(cls.__dict__.get("codes", ()), cls))
        pending.extend(cls.__subclasses__())
    return found


def errors(*raised: Raised) -> Responses:
    """The ``responses=`` of a route that can raise ``raised``: a response per status."""
    by_code = catalogue()
    by_status: dict[int, list[str]] = {}
    for item in raised:
        for code in [item] if isinstance(item, str) else list(item.__dict__["codes"]):
            codes = by_status.setdefault(by_code[code].status_code, [])
            if code not in codes:
                codes.append(code)
    return {status: error_response(codes) for status, codes in sorted(by_status.items())}


def error_response(codes: Sequence[str]) -> dict[str, Any]:
    """The response object of one status that answers with ``codes``."""
    by_code = catalogue()
    examples = {}
    for code in codes:
        error = by_code[code].example(code)
        body = {"success": False, "error": error.to_dict(), "meta": _EXAMPLE_META}
        examples[code] = {"summary": code, "value": body}
    restricted = {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}}
    return {
        "description": "\n".join(f"- `{code}`: {by_code[code].codes[code]}" for code in codes),
        "content": {
            "application/json": {
                "schema": {"allOf": [{"$ref": REF + ErrorEnvelope.__name__}, restricted]},
                "examples": examples,
            }
        },
        CODES: list(codes),
    }


def build(
    *,
    title: str,
    version: str,
    description: str,
    routes: Sequence[BaseRoute],
    write_methods: Collection[str],
) -> dict[str, Any]:
    """FastAPI's document of ``routes`` with the conventions every route shares added."""
    document = get_openapi(title=title, version=version, description=description, routes=routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for name, schema in _component_schemas(ErrorEnvelope).items():
        schemas.setdefault(name, schema)
    _hoist_definitions(document, schemas)
    _restore_examples(schemas, routes)
    document["components"]["parameters"] = PARAMETERS
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            _operation(operation, method.upper() in write_methods)
    return copy.deepcopy(document)  # shares nothing with this module's constants


PARAMETERS: dict[str, dict[str, Any]] = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": "Makes a retry safe: for 24 hours, per API key, the first final "
        "response to this key is replayed byte for byte (`Idempotent-Replayed: true`), "
        "whatever the method, path or body of the retry. Use a UUID per operation.",
        "schema": {
            "type": "string",
            "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]{0,253}[\\x21-\\x7e])?$",
        },
        "example": "7c4d2e1a-5b8f-4c3e-9a1d-2f6b8e0c4a7d",
    },
    "RequestId": {
        "name": "X-Request-Id",
        "in": "header",
        "required": False,
        "description": "Your id for this request (1-128 of `A-Za-z0-9._:-`), echoed in the "
        "X-Request-Id header and `meta.request_id`; otherwise one is minted.",
        "schema": {"type": "string"},
        "example": "checkout-7f3a",
    },
}
_REQUEST_ID = {
    "description": "The request's id, equal to `meta.request_id`: yours if you sent a valid "
    "X-Request-Id, else `req_` and 12 hex digits.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
}
# As ``lynsms.conventions.ratelimit.Quota.headers`` sends them: (description, integer bounds).
RATE_LIMIT_HEADERS: dict[str, tuple[str, dict[str, int] | None]] = {
    "X-RateLimit-Limit": ("Requests per minute allowed for this API key.", {"minimum": 1}),
    "X-RateLimit-Remaining": ("Requests left in the current minute.", {"minimum": 0}),
    "X-RateLimit-Reset": ("When the current minute ends, in Unix epoch seconds.", {}),
    "RateLimit-Policy": ('IETF draft: `"default";q=<limit>;w=60`.', None),
    "RateLimit": ('IETF draft: `"default";r=<remaining>;t=<seconds until reset>`.', None),
}
_RETRY_AFTER = {
    "description": "Whole seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 1},
}
_REPLAYED = {
    "description": "`true` on a stored response replayed for a repeated Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}
# Statuses an authenticated request always reaches after the rate limit counted it (so the
# headers are there), and those that may come before it (401 always does; 503 may not count).
_COUNTED = frozenset({"402", "404", "409", "422", "429"})
_MAYBE_COUNTED = frozenset({"400", "403", "413", "415"})
_REPLAYABLE = frozenset({"402", "404", "409", "422"})  # stored with 2xx (API.md §10)


def _operation(operation: dict[str, Any], write: bool) -> None:
    requirements = operation.get("security", [])
    scopes = [
        scope for requirement in requirements for each in requirement.values() for scope in each
    ]
    if scopes:
        text = f"Requires an API key with the `{'`, `'.join(scopes)}` scope."
        operation["description"] = "\n\n".join(filter(None, [text, operation.get("description")]))
    raised: list[Raised] = [AuthenticationError, InsufficientScope, "ip_not_allowed"]
    raised += [RateLimited, ServiceUnavailable]
    if write:
        raised += ["invalid_idempotency_key", "idempotency_key_in_use"]
        raised += [PayloadTooLarge, UnsupportedMediaType]
    if "requestBody" in operation:
        raised.append("invalid_json")
    parameters = operation.setdefault("parameters", [])
    if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
        raised.append("validation_error")
    parameters.append({"$ref": "#/components/parameters/RequestId"})
    if write:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    responses = operation["responses"]
    if _is_fastapi_422(responses.get("422")):
        del responses["422"]
    merge(responses, errors(*raised))
    for status, response in responses.items():
        response["headers"] = _headers(status, write)


def merge(responses: dict[str, Any], more: Responses) -> None:
    """Add ``more`` to ``responses``: the codes of a status both have are united."""
    for key, response in more.items():
        status = str(key)
        present = responses.get(status)
        if present is None or CODES not in present:
            responses[status] = response
            continue
        united = present[CODES] + [code for code in response[CODES] if code not in present[CODES]]
        responses[status] = error_response(united)


def _is_fastapi_422(response: dict[str, Any] | None) -> bool:
    return response is not None and CODES not in response


def _headers(status: str, write: bool) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Request-Id": _REQUEST_ID}
    success = status.startswith("2")
    if success or status in _COUNTED or status in _MAYBE_COUNTED:
        required = success or status in _COUNTED
        for name, (text, bounds) in RATE_LIMIT_HEADERS.items():
            schema = {"type": "string"} if bounds is None else {"type": "integer", **bounds}
            headers[name] = {"description": text, "required": required, "schema": schema}
    if status in ("409", "429", "503"):
        headers["Retry-After"] = {**_RETRY_AFTER, "required": status == "429"}
    if write and (success or status in _REPLAYABLE):
        headers["Idempotent-Replayed"] = _REPLAYED
    return headers


def _hoist_definitions(node: Any, schemas: dict[str, Any]) -> None:
    """Move the ``$defs`` of schemas written inline (``json_body``) to the components.

    Their ``$ref``s (``#/$defs/X``) point into the document's root, where nothing is.
    """
    if isinstance(node, list):
        for item in node:
            _hoist_definitions(item, schemas)
    if not isinstance(node, dict):
        return
    for name, schema in node.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
        _hoist_definitions(schema, schemas)
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node["$ref"] = REF + ref.removeprefix("#/$defs/")
    for value in node.values():
        _hoist_definitions(value, schemas)


def _restore_examples(schemas: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Put back the examples of the routes' models as written: FastAPI drops every null."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        body = route.body_field.field_info.annotation if route.body_field else None
        for model in (route.response_model, body):
            if isinstance(model, type) and issubclass(model, BaseModel):
                for name, schema in _component_schemas(model).items():
                    if "examples" in schema and name in schemas:
                        schemas[name]["examples"] = schema["examples"]


def _component_schemas(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema and the schemas it refers to, as OpenAPI components."""
    schema = model.model_json_schema(ref_template=REF + "{model}", mode="serialization")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return {**definitions, model.__name__: schema}
