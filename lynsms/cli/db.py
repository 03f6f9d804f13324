"""``lynsms db …``: migrations."""

from __future__ import annotations

import asyncio

import typer
from alembic import command
from sqlalchemy import inspect

from lynsms.config import get_settings
from lynsms.database import create_engine
from lynsms.migrations import alembic_config

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


def upgrade_database() -> None:
    command.upgrade(alembic_config(get_settings().database_url), "heads")


def database_is_empty() -> bool:
    async def check() -> bool:
        engine = create_engine(get_settings())
        try:
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            await engine.dispose()
        return "alembic_version" not in tables

    return asyncio.run(check())


@app.command("upgrade")
def upgrade() -> None:
    """Apply every migration not yet applied."""
    upgrade_database()
    typer.echo("database is up to date")
