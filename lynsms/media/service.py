"""Media (API.md §8, §12): upload, read, delete, expiry, and the media of an MMS send.

An upload is checked while it is copied to ``LYNSMS_MEDIA_DIR`` (``storage``); the row
commits after the file is whole. The public URL is ``[server] public_url`` +
``/media/<token><ext>``, ``token`` 192 random bits: the id alone never reaches a file.
Media expire 30 days after upload: the URL answers 404 at once, and the worker's purge
(``purge_expired``) deletes files and rows. A deleted media's URL answers 404 too.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts.auth import Principal
from lynsms.database import Database, session_scope
from lynsms.exceptions import NotFound, ValidationFailed
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.media.repository import MediaRepository
from lynsms.media.storage import EXTENSIONS, MediaStore
from lynsms.runtime import Runtime

LIFETIME = timedelta(days=30)
PUBLIC_PREFIX = "/media/"
PURGE_BATCH = 500


def store_of(runtime: Runtime) -> MediaStore:
    return MediaStore(Path(runtime.settings.media_dir))


def public_url(runtime: Runtime, row: RowMapping | dict[str, Any]) -> str:
    base = runtime.settings.server.public_url.rstrip("/")
    return f"{base}{PUBLIC_PREFIX}{row['token']}{EXTENSIONS.get(row['content_type'], '')}"


def media_to_dict(runtime: Runtime, row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "media",
        "content_type": row["content_type"],
        "size": row["size"],
        "url": public_url(runtime, row),
        "created_at": isoformat(row["created_at"]),
        "expires_at": isoformat(row["expires_at"]),
    }


async def create_media(
    runtime: Runtime, principal: Principal, source: BinaryIO, content_type: str
) -> dict[str, Any]:
    """Store the upload (``content_type`` already one of the allowed); the media object."""
    store = store_of(runtime)
    media_id = new_id("med")
    size = await asyncio.to_thread(store.write, source, media_id, content_type)
    now = utcnow()
    row = {
        "id": media_id,
        "account_id": principal.account_id,
        "mode": principal.environment,
        "content_type": content_type,
        "size": size,
        "token": secrets.token_urlsafe(24),  # 192 bits
        "created_at": now,
        "expires_at": now + LIFETIME,
    }
    try:
        async with session_scope(runtime.database, write=True) as session:
            await MediaRepository(session).add(row)
    except BaseException:
        store.remove(media_id)
        raise
    return media_to_dict(runtime, row)


async def get_media(
    runtime: Runtime, session: AsyncSession, principal: Principal, media_id: str
) -> dict[str, Any]:
    return media_to_dict(runtime, await _get(session, principal, media_id))


async def list_media(
    runtime: Runtime, session: AsyncSession, principal: Principal, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    rows, total = await MediaRepository(session).page(
        principal.account_id, principal.environment, offset, limit
    )
    return [media_to_dict(runtime, row) for row in rows], total


async def delete_media(runtime: Runtime, principal: Principal, media_id: str) -> dict[str, Any]:
    """Delete the row, then the file: its URL answers 404 from the commit on."""
    async with session_scope(runtime.database, write=True) as session:
        row = await _get(session, principal, media_id)
        await MediaRepository(session).delete(media_id)
    store_of(runtime).remove(media_id)
    return media_to_dict(runtime, row)


async def _get(session: AsyncSession, principal: Principal, media_id: str) -> RowMapping:
    row = await MediaRepository(session).get(principal.account_id, principal.environment, media_id)
    if row is None or row["expires_at"] <= utcnow():
        raise NotFound(f"No media {media_id}.", param="id")
    return row


async def public_file(runtime: Runtime, name: str) -> tuple[Path, str] | None:
    """The file and content type behind a public media URL's last segment, if it is live."""
    token, _, extension = name.partition(".")
    if not token or len(token) > 64:
        return None
    async with runtime.database.read_sessions() as session:
        row = await MediaRepository(session).by_token(token, utcnow())
    if row is None or (extension and f".{extension}" != EXTENSIONS.get(row["content_type"])):
        return None
    path = store_of(runtime).path(row["id"])
    return (path, row["content_type"]) if path.is_file() else None


async def urls_for_send(
    runtime: Runtime, principal: Principal, media_ids: Sequence[str]
) -> list[str]:
    """The public URLs of a send's ``media_ids``, in order; 422 ``unknown_media`` for an id
    that is not this account's (in this key's mode) or has expired."""
    if not media_ids:
        return []
    async with runtime.database.read_sessions() as session:
        found = await MediaRepository(session).usable(
            principal.account_id, principal.environment, list(set(media_ids)), utcnow()
        )
    for media_id in media_ids:
        if media_id not in found:
            raise ValidationFailed(
                f"No media {media_id} in this account (or it has expired).",
                code="unknown_media",
                param="media_ids",
            )
    return [public_url(runtime, found[media_id]) for media_id in media_ids]


async def purge_expired(database: Database, store: MediaStore, now: datetime) -> int:
    """Remove the files and rows of media past their expiry, a batch per transaction."""
    total = 0
    while True:
        async with session_scope(database, write=False) as session:
            ids = await MediaRepository(session).expired(now, PURGE_BATCH)
        for media_id in ids:  # files first: a crash in between leaves rows, purged next time
            await asyncio.to_thread(store.remove, media_id)
        async with session_scope(database, write=True) as session:
            await MediaRepository(session).delete_many(ids)
        total += len(ids)
        if len(ids) < PURGE_BATCH:
            return total
