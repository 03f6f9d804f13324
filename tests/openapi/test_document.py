"""The OpenAPI document describes exactly the public API, and what it says holds.

The document is read from the live server; the scope each operation names is what the
server enforces (a key without it gets 403 naming that scope).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from openapi_spec_validator import validate

import lynsms
from lynsms.accounts import scopes
from lynsms.api import router as api_router
from lynsms.conventions.ratelimit import Quota
from lynsms.exceptions import AuthenticationError, LynSMSError
from lynsms.kit import openapi
from lynsms.kit.envelope import ErrorEnvelope
from tests.conftest import LiveServer
from tests.factories import create_account, create_key

WRITE = {"post", "put", "patch", "delete"}
OPERATIONAL = ("/healthz", "/readyz", "/metrics", "/callbacks", "/docs", "/openapi.json")
SEND_422 = {"validation_error", "invalid_phone_number", "invalid_sender", "sender_not_approved"}
SEND_422 |= {"message_too_long", "empty_body", "invalid_schedule_date", "recipient_opted_out"}


@pytest.fixture
async def document(server: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def scope_of(path: str, method: str, operation: dict[str, Any]) -> str:
    """The one scope of the operation's one security requirement, the bearer key."""
    requirements = operation.get("security", [])
    assert [list(r) for r in requirements] == [["bearerAuth"]], (path, method, requirements)
    granted: list[str] = requirements[0]["bearerAuth"]
    assert len(granted) == 1, (path, method, granted)
    return granted[0]


def codes(operation: dict[str, Any], status: int) -> list[str]:
    found: list[str] = operation["responses"][str(status)][openapi.CODES]
    return found


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        for part in node["$ref"].removeprefix("#/").split("/"):
            document = document[part]
        node = document
    return node


async def test_docs_page_serves_the_document(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/docs")
    assert page.status_code == 200
    assert "/openapi.json" in page.text


async def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document)


async def test_only_the_public_api_is_documented(document: dict[str, Any]) -> None:
    documented = {(path, method.upper()) for path, method, _ in operations(document)}
    mounted = {
        (context.path, method)
        for context in iter_route_contexts(api_router.routes)
        if isinstance(context.original_route, APIRoute) and context.include_in_schema
        for method in context.methods or ()
    }
    assert documented == mounted
    assert all(path.startswith("/api/v1/") for path, _ in documented)
    assert not [path for path, _ in documented if path.startswith(OPERATIONAL)]


