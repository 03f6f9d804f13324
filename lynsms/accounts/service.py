"""Accounts and API keys: creation, listing, revocation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts import scopes as scope_rules
from lynsms.accounts.auth import KeyCache, Principal, hash_key
from lynsms.accounts.repository import AccountRepository, ApiKeyRepository
from lynsms.accounts.schemas import ApiKeyCreate
from lynsms.billing import service as billing_service
from lynsms.database import on_commit
from lynsms.exceptions import NotFound, PermissionDenied, ValidationFailed
from lynsms.kit.clock import as_utc, isoformat, utcnow
from lynsms.kit.ids import new_id, new_secret
from lynsms.kit.money import to_number
from lynsms.models import Account, ApiKey


async def create_account(
    session: AsyncSession, *, name: str, email: str, balance: Decimal, currency: str
) -> Account:
    account = Account(
        id=new_id("acct"),
        name=name,
        email=email,
        currency=currency.upper(),
        balance_units=0,
        created_at=utcnow(),
    )
    await AccountRepository(session).add(account)
    if balance > 0:
        await billing_service.top_up(session, account.id, balance, "opening balance")
    await session.refresh(account)
    return account


async def get_account(session: AsyncSession, account_id: str) -> Account:
    account = await AccountRepository(session).get(account_id)
    if account is None:
        raise NotFound(f"No account {account_id}.", param="account_id")
    return account


async def find_account_by_email(session: AsyncSession, email: str) -> Account | None:
    return await AccountRepository(session).get_by_email(email)


async def create_key(
    session: AsyncSession, account_id: str, spec: ApiKeyCreate
) -> tuple[ApiKey, str]:
    raw = new_secret(f"ds_{spec.environment}_", 24)
    key = ApiKey(
        id=new_id("key"),
        account_id=account_id,
        name=spec.name,
        environment=spec.environment,
        scopes=spec.scopes,
        prefix=raw[:12],
        key_hash=hash_key(raw),
        rate_limit_per_minute=spec.rate_limit_per_minute,
        allowed_ips=spec.allowed_ips,
        expires_at=spec.expires_at,
        created_at=utcnow(),
    )
    await ApiKeyRepository(session).add(key)
    return key, raw


async def create_key_as(
    session: AsyncSession, principal: Principal, spec: ApiKeyCreate
) -> tuple[ApiKey, str]:
    """A key minting a key: never more scopes, never live from test, never a past expiry."""
    if principal.is_test and spec.environment == "live":
        raise PermissionDenied(
            "A test key cannot create a live key.",
            code="environment_not_allowed",
            param="environment",
        )
    if not scope_rules.covers(principal.scopes, set(spec.scopes)):
        raise PermissionDenied(
            "A key cannot grant scopes it does not have.",
            code="insufficient_scope",
            param="scopes",
            required_scope=",".join(spec.scopes),
            granted_scopes=sorted(principal.scopes),
        )
    if spec.expires_at is not None and as_utc(spec.expires_at) <= utcnow():
        raise ValidationFailed("expires_at must be in the future.", param="expires_at")
    spec.expires_at = as_utc(spec.expires_at) if spec.expires_at else None
    return await create_key(session, principal.account_id, spec)


async def list_keys(
    session: AsyncSession, account_id: str, offset: int, limit: int
) -> tuple[list[ApiKey], int]:
    return await ApiKeyRepository(session).list(account_id, offset, limit)


async def revoke_key(
    session: AsyncSession, account_id: str, key_id: str, cache: KeyCache
) -> ApiKey:
    repository = ApiKeyRepository(session)
    key = await repository.get(account_id, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.", param="id")
    if key.revoked_at is None:
        await repository.revoke(key, utcnow())
    cache.evict_key(key.id)
    on_commit(session, lambda: cache.evict_key(key_id))  # a reload racing the commit
    return key


def key_to_dict(key: ApiKey, raw: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": key.id,
        "object": "api_key",
        "name": key.name,
        "environment": key.environment,
        "scopes": list(key.scopes),
        "prefix": key.prefix,
        "rate_limit_per_minute": key.rate_limit_per_minute,
        "allowed_ips": list(key.allowed_ips or []),
        "expires_at": isoformat(key.expires_at),
        "last_used_at": isoformat(key.last_used_at),
        "created_at": isoformat(key.created_at),
        "revoked_at": isoformat(key.revoked_at),
    }
    if raw is not None:
        body["key"] = raw
    return body


def account_to_dict(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "object": "account",
        "name": account.name,
        "email": account.email,
        "currency": account.currency,
        "balance": to_number(account.balance_units),
        "created_at": isoformat(account.created_at),
    }
