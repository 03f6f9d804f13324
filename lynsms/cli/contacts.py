"""``lynsms contacts import FILE --account ACCOUNT_ID``: the API's CSV import, from a file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lynsms.accounts import service as accounts_service
from lynsms.cli.common import JsonOption, console, emit
from lynsms.cli.db import database_is_empty, upgrade_database
from lynsms.config import get_settings
from lynsms.contacts import importer
from lynsms.database import Database, session_scope
from lynsms.exceptions import LynSMSError

contacts_app = typer.Typer(help="Contacts.", no_args_is_help=True)
SHOWN_FAILURES = 20  # in the human summary; --json has them all


@contacts_app.command("import")
def import_file(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    account: str = typer.Option(..., "--account", help="The account to import into."),
    as_json: bool = JsonOption,
) -> None:
    """Create or update contacts from a CSV file, as POST /contacts/import does
    (columns phone,name,email,tags and attributes.<key>)."""
    if database_is_empty():
        upgrade_database()
    try:
        result = asyncio.run(_import(account, file.read_bytes()))
    except LynSMSError as exc:
        console.print(f"[red]error[/red] {exc.code}: {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    emit(as_json, result, _summary(result))


async def _import(account_id: str, data: bytes) -> dict[str, Any]:
    database = Database(get_settings())
    try:
        async with session_scope(database, write=False) as session:
            await accounts_service.get_account(session, account_id)
        with _progress() as bar:  # on stderr: stdout stays one JSON object with --json
            task = bar.add_task("Checking rows", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, description="Importing", completed=done, total=total)

            return await importer.import_csv(database, account_id, data, advance)
    finally:
        await database.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _summary(result: dict[str, Any]) -> str:
    failed = result["failed"]
    lines = [f"created {result['created']}, updated {result['updated']}, failed {len(failed)}"]
    lines += [
        f"  row {item['row']}: {item['error']['code']}: {item['error']['message']}"
        for item in failed[:SHOWN_FAILURES]
    ]
    if len(failed) > SHOWN_FAILURES:
        lines.append(f"  … and {len(failed) - SHOWN_FAILURES} more (--json lists them all)")
    return "\n".join(lines)
