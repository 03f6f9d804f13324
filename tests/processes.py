"""Real ``lynsms`` processes for the crash and multi-process tests: start, wait, kill."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from lynsms.models import Event, Message
from tests.gateway import TWILIO_SID, TWILIO_TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(database_url: str, **settings: str) -> dict[str, str]:
    """This process's environment without any ``LYNSMS_*`` variable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNSMS_")}
    env.update(
        LYNSMS_DATABASE_URL=database_url,
        LYNSMS_LOG_LEVEL="ERROR",
        LYNSMS_SECRET_KEY="processes-test-secret",
        **settings,
    )
    return env


def twilio_provider(base_url: str, **extra: Any) -> str:
    """``LYNSMS_PROVIDERS`` naming only Twilio (at a fake), as JSON."""
    section = {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "base_url": base_url}
    return json.dumps({"twilio": {**section, **extra}})


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "lynsms", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    parsed: dict[str, Any] = json.loads(out.stdout)
    return parsed


def live_customer(env: dict[str, str], balance: str = "1000.00") -> str:
    """A funded account with an approved ``LynSMS`` sender; its live key."""
    account = cli(
        env, "accounts", "create", "--name", "P", "--email", "p@example.com", "--balance", balance
    )
    cli(env, "senders", "approve", account["id"], "LynSMS")
    key: str = cli(env, "keys", "create", "--account", account["id"], "--env", "live")["key"]
    return key


def spawn(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    output = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "lynsms", *args], env=env, stdout=output, stderr=output
    )


async def serve(
    env: dict[str, str], port: int, *args: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """``lynsms serve`` on ``port``, once it answers /readyz."""
    process = spawn(env, "serve", "--port", str(port), *args, log=log)
    deadline = time.monotonic() + 40
    async with httpx.AsyncClient(timeout=1) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"lynsms serve exited with {process.returncode}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError("lynsms serve did not start")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no shutdown code runs."""
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


def terminate(process: subprocess.Popen[bytes], timeout: float = 30) -> float:
    """SIGTERM; how long the process took to exit."""
    started = time.monotonic()
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=timeout)
    return time.monotonic() - started


async def wait_until(predicate: Any, timeout: float, what: str, every: float = 0.2) -> None:
    """Poll the async ``predicate`` until it is true; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(every)


async def statuses(database_url: str) -> dict[str, int]:
    """How many messages the database holds in each status."""
    status = Message.__table__.c.status
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(status, func.count()).group_by(status))
            return {name: count for name, count in rows.all()}
    finally:
        await engine.dispose()


async def event_ids(database_url: str) -> set[str]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return set((await conn.scalars(select(Event.__table__.c.id))).all())
    finally:
        await engine.dispose()
