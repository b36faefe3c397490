"""Fixtures for source tests: the loopback server and a client with short timeouts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sources.helpers import FAST, READ_TIMEOUT
from tui.sources import Http, make_client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout=httpx.Timeout(2.0, read=READ_TIMEOUT)) as opened:
        yield opened


@pytest.fixture
def http(client: httpx.AsyncClient) -> Http:
    return Http(client, source="test", backoff=FAST)
