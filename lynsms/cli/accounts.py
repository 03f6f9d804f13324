"""``lynsms accounts …`` and ``lynsms keys …``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import typer
from pydantic import ValidationError

from lynsms.accounts import scopes as scope_rules
from lynsms.accounts import service as accounts_service
from lynsms.accounts.schemas import ApiKeyCreate
from lynsms.billing import service as billing_service
from lynsms.cli.common import JsonOption, emit, run_in_session
from lynsms.dialects.lightningmsg import secrets as lightningmsg_secrets
from lynsms.kit.money import to_number

accounts_app = typer.Typer(help="Customer accounts.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)


def _amount(raw: str) -> Decimal:
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise typer.BadParameter(f"'{raw}' is not an amount") from None


@accounts_app.command("create")
def create(
    name: str = typer.Option(..., "--name"),
    email: str = typer.Option(..., "--email"),
    balance: str = typer.Option("10.00", "--balance"),
    currency: str = typer.Option("USD", "--currency"),
    as_json: bool = JsonOption,
) -> None:
    """Create an account with an opening balance."""
    account = run_in_session(
        lambda s: accounts_service.create_account(
            s, name=name, email=email, balance=_amount(balance), currency=currency
        )
    )
    body = accounts_service.account_to_dict(account)
    emit(as_json, body, f"created account {account.id} ({name}), balance {body['balance']}")


@accounts_app.command("credit")
def credit(account_id: str, amount: str, as_json: bool = JsonOption) -> None:
    """Top up an account's balance."""
    units = run_in_session(
        lambda s: billing_service.top_up(s, account_id, _amount(amount), "top-up")
    )
    emit(
        as_json,
        {"account_id": account_id, "balance": to_number(units)},
        f"{account_id} balance is now {to_number(units):.4f}",
    )


@accounts_app.command("secret")
def secret(account_id: str, as_json: bool = JsonOption) -> None:
    """Rotate the account's LightningMSG secret_code and print it (shown once; API.md §11)."""
    code = run_in_session(lambda s: lightningmsg_secrets.rotate(s, account_id))
    emit(
        as_json,
        {"account_id": account_id, "secret_code": code},
        f"{account_id} secret_code: {code}",
    )


@keys_app.command("create")
def create_key(
    account: str = typer.Option(..., "--account"),
    env: str = typer.Option(..., "--env", help="live or test"),
    scopes: str = typer.Option(scope_rules.ALL, "--scopes", help="Comma-separated; default *."),
    name: str = typer.Option("", "--name"),
    rate_limit_per_minute: int | None = typer.Option(None, "--rate-limit-per-minute"),
    as_json: bool = JsonOption,
) -> None:
    """Mint an API key; the raw key is printed once."""
    if env not in ("live", "test"):
        raise typer.BadParameter("--env must be live or test")
    try:
        spec = ApiKeyCreate.model_validate(
            {
                "name": name,
                "environment": env,
                "scopes": [s.strip() for s in scopes.split(",") if s.strip()],
                "rate_limit_per_minute": rate_limit_per_minute,
            }
        )
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"]) from None

    async def work(session):  # type: ignore[no-untyped-def]
        await accounts_service.get_account(session, account)
        return await accounts_service.create_key(session, account, spec)

    key, raw = run_in_session(work)
    emit(as_json, accounts_service.key_to_dict(key, raw), f"{key.id} ({env}): {raw}")
