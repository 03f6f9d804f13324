"""The ``lynsms`` command: operator tasks and the server roles."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from decimal import Decimal

import typer
import uvicorn

from lynsms.accounts import service as accounts_service
from lynsms.accounts.schemas import ApiKeyCreate
from lynsms.cli.accounts import accounts_app, keys_app
from lynsms.cli.common import JsonOption, emit, run_in_session
from lynsms.cli.contacts import contacts_app
from lynsms.cli.db import app as db_app
from lynsms.cli.db import database_is_empty, upgrade_database
from lynsms.cli.packages import packages_app
from lynsms.config import get_settings
from lynsms.kit.logging import configure as configure_logging
from lynsms.kit.logging import get_logger
from lynsms.senders import service as senders_service

app = typer.Typer(help="LynSMS: SMS orchestration.", no_args_is_help=True)
SERVICES = ("serve", "worker")  # long-running: keep the configured SQLite busy timeout
OPERATOR_BUSY_TIMEOUT = "60"  # seconds an operator command waits for a busy SQLite writer


@app.callback()
def _operator_defaults(ctx: typer.Context) -> None:
    """Before any settings are read: operator commands wait longer for SQLite's lock."""
    if ctx.invoked_subcommand not in SERVICES:
        os.environ.setdefault("LYNSMS_DATABASE__SQLITE_BUSY_TIMEOUT", OPERATOR_BUSY_TIMEOUT)


app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(packages_app, name="packages")
app.add_typer(contacts_app, name="contacts")
senders_app = typer.Typer(help="Sender ids.", no_args_is_help=True)
app.add_typer(senders_app, name="senders")

DEMO_EMAIL = "demo@lynsms.local"
DEMO_SENDER = "LynSMS"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8080, "--port"),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="API only; run `lynsms worker` apart."
    ),
    workers: int = typer.Option(1, "--workers", help="API processes (PostgreSQL for more than 1)."),
) -> None:
    """Serve the API (and, unless --no-worker, the dispatcher in the same process)."""
    if no_worker:  # before the settings are read (and cached): the app reads them again
        os.environ["LYNSMS_RUN_WORKER"] = "0"
    settings = get_settings()
    if database_is_empty():
        upgrade_database()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        "lynsms.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=15,
        backlog=4096,
    )


@app.command()
def worker(
    concurrency: int = typer.Option(
        0, "--concurrency", help="Provider calls in flight (default LYNSMS_WORKER__CONCURRENCY)."
    ),
) -> None:
    """Run the dispatcher alone: queued and scheduled messages, retries, reports, webhooks."""
    from lynsms.runtime import open_runtime
    from lynsms.worker.runner import Worker

    if concurrency > 0:  # before the settings are read
        os.environ["LYNSMS_WORKER__CONCURRENCY"] = str(concurrency)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if database_is_empty():
        upgrade_database()
    log = get_logger("lynsms.worker")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with open_runtime(settings) as runtime:
            runner = Worker(runtime)
            runner.start()
            log.info("worker started", pid=os.getpid())
            await stop.wait()
            started = time.monotonic()
            log.info("worker stopping: no new work is claimed")
            await runner.stop()
        log.info("worker stopped", seconds=round(time.monotonic() - started, 3))

    asyncio.run(main())


TOKEN_PROVIDERS = ("sinch", "infobip", "clicksend")


@app.command()
def providers(
    server: str = typer.Option(
        "http://127.0.0.1:8080", "--server", help="A running server, for health."
    ),
    as_json: bool = JsonOption,
) -> None:
    """The configured providers, their circuit state, and the callback URLs to register."""
    settings = get_settings()
    health = _provider_health(server)
    base = settings.server.public_url.rstrip("/")
    listed = []
    for name, section in settings.providers.items():
        token = section.get("callback_token")
        query = f"?token={token}" if token and name in TOKEN_PROVIDERS else ""
        listed.append(
            {
                "name": name,
                "health": health.get(name, "unknown (server not reachable)"),
                "status_callback_url": f"{base}/callbacks/{name}/status{query}",
                "inbound_callback_url": f"{base}/callbacks/{name}/inbound{query}",
            }
        )
    if not listed:
        emit(as_json, {"providers": []}, "No provider configured: live messages use the simulator.")
        return
    lines = [
        f"{p['name']}: {p['health']}\n  status:  {p['status_callback_url']}\n"
        f"  inbound: {p['inbound_callback_url']}"
        for p in listed
    ]
    emit(as_json, {"providers": listed}, "\n".join(lines))


def _provider_health(server: str) -> dict[str, str]:
    import httpx

    try:
        body = httpx.get(f"{server.rstrip('/')}/readyz", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}
    providers_health: dict[str, str] = body.get("providers", {})
    return {name: f"circuit {state}" for name, state in providers_health.items()}


@senders_app.command("approve")
def approve_sender(account_id: str, sender: str, as_json: bool = JsonOption) -> None:
    """Approve a sender id (created approved when it does not exist)."""

    async def work(session):  # type: ignore[no-untyped-def]
        await accounts_service.get_account(session, account_id)
        return await senders_service.approve(session, account_id, sender)

    row = run_in_session(work)
    emit(as_json, senders_service.sender_to_dict(row), f"{row.sender_id} approved ({row.id})")


@app.command()
def bootstrap(
    url: str = typer.Option(
        "http://127.0.0.1:8080", "--url", help="Base URL shown in the curl line."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Idempotent: a demo account, an approved demo sender and a fresh test key."""
    if database_is_empty():
        upgrade_database()

    async def work(session):  # type: ignore[no-untyped-def]
        account = await accounts_service.find_account_by_email(session, DEMO_EMAIL)
        if account is None:
            account = await accounts_service.create_account(
                session, name="Demo", email=DEMO_EMAIL, balance=Decimal("10.00"), currency="USD"
            )
        await senders_service.approve(session, account.id, DEMO_SENDER)
        spec = ApiKeyCreate(name="demo test key", environment="test")
        _, raw = await accounts_service.create_key(session, account.id, spec)
        return account.id, raw

    account_id, raw = run_in_session(work)
    curl = (
        f"curl {url}/api/v1/messages/send -H 'Authorization: Bearer {raw}' "
        "-H 'Content-Type: application/json' "
        f'-d \'{{"to": "+12025550143", "from": "{DEMO_SENDER}", '
        '"body": "Your verification code is 482194"}\''
    )
    payload = {"account_id": account_id, "api_key": raw, "sender": DEMO_SENDER, "curl": curl}
    emit(
        as_json,
        payload,
        f"account {account_id}\ntest key {raw}\nsender {DEMO_SENDER}\n\nTry it:\n{curl}",
    )
