"""Endpoint secrets and Standard Webhooks v1 signatures.

An endpoint's signing secret is never stored: it is ``whsec_`` + base64 of
HMAC-SHA256(server key, endpoint id), 32 bytes, so every node holding the same
server key derives the same secret and the official ``standardwebhooks``
libraries accept it. The server key is ``settings.secret_key``, else the text of
``settings.secret_key_file``, created on first use (32 random bytes, URL-safe
base64, mode 0600); copying that text into ``LYNSMS_SECRET_KEY`` on another node
gives the same secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from standardwebhooks import Webhook

from lynsms.config import Settings
from lynsms.kit.logging import get_logger

SECRET_PREFIX = "whsec_"
HINT_CHARS = 4

log = get_logger("lynsms.webhooks")


def server_key(settings: Settings) -> bytes:
    """The key every endpoint secret is derived from (never logged)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.secret_key_file.resolve()
    if not settings.is_sqlite:
        _warn_unshared(str(path))
    return _key_file(path)


@lru_cache(maxsize=8)
def _warn_unshared(path: str) -> None:
    """Once per process: several nodes with their own key files sign with different keys."""
    log.warning(
        "LYNSMS_SECRET_KEY is not set: webhook secrets derive from a key file of this node; "
        "set the same LYNSMS_SECRET_KEY on every node",
        key_file=path,
    )


@lru_cache(maxsize=8)
def _key_file(path: Path) -> bytes:
    if not path.exists():
        _create_key_file(path)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"the secret key file {path} is empty")
    return key.encode()


def _create_key_file(path: Path) -> None:
    """Write a fresh key atomically; if another process won the race, keep its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)  # fails if the file appeared meanwhile
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def endpoint_secret(key: bytes, endpoint_id: str) -> str:
    """``whsec_…``: the endpoint's signing secret, derived from the server key."""
    digest = hmac.new(key, endpoint_id.encode(), hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()


def secret_hint(secret: str) -> str:
    return secret[-HINT_CHARS:]


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the decoded secret."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    signature: str = Webhook(secret).sign(message_id, moment, body.decode())
    return signature


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
