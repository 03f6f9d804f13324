"""Servers whose media directory is a temporary one: plain (simulator) and wired to the fakes."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lynsms.config import Settings
from tests.conftest import LiveServer, bind_loopback, start_server, stop_server, test_settings
from tests.factories import Customer, create_customer
from tests.loopback import own_database

# Real, tiny images: a 1x1 PNG, a 1x1 GIF and a 1x1 baseline JPEG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
async def media_server(database_url: str, media_dir: Path) -> AsyncIterator[LiveServer]:
    bound = bind_loopback()
    settings = test_settings(
        database_url, media_dir=media_dir / "plain", server={"public_url": bound[1]}
    )
    live = await start_server(settings, bound=bound)
    yield live
    await stop_server(live)


@pytest.fixture
async def mapi(media_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=media_server.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def mcustomer(media_server: LiveServer) -> Customer:
    return await create_customer(media_server.runtime)


@pytest.fixture(scope="session")
def media_gateway_database(database_url: str, media_dir: Path) -> Iterator[str]:
    yield from own_database(database_url, media_dir)


@pytest.fixture(scope="session")
async def media_gateway(
    media_gateway_database: str, fakes: Any, media_dir: Path
) -> AsyncIterator[LiveServer]:
    """As the ``gateway`` fixture: live traffic goes to the four provider fakes. On a
    database of its own: its worker would otherwise claim the live messages other test
    servers leave to their workers, and send them to the fakes (they would stay ``sent``)."""
    from tests.gateway import gateway_settings

    bound = bind_loopback()
    values = gateway_settings(fakes, media_gateway_database, bound[1])
    settings = Settings(**{**values, "media_dir": media_dir / "gateway"})
    live = await start_server(settings, bound=bound)
    yield live
    await stop_server(live)


@pytest.fixture
async def mgw(media_gateway: LiveServer, fakes: Any) -> AsyncIterator[httpx.AsyncClient]:
    for fake in fakes.all():
        fake.reset()
    media_gateway.runtime.router.breaker.reset()
    async with httpx.AsyncClient(base_url=media_gateway.url + "/api/v1", timeout=30) as client:
        yield client


@pytest.fixture
async def mgw_customer(media_gateway: LiveServer) -> Customer:
    return await create_customer(media_gateway.runtime)


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes = PNG,
    content_type: str = "image/png",
    filename: str = "picture.png",
) -> httpx.Response:
    return await client.post(
        "/media", files={"file": (filename, data, content_type)}, headers=headers
    )


async def uploaded(client: httpx.AsyncClient, headers: dict[str, str], **kwargs: Any) -> dict:
    response = await upload(client, headers, **kwargs)
    assert response.status_code == 201, response.text
    media: dict[str, Any] = response.json()["data"]
    return media
