"""``lynsms packages …``: prepaid SMS packages (seed 003), spent before money."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts import service as accounts_service
from lynsms.billing import service as billing_service
from lynsms.cli.common import JsonOption, emit, run_in_session
from lynsms.kit.clock import parse_timestamp

packages_app = typer.Typer(help="Prepaid SMS packages, spent before money.", no_args_is_help=True)
LIST_LIMIT = 1000


def parse_expiry(raw: str) -> datetime:
    """``2026-12-31`` (usable through that day, UTC) or an ISO-8601 datetime (no offset: UTC)."""
    text = raw.strip()
    try:
        return datetime.combine(date.fromisoformat(text), time(23, 59, 59), tzinfo=UTC)
    except ValueError:
        pass
    try:
        return parse_timestamp(text)
    except ValueError:
        raise typer.BadParameter(
            f"'{raw}' is neither a date (2026-12-31) nor an ISO-8601 datetime "
            "(2026-12-31T18:00:00+00:00)",
            param_hint="'--expires'",
        ) from None


@packages_app.command("grant")
def grant(
    account_id: str,
    name: str = typer.Option(..., "--name", help='What the customer sees, e.g. "100 SMS".'),
    sms: int = typer.Option(..., "--sms", help="SMS (segments) in the package."),
    expires: str = typer.Option(
        ..., "--expires", help="2026-12-31 (through that day, UTC) or an ISO-8601 datetime."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Give an account prepaid SMS; live sends spend them before money until they expire."""
    expire_at = parse_expiry(expires)
    package = run_in_session(
        lambda s: billing_service.grant_package(s, account_id, name, sms, expire_at)
    )
    body = billing_service.package_to_dict(package)
    emit(
        as_json,
        body,
        f"granted {body['id']} to {account_id}: '{body['name']}', "
        f"{sms} SMS until {body['expire_date']}",
    )


@packages_app.command("list")
def list_packages(account_id: str, as_json: bool = JsonOption) -> None:
    """An account's packages, newest first, expired ones included."""

    async def work(session: AsyncSession) -> tuple[list[dict[str, Any]], int]:
        await accounts_service.get_account(session, account_id)
        return await billing_service.list_packages(session, account_id, 0, LIST_LIMIT)

    packages, total = run_in_session(work)
    payload = {"account_id": account_id, "total": total, "packages": packages}
    emit(as_json, payload, "\n".join(map(_line, packages)) or f"{account_id} has no packages")


def _line(package: dict[str, Any]) -> str:
    state = " (expired)" if package["expired"] else ""
    return (
        f"{package['id']}  {package['name']}  {package['remaining_sms']} of "
        f"{package['total_sms']} SMS left  until {package['expire_date']}{state}"
    )
