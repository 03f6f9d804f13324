"""The account's LightningMSG ``secret_code``: random, shown once, stored as SHA-256.

A secret carries 192 random bits, so a fast hash is enough (as for API keys).
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts import service as accounts_service
from lynsms.dialects.lightningmsg.repository import LightningRepository
from lynsms.kit.clock import utcnow
from lynsms.kit.ids import new_secret


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def rotate(session: AsyncSession, account_id: str) -> str:
    """Give the account a new secret_code (the old one stops working); the raw code."""
    await accounts_service.get_account(session, account_id)  # 404 for an unknown account
    raw = new_secret("", 24)
    await LightningRepository(session).replace_secret(account_id, hash_secret(raw), utcnow())
    return raw


async def matches(session: AsyncSession, account_id: str, raw: str) -> bool:
    stored = await LightningRepository(session).secret_hash(account_id)
    return stored is not None and hmac.compare_digest(stored, hash_secret(raw))
