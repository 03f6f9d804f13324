"""Schemathesis against the live server (SQLite and PostgreSQL): every operation, fuzzed.

Per operation: the schema's examples, schemathesis' coverage cases (boundaries and
each constraint broken in turn) and ``FUZZ_EXAMPLES`` generated cases, valid and
invalid (``LYNSMS_FUZZ_EXAMPLES`` overrides it). Each case is sent with one of the
customer's keys (live, test, read-only, or one that is not a key), and a path id is
either generated or one that exists, so that success, 401, 403, 404 and 409 are all
reached. Every response must be no 5xx, a documented status, of the documented
content type, conform to the schema of that status (body and headers), and a route
that answers 2xx must refuse the same request without a key.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import MutableMapping
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lynsms.app import create_app
from lynsms.config import Settings
from tests.openapi.conftest import Fuzzed

FUZZ_EXAMPLES = int(os.environ.get("LYNSMS_FUZZ_EXAMPLES", "15"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]
# Who calls: mostly keys that may do everything, sometimes one that may only read, rarely
# something that is not a key at all.
CALLERS = ["live", "live", "test", "test", "read_only", "bogus"]
CALLER = "X-Fuzz-Caller"  # drawn with the headers, taken out of them before the call
KNOWN = "KnownId"  # a path parameter drawn as an existing id: KnownId<index in Fuzzed.ids>
UNUSED_DB = "sqlite+aiosqlite:///:memory:"  # the app is only asked for its document
_VALID_IDEMPOTENCY_KEY = re.compile(r"[\x20-\x7e]{1,255}")


# The document the server serves (a plain test checks that /openapi.json is this document).
schema = schemathesis.openapi.from_dict(create_app(Settings(database_url=UNUSED_DB)).openapi())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=FUZZ_EXAMPLES,
    with_security_parameters=False,
)


@schema.hook
def flatmap_headers(context: Any, headers: dict[str, Any] | None) -> Any:
    """Draw the caller; the test sends its key (schemathesis knows it as given, not generated)."""
    return st.sampled_from(CALLERS).map(lambda caller: {**(headers or {}), CALLER: caller})


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Draw a generated id or one the fixture made (by position; kept as drawn if it made none)."""
    generated = path_parameters or {}
    known = [{**generated, name: f"{KNOWN}{i}"} for name in generated for i in range(2)]
    return st.sampled_from([generated, *known])


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_conforms(case: Case[Any], fuzzed: Fuzzed) -> None:
    headers: MutableMapping[str, Any] = case.headers or {}
    caller = headers.pop(CALLER, "live")
    for name, value in (case.path_parameters or {}).items():
        ids = fuzzed.ids.get(name)
        if ids and isinstance(value, str) and value.startswith(KNOWN):
            case.path_parameters[name] = ids[int(value[len(KNOWN) :]) % len(ids)]
    _fresh_idempotency_key(case)
    case.call_and_validate(
        base_url=fuzzed.url, headers=_authorization(fuzzed, caller), checks=CHECKS, timeout=30
    )


def _authorization(fuzzed: Fuzzed, caller: str) -> dict[str, str]:
    key = fuzzed.keys.get(caller, "ds_live_" + "0" * 32)  # "bogus": shaped like a key, not one
    return {"Authorization": f"Bearer {key}"}


def _fresh_idempotency_key(case: Case[Any]) -> None:
    """A valid generated Idempotency-Key becomes a unique one.

    Keys are scoped to the API key, not to the path: a key the fuzzer generated twice
    (it likes "0") would replay another operation's stored response, as API.md §7 says
    it must. An invalid one is kept, to be refused with 400.
    """
    headers: MutableMapping[str, Any] = case.headers or {}
    value = headers.get("Idempotency-Key")
    if isinstance(value, str) and _VALID_IDEMPOTENCY_KEY.fullmatch(value.strip()):
        headers["Idempotency-Key"] = str(uuid.uuid4())
