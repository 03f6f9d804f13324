"""What every command shares: running a service inside a committed session, printing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.config import get_settings
from lynsms.database import Database, session_scope
from lynsms.exceptions import LynSMSError

T = TypeVar("T")
console = Console()
JsonOption = typer.Option(False, "--json", help="Print exactly one JSON object on stdout.")


def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in a session that commits when it returns; exit 1 with the error if not."""

    async def main() -> T:
        database = Database(get_settings())
        try:
            async with session_scope(database, write=True) as session:
                return await work(session)
        finally:
            await database.close()

    from lynsms.cli.db import database_is_empty, upgrade_database

    if database_is_empty():
        upgrade_database()
    try:
        return asyncio.run(main())
    except LynSMSError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}", highlight=False)
        raise typer.Exit(1) from None


def emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    if as_json:
        typer.echo(json.dumps(payload, default=str))
    else:
        console.print(human, highlight=False, soft_wrap=True)
