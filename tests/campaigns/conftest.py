"""Campaigns run in the worker: these tests get a server on their own database, so no other
test server's worker (the gateway's, wired to the provider fakes) claims their messages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import LiveServer, start_server, stop_server, test_settings
from tests.loopback import own_database


@pytest.fixture(scope="module")
def campaign_database(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory: Path = tmp_path_factory.mktemp("campaigns")
    yield from own_database(database_url, directory)


@pytest.fixture(scope="module")
async def server(campaign_database: str) -> AsyncIterator[LiveServer]:
    live = await start_server(test_settings(campaign_database))
    yield live
    await stop_server(live)
