"""Typed factories: accounts, keys and senders made through the services, committed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lynsms.accounts import service as accounts_service
from lynsms.accounts.schemas import ApiKeyCreate
from lynsms.database import session_scope
from lynsms.runtime import Runtime
from lynsms.senders import service as senders_service


@dataclass
class Customer:
    account_id: str
    live_key: str
    test_key: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.live_key}"}

    @property
    def live(self) -> dict[str, str]:
        return self.headers(self.live_key)

    @property
    def test(self) -> dict[str, str]:
        return self.headers(self.test_key)


async def create_account(runtime: Runtime, balance: str = "10.00") -> str:
    async with session_scope(runtime.database, write=True) as session:
        account = await accounts_service.create_account(
            session, name="Test", email="test@example.com", balance=Decimal(balance), currency="USD"
        )
        return account.id


async def create_key(
    runtime: Runtime,
    account_id: str,
    environment: str = "live",
    scopes: list[str] | None = None,
    **extra: object,
) -> str:
    spec = ApiKeyCreate(environment=environment, scopes=scopes or ["*"], **extra)  # type: ignore[arg-type]
    async with session_scope(runtime.database, write=True) as session:
        _, raw = await accounts_service.create_key(session, account_id, spec)
        return raw


async def approve_sender(runtime: Runtime, account_id: str, sender: str = "LynSMS") -> None:
    async with session_scope(runtime.database, write=True) as session:
        await senders_service.approve(session, account_id, sender)


async def create_customer(runtime: Runtime, balance: str = "10.00") -> Customer:
    account_id = await create_account(runtime, balance)
    await approve_sender(runtime, account_id)
    return Customer(
        account_id=account_id,
        live_key=await create_key(runtime, account_id, "live"),
        test_key=await create_key(runtime, account_id, "test"),
    )