async def test_every_operation_requires_a_bearer_key_with_one_scope(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in operations(document):
        scope = scope_of(path, method, operation)
        assert scope in scopes.SCOPES, (path, method)
        assert operation["description"].startswith(f"Requires an API key with the `{scope}`")


async def test_the_documented_scope_is_the_one_enforced(
    server: LiveServer, document: dict[str, Any]
) -> None:
    account_id = await create_account(server.runtime)
    keys = {
        scope: await create_key(server.runtime, account_id, scopes=[scope])
        for scope in ("contacts:read", "media:read")
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for path, method, operation in operations(document):
            scope = scope_of(path, method, operation)
            key = keys["media:read" if scope != "media:read" else "contacts:read"]
            url = re.sub(r"\{[^}]+\}", "x", path)
            body: dict[str, Any] | None = {} if method in WRITE and method != "delete" else None
            headers = {"Authorization": f"Bearer {key}"}
            if "text/csv" in operation.get("requestBody", {}).get("content", {}):  # the import
                headers["Content-Type"], body = "text/csv", None
            response = await client.request(method, url, headers=headers, json=body)
            assert response.status_code == 403, (path, method, response.text)
            assert response.json()["error"]["required_scope"] == scope, (path, method)


async def test_every_operation_documents_the_conventions(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        where = (path, method)
        assert codes(operation, 401) == list(AuthenticationError.codes), where
        assert {"insufficient_scope", "ip_not_allowed"} <= set(codes(operation, 403)), where
        assert codes(operation, 429) == ["rate_limited"], where
        assert operation["responses"]["429"]["headers"]["Retry-After"]["required"], where
        assert codes(operation, 503) == ["service_unavailable"], where
        names = {resolve(document, p)["name"] for p in operation["parameters"]}
        assert "X-Request-Id" in names, where
        for status, response in operation["responses"].items():
            assert response["headers"]["X-Request-Id"]["required"], (where, status)
        if method in WRITE:
            assert "Idempotency-Key" in names, where
            assert "invalid_idempotency_key" in codes(operation, 400), where
            assert "idempotency_key_in_use" in codes(operation, 409), where
            assert codes(operation, 413) == ["payload_too_large"], where
            assert codes(operation, 415) == ["unsupported_media_type"], where
        else:
            assert "Idempotency-Key" not in names, where
            assert "413" not in operation["responses"], where


async def test_success_carries_the_rate_limit_headers_the_server_sends(
    document: dict[str, Any],
) -> None:
    sent = {name.decode() for name, _ in Quota(limit=10, used=1, reset_at=60, now=0).headers()}
    assert {name.lower() for name in openapi.RATE_LIMIT_HEADERS} == sent
    for path, method, operation in operations(document):
        success = [r for status, r in operation["responses"].items() if status.startswith("2")]
        assert success, (path, method)
        for response in success:
            for name in openapi.RATE_LIMIT_HEADERS:
                assert response["headers"][name]["required"], (path, method, name)
        assert "X-RateLimit-Limit" not in operation["responses"]["401"]["headers"]


async def test_sends_document_their_refusals(document: dict[str, Any]) -> None:
    send = document["paths"]["/api/v1/messages/send"]["post"]
    assert codes(send, 402) == ["insufficient_balance"]
    assert set(codes(send, 422)) >= SEND_422
    assert "invalid_json" in codes(send, 400)
    bulk = document["paths"]["/api/v1/messages/bulk"]["post"]
    assert codes(bulk, 402) == ["insufficient_balance"]
    assert {"too_many_recipients", "validation_error"} <= set(codes(bulk, 422))
    cancel = document["paths"]["/api/v1/messages/{message_id}/cancel"]["post"]
    assert set(codes(cancel, 409)) == {"message_not_cancellable", "idempotency_key_in_use"}


async def test_operations_on_an_id_document_404(document: dict[str, Any]) -> None:
    for path, _, operation in operations(document):
        if "{" in path:
            assert "not_found" in operation["responses"].get("404", {}).get(openapi.CODES, []), path


async def test_seed_examples_are_shown(document: dict[str, Any]) -> None:
    body = document["paths"]["/api/v1/messages/send"]["post"]["requestBody"]
    (example,) = body["content"]["application/json"]["schema"]["examples"]
    assert example == {
        "to": "+12025550143",
        "from": "LynSMS",
        "body": "Your verification code is 482194",
        "reference": "signup-9214",
    }
    message = document["components"]["schemas"]["MessageOut"]["examples"][0]
    assert message["id"] == "msg_VyB2pNkX0wnA9aTrLqDh1Z3Fc"
    assert document["components"]["schemas"]["Pagination"]["examples"][0]["total_items"] == 134


async def test_every_example_fits_its_schema(document: dict[str, Any]) -> None:
    root = {"components": document["components"]}
    checked = 0
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            _validate(root, {"$ref": f"#/components/schemas/{name}"}, example)
            checked += 1
    for _, _, operation in operations(document):
        for response in operation["responses"].values():
            for media in response.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    _validate(root, media["schema"], example["value"])
                    checked += 1
    assert checked > 50


def _validate(root: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    jsonschema_rs.validator_for({**root, **schema}).validate(value)


async def test_every_reference_resolves(document: dict[str, Any]) -> None:
    text = str(document)
    refs = set(re.findall(r"'\$ref': '([^']+)'", text))
    assert refs
    for ref in refs:
        assert resolve(document, {"$ref": ref}), ref
    assert "$defs" not in text


def test_error_codes_are_unique_and_every_code_raised_is_documented() -> None:
    classes = [cls for cls in _subclasses(LynSMSError) if "codes" in cls.__dict__]
    documented = [code for cls in classes for code in cls.__dict__["codes"]]
    assert len(documented) == len(set(documented))
    package = Path(lynsms.__file__).parent
    raised = {
        code
        for path in package.rglob("*.py")
        if "dialects" not in path.relative_to(package).parts
        for code in re.findall(r'\bcode="([a-z_]+)"', path.read_text())
    }
    assert raised, "the scan found nothing: has the way errors are raised changed?"
    assert raised <= set(documented), raised - set(documented)


def test_an_error_example_is_the_envelope_the_handler_renders() -> None:
    response = openapi.errors("insufficient_scope")[403]
    value = response["content"]["application/json"]["examples"]["insufficient_scope"]["value"]
    envelope = ErrorEnvelope.model_validate(value)
    assert envelope.error.required_scope == "messages:send"
    assert envelope.error.granted_scopes == ["messages:read"]


def _subclasses(cls: type[LynSMSError]) -> list[type[LynSMSError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _subclasses(child))]
