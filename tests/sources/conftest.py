"""Fixtures for source tests: the loopback server and a client with short timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.sources.helpers import FAST, READ_TIMEOUT
from tests.sources.server import Server
from tui.sources import Http, make_client


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout=httpx.Timeout(2.0, read=READ_TIMEOUT)) as opened:
        yield opened


@pytest.fixture
def http(client: httpx.AsyncClient) -> Http:
    return Http(client, source="test", backoff=FAST)
