"""What an app process runs besides its screen: the feeders (the demo stream, or the
collector while this process holds the lease) and the fetching of pages behind snapshots.

No Textual here. The UI starts the feeders, asks for snapshots and closes the runtime on quit;
everything the runtime does reaches the screen through the store, like another process's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

from tui.collector import Collector, holder_name
from tui.config import Config
from tui.demo import run_demo
from tui.evidence import PageFetcher
from tui.ingest import Ingestor, make_scorer
from tui.sources import make_client
from tui.store import Store, StoreError

SHUTDOWN_SECONDS = 3.0
"""How long closing waits for a batch in hand and for page fetches to finish."""


class Runtime:
    def __init__(
        self, config: Config, db_path: Path, operator: str, *, log: Callable[[str], None]
    ) -> None:
        self.config = config
        self.db_path = db_path
        self.operator = operator
        self.log = log
        self.holder = holder_name(operator)
        self.stop = asyncio.Event()
        self.client = make_client()
        self.pages = PageFetcher(self.client, allow_private=config.snapshot_fetch_private)
        self.collector: Collector | None = None
        self._stores: list[Store] = []

    @property
    def collects(self) -> bool:
        return any(source.enabled for source in self.config.sources)

    async def _ingestor(self) -> Ingestor:
        store = await Store.open(self.db_path, self.operator)
        self._stores.append(store)
        scorer = await asyncio.to_thread(make_scorer, self.config)
        return Ingestor(store, scorer, self.config.auto_snapshot, self.pages)

    async def run_demo(self, *, rate: float, seed: int | None, backlog: int) -> None:
        ingestor = await self._ingestor()
        await run_demo(ingestor.ingest, rate=rate, seed=seed, backlog=backlog, stop=self.stop)

    async def run_collector(self) -> None:
        """Poll the configured sources while this process holds the lease, until closed."""
        ingestor = await self._ingestor()
        self.collector = Collector(
            self.config,
            ingestor.store,
            self.client,
            holder=self.holder,
            log=self.log,
            ingestor=ingestor,
        )
        await self.collector.run(self.stop)

    async def close(self) -> None:
        """Finish page fetches, release the lease, close the connections. Set ``stop`` and
        let the feeders return first."""
        self.stop.set()
        await self.pages.drain(SHUTDOWN_SECONDS)
        if self.collector is not None:
            with contextlib.suppress(StoreError, sqlite3.Error, ValueError):
                await self.collector.release_lease()
        await self.client.aclose()
        for store in self._stores:
            await store.close()
