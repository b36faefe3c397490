"""What an app process runs besides its screen: the feeders (the demo stream, or the
collector while this process holds the lease) and the fetching of pages behind snapshots.

No Textual here. The UI starts the feeders and the page fetches, asks for snapshots and
closes the runtime on quit; everything the runtime does reaches the screen through the store,
like another process's work.

Page fetches are queued in the store with each snapshot and done by one process: the holder
of the collector lease (this app while it collects, or a headless ``triage collect``), or, when
nobody holds the lease (the demo, an app without sources), this app. Alert rules and deliveries
go the same way (``start_alerts``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from tui.alert_config import AlertRule
from tui.alerting import Alerter
from tui.collector import Collector, holder_name
from tui.config import Config
from tui.core.model import IncomingMention
from tui.delivery import Deliverer
from tui.demo import record_demo_batch, run_demo
from tui.evidence import PageFetcher
from tui.ingest import Ingestor, make_scorer
from tui.sources import make_client
from tui.store import LEASE_TTL, Store, StoreError

DEMO_RULES = (AlertRule("late-replies", "sla", labels=("negative",)),)
"""What the demo alerts on when the config names no rules: negatives about to miss their
response time, and late (shown in the app, sent nowhere)."""

SHUTDOWN_SECONDS = 3.0
"""How long closing waits for a batch in hand and for page fetches to finish."""


class Runtime:
    def __init__(
        self,
        config: Config,
        db_path: Path,
        operator: str,
        *,
        log: Callable[[str], None],
        on_lease: Callable[[bool], None] | None = None,
    ) -> None:
        self.config = config
        self.db_path = db_path
        self.operator = operator
        self.log = log
        self.on_lease = on_lease
        """Told when this process takes the collector lease (True) or loses it (False)."""
        self.holder = holder_name(operator)
        self.stop = asyncio.Event()
        self.client = make_client()
        self.pages = PageFetcher(
            self.client, holder=self.holder, allow_private=config.snapshot_fetch_private, log=log
        )
        self.collector: Collector | None = None
        self._stores: list[Store] = []
        self._page_task: asyncio.Task[None] | None = None
        self._alert_task: asyncio.Task[None] | None = None
        self.alerter: Alerter | None = None
        """Evaluates the alert rules while nobody holds the collector lease (``start_alerts``)."""

    @property
    def lease_ttl(self) -> float:
        """Seconds without a heartbeat after which the collector lease is free."""
        return self.collector.lease_ttl if self.collector is not None else LEASE_TTL

    @property
    def collects(self) -> bool:
        return any(source.enabled for source in self.config.sources)

    async def _open(self) -> Store:
        store = await Store.open(self.db_path, self.operator, sla=self.config.on_call.sla)
        self._stores.append(store)
        return store

    async def _ingestor(self) -> Ingestor:
        store = await self._open()
        scorer = await asyncio.to_thread(make_scorer, self.config)
        return Ingestor(store, scorer, self.config.auto_snapshot, self.pages)

    async def run_demo(self, *, rate: float, seed: int | None, backlog: int) -> None:
        """Feed the demo stream into the store, recording its health like a source's. The
        demo alerts on the configured rules, else on ``DEMO_RULES`` (``start_alerts``). The
        backlog goes only into an empty database: a restart goes on with the live stream."""
        ingestor = await self._ingestor()
        self.start_alerts(demo=True)
        if backlog and await ingestor.store.max_id():
            backlog = 0  # a database the demo fed before: its backlog is there, and aged

        async def feed(batch: Sequence[IncomingMention]) -> None:
            await ingestor.ingest(batch)
            await record_demo_batch(ingestor.store, batch)
            if self.alerter is not None:
                self.alerter.nudge()

        await run_demo(feed, rate=rate, seed=seed, backlog=backlog, stop=self.stop)

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
            on_lease=self.on_lease,
        )
        await self.collector.run(self.stop)

    # -- alerts ------------------------------------------------------------------------------

    def start_alerts(self, *, demo: bool = False) -> None:
        """Evaluate the alert rules and deliver alerts whenever this process is the one to:
        nobody holds the collector lease (a collecting process, this one included, runs them
        with its collector). ``demo``: with no rules configured, the demo's ``DEMO_RULES``."""
        config = self.config
        if demo and not config.on_call.rules:
            config = replace(config, on_call=replace(config.on_call, rules=DEMO_RULES))
        if self._alert_task is None and config.on_call.rules:
            self._alert_task = asyncio.create_task(self._run_alerts(config), name="alerts")

    async def _run_alerts(self, config: Config) -> None:
        try:
            store = await self._open()
        except StoreError as error:
            self.log(f"alerts: {error}")
            return
        deliverer = Deliverer(config, store, self.client, self.log)
        self.alerter = Alerter(config, store, self.log, deliverer.nudge)

        async def nobody() -> bool:
            return await store.lease_active(self.lease_ttl) is None

        async with asyncio.TaskGroup() as group:
            group.create_task(self.alerter.run(self.stop, may_run=nobody))
            group.create_task(deliverer.run(self.stop, may_run=nobody))

    # -- page fetches --------------------------------------------------------------------------

    def start_pages(self) -> None:
        """Start fetching the pages behind snapshots (queued by any process) whenever this
        process is the one to: it holds the collector lease, or nobody does."""
        if self._page_task is None:
            self._page_task = asyncio.create_task(self._run_pages(), name="page fetches")

    async def _run_pages(self) -> None:
        try:
            store = await self._open()
        except StoreError as error:
            self.log(f"page fetches: {error}")
            return

        async def ours() -> bool:
            holder = await store.lease_active(self.lease_ttl)
            return holder is None or holder == self.holder

        await self.pages.run(store, self.stop, may_fetch=ours, grace=SHUTDOWN_SECONDS)

    async def close(self) -> None:
        """Let page fetches in flight finish (or hand them back), release the lease, close
        the connections. Set ``stop`` and let the feeders return first."""
        self.stop.set()
        for task in (self._page_task, self._alert_task):
            if task is None:
                continue
            await asyncio.wait({task}, timeout=SHUTDOWN_SECONDS + 1)
            if not task.done():
                task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self.collector is not None:
            with contextlib.suppress(StoreError, sqlite3.Error, ValueError):
                await self.collector.release_lease()
        await self.client.aclose()
        for store in self._stores:
            await store.close()
