"""The collector: every enabled source polled on its interval, what they return stored.

* Sources run concurrently, each in its own loop: a failing, slow or rate-limited source never
  delays another. A poll's mentions and the source's new cursor are stored in one transaction
  (``Ingestor.ingest(..., cursor=...)``), so a crash or restart neither misses nor repeats.
* Only the holder of the collector lease polls (a row in the database with a heartbeat and
  the holder's host and pid, taken over when the heartbeat is stale, or at once when the
  holder's process on this host is gone): ten operators' apps on one server poll each API
  once. ``Collector.run`` waits for the lease, polls while it holds it, and stops polling if it
  loses it.
* The lease holder also fetches the pages behind snapshots (``PageFetcher``), when given one:
  ``triage collect`` is.
* The lease holder retrains the learned sentiment model after ``[learning] retrain_after`` new
  label changes (``tui.learning.Retrainer``), in a separate process.
* Stopping (``stop`` set, e.g. by SIGINT or SIGTERM) abandons requests in flight, whose
  results were not stored and whose cursors did not move, and lets a batch being stored
  finish.
* Each poll's outcome is recorded with ``Store.record_poll`` (state, the server's message,
  rate limit left, next poll) and logged as one line.

``collect`` and ``run_collect_cli`` are ``triage collect``; ``doctor`` and ``run_doctor_cli``
are ``triage doctor``.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx

from tui.alerting import Alerter
from tui.cells import aligned
from tui.channels import missing_secret
from tui.config import Config, ConfigError
from tui.core.model import utcnow
from tui.core.text import one_line
from tui.delivery import Deliverer
from tui.evidence import PageFetcher
from tui.ingest import Ingestor, make_scorer
from tui.learning import Retrainer, TrainingFailed
from tui.sources import Backoff, Http, PollResult, Source, SourceError, build_source, make_client
from tui.store import LEASE_TTL, Lease, Store, StoreError

__all__ = [
    "LEASE_TTL",
    "Collector",
    "DoctorRow",
    "PollOutcome",
    "build_sources",
    "collect",
    "doctor",
    "format_doctor_table",
    "holder_name",
    "run_collect_cli",
    "run_doctor_cli",
]

T = TypeVar("T")

LEASE_CHECK = 1.0
"""How often a process waiting for the lease reads whether its holder is still there (a
holder on this host whose process is gone is replaced at once)."""

Log = Callable[[str], None]


def holder_name(operator: str | None = None) -> str:
    """Who holds the lease, as shown to other operators: ``"ana@host pid 4242"``."""
    return f"{operator or getpass.getuser()}@{socket.gethostname()} pid {os.getpid()}"


def build_sources(config: Config) -> list[Source]:
    """Adapters for the enabled sources; ``ConfigError`` names the first bad one."""
    return [build_source(source) for source in config.sources if source.enabled]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source: str
    state: str
    """``ok``, ``error``, ``needs credentials``, ``unavailable`` or ``rate limited``."""
    fetched: int = 0
    new: int = 0
    error: str | None = None
    rate_remaining: str | None = None
    next_poll: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"


async def _until(awaitable: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``awaitable``'s result, or None (and it cancelled) if ``stop`` is set first."""
    work = asyncio.ensure_future(awaitable)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not work.done():
            work.cancel()
            await asyncio.wait({work})  # let it close its connections
    if work.cancelled():
        return None
    return work.result()


async def _sleep(seconds: float, stop: asyncio.Event) -> None:
    """Sleep, waking early when ``stop`` is set."""
    if seconds > 0:
        await _until(asyncio.sleep(seconds), stop)


class Collector:
    """Polls sources and stores their mentions. ``run`` for a long-lived process, ``run_once``
    for one round; both only poll while holding the collector lease."""

    def __init__(
        self,
        config: Config,
        store: Store,
        client: httpx.AsyncClient,
        *,
        holder: str,
        log: Log,
        sources: Sequence[Source] | None = None,
        backoff: Backoff | None = None,
        lease_ttl: float = LEASE_TTL,
        ingestor: Ingestor | None = None,
        pages: PageFetcher | None = None,
        on_lease: Callable[[bool], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.holder = holder
        self.log = log
        self.on_lease = on_lease
        """Told when this process takes the lease (True) or loses it (False)."""
        self.sources = list(build_sources(config) if sources is None else sources)
        self.lease_ttl = lease_ttl
        self.pages = pages
        """Fetches the pages behind snapshots while this process holds the lease; None: some
        other part of the process does (an app's runtime)."""
        self.ingestor = ingestor or Ingestor(
            store, make_scorer(config), auto_snapshot=config.auto_snapshot, pages=pages
        )
        self._kinds = {s.name: s.kind for s in self.sources}
        self._http = {
            s.name: Http(client, source=s.name, backoff=backoff, secrets=s.secrets)
            for s in self.sources
        }
        self.holding = False
        """Whether this process holds the lease (for the app's status line)."""
        self.retrainer = Retrainer(config, store, log)
        """Retrains the learned sentiment model while this process holds the lease."""
        self.deliverer = Deliverer(config, store, client, log)
        """Sends stored alerts to their channels while this process holds the lease."""
        self.alerter = Alerter(config, store, log, self.deliverer.nudge)
        """Evaluates the alert rules while this process holds the lease."""

    # -- one poll ---------------------------------------------------------------------------

    async def poll(self, source: Source, stop: asyncio.Event | None = None) -> PollOutcome | None:
        """Poll ``source`` once and store the result; None if ``stop`` cut the request short.

        Never raises for a source's failure: that is recorded and returned as the outcome.
        """
        http = self._http[source.name]
        stop = stop or asyncio.Event()
        try:
            state = await self.store.source_state(source.name)
            cursor = state.cursor if state else None
            result = await _until(source.poll(http, cursor), stop)
            if result is None:
                return None
            new = await self.apply(source, result, cursor=True)
            self.retrainer.nudge()
            if new:
                self.alerter.nudge()
        except SourceError as error:
            outcome = self._failure(source, error.state, str(error), error.retry_at)
        except Exception as error:
            # A database problem or a bug in an adapter: recorded, and the other sources go on.
            outcome = self._failure(source, "error", f"{type(error).__name__}: {error}", None)
        else:
            outcome = self._success(source, result, new)
        await self._record(outcome)
        return outcome

    async def apply(self, source: Source, result: PollResult, *, cursor: bool) -> int:
        """Store a poll's (or a stream event's) mentions, edits and deletions; new count.

        A mention already stored with another text is an edit wherever it comes from (a
        poll, a stream's edit event, a line of the JSON Lines bridge): ingest keeps the earlier
        text as a version. An edit of a post not yet stored adds it."""
        ids = await self.ingestor.ingest(
            result.mentions, cursor=(source.name, result.cursor) if cursor else None
        )
        new = len(ids)
        if result.edits:
            new += len(await self.ingestor.ingest(result.edits))
        for external_id in result.deletions:
            await self.store.mark_deleted(source.name, external_id)
        for warning in result.warnings:
            self.log(f"{source.name}: {self._http[source.name].scrub(warning)}")
        return new

    def _success(self, source: Source, result: PollResult, new: int) -> PollOutcome:
        now = utcnow()
        next_poll = now + timedelta(seconds=source.interval)
        rate = result.rate
        if rate and rate.remaining in ("0", "-0") and rate.reset_at and rate.reset_at > next_poll:
            next_poll = rate.reset_at  # the window is spent: wait for it to reset
        return PollOutcome(
            source.name,
            "ok",
            fetched=len(result.mentions),
            new=new,
            rate_remaining=rate.remaining if rate else None,
            next_poll=next_poll,
        )

    def _failure(
        self, source: Source, state: str, message: str, retry_at: datetime | None
    ) -> PollOutcome:
        http = self._http[source.name]
        next_poll = utcnow() + timedelta(seconds=source.interval)
        if retry_at is not None and retry_at > next_poll:
            next_poll = retry_at
        return PollOutcome(
            source.name,
            state,
            error=http.scrub(message),
            rate_remaining=http.rate.remaining if http.rate else None,
            next_poll=next_poll,
        )

    async def _record(self, outcome: PollOutcome) -> None:
        try:
            await self.store.record_poll(
                outcome.source,
                state=outcome.state,
                error=outcome.error,
                rate_remaining=outcome.rate_remaining,
                next_poll=outcome.next_poll,
                kind=self._kinds.get(outcome.source),
            )
        except StoreError as error:
            self.log(f"{outcome.source}: cannot record poll: {error}")
        self.log(_describe(outcome))

    # -- the lease --------------------------------------------------------------------------

    async def lease_free(self) -> bool:
        """Whether the lease is this process's or nobody's (free, stale, or its holder's
        process gone): a read, so waiting for the lease costs no write."""
        try:
            active = await self.store.lease_active(self.lease_ttl)
        except StoreError as error:
            self.log(f"collector lease: {error}")
            return False
        return active is None or active == self.holder

    async def take_lease(self) -> bool:
        """Take or renew the lease; False (and logged when it changes hands) if another
        live process holds it."""
        try:
            held = await self.store.acquire_lease(self.holder, self.lease_ttl)
        except StoreError as error:
            self.log(f"collector lease: {error}")
            held = False
        changed = held != self.holding
        if changed:
            if held:
                self.log(f"collector lease taken by {self.holder}")
            else:
                self.log(f"collector lease lost; {await self._describe_holder()}")
        self.holding = held
        if changed and self.on_lease is not None:
            self.on_lease(held)
        return held

    async def _describe_holder(self) -> str:
        lease = await self.store.lease(self.lease_ttl)
        return "no one holds it" if lease is None else _described(lease)

    async def release_lease(self) -> None:
        if self.holding:
            self.holding = False
            try:
                await self.store.release_lease(self.holder)
            except StoreError as error:
                self.log(f"collector lease: {error}")

    async def _heartbeat(self, halt: asyncio.Event) -> None:
        """Renew the lease until ``halt``; set ``halt`` if it was lost."""
        while not halt.is_set():
            await _sleep(self.lease_ttl / 3, halt)
            if not halt.is_set() and not await self.take_lease():
                halt.set()

    # -- running ----------------------------------------------------------------------------

    async def run_once(self, stop: asyncio.Event | None = None) -> list[PollOutcome] | None:
        """Poll every source once, concurrently; None if another process holds the lease."""
        stop = stop or asyncio.Event()
        if not await self.take_lease():
            self.log(f"not collecting: {await self._describe_holder()}")
            return None
        halt = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(halt))
        try:
            outcomes = await asyncio.gather(*(self.poll(s, stop) for s in self.sources))
            if self.pages is not None:
                await self._fetch_pages_once(stop)
            await self._retrain_once()
            await self._alert_once()
        finally:
            halt.set()
            await heartbeat
            await self.release_lease()
        return [o for o in outcomes if o is not None]

    async def _fetch_pages_once(self, stop: asyncio.Event) -> None:
        """The page fetches due now (``collect --once``); later retries wait for the next run."""
        assert self.pages is not None
        try:
            await _until(self.pages.fetch_due(self.store, stop), stop)
        except StoreError as error:
            self.log(f"page fetches: {error}")

    async def _alert_once(self) -> None:
        """Evaluate the alert rules and send what is due (``collect --once``)."""
        if not self.alerter.enabled:
            return
        try:
            new = await self.alerter.evaluate()
            if new:
                self.log(f"alerts: {len(new)} new")
            await self.deliverer.deliver_due()
        except (StoreError, ValueError) as error:
            self.log(f"alerts: {error}")

    async def _retrain_once(self) -> None:
        """Retrain now if enough labels changed (``collect --once``)."""
        try:
            await self.retrainer.check()
        except (StoreError, ValueError, TrainingFailed, OSError) as error:
            self.log(f"learning: retraining failed: {error}")

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop``: wait for the lease, then poll every source on its interval (and
        follow streaming sources) while holding it. While waiting, the lease is checked every
        ``LEASE_CHECK`` seconds, so a holder that died is replaced at once."""
        waiting_for: str | None = None
        while not stop.is_set():
            if await self.lease_free() and await self.take_lease():
                waiting_for = None
                await self._work(stop)
            else:
                lease = await self.store.lease(self.lease_ttl)
                if lease is not None and lease.holder != waiting_for:
                    waiting_for = lease.holder
                    self.log(f"waiting for the collector lease: {_described(lease)}")
            await _sleep(min(self.lease_ttl / 3, LEASE_CHECK), stop)
        await self.release_lease()

    async def _work(self, stop: asyncio.Event) -> None:
        """Poll while holding the lease; return when ``stop`` is set or the lease is lost."""
        halt = asyncio.Event()

        async def relay() -> None:
            await _until(stop.wait(), halt)
            halt.set()

        async with asyncio.TaskGroup() as group:
            group.create_task(relay())
            group.create_task(self._heartbeat(halt))
            if self.pages is not None:
                group.create_task(self.pages.run(self.store, halt))
            if self.retrainer.enabled:
                group.create_task(self.retrainer.run(halt))
            if self.alerter.enabled:
                group.create_task(self.alerter.run(halt))
                group.create_task(self.deliverer.run(halt))
            for source in self.sources:
                group.create_task(self._poll_loop(source, halt))
                if source.streaming:
                    group.create_task(self._stream_loop(source, halt))

    async def _poll_loop(self, source: Source, halt: asyncio.Event) -> None:
        while not halt.is_set():
            outcome = await self.poll(source, halt)
            if outcome is None or outcome.next_poll is None:
                return
            await _sleep((outcome.next_poll - utcnow()).total_seconds(), halt)

    async def _stream_loop(self, source: Source, halt: asyncio.Event) -> None:
        """Follow a streaming source, storing each event as it comes (without moving the poll
        cursor: what a dropped stream missed, the next poll brings)."""
        queue: asyncio.Queue[PollResult] = asyncio.Queue()
        http = self._http[source.name]

        async def read() -> None:
            try:
                await _until(source.stream(http, queue), halt)
            except SourceError as error:
                self.log(f"{source.name}: stream stopped: {http.scrub(str(error))}")
                await self._record(self._failure(source, error.state, str(error), None))
            except Exception as error:
                self.log(f"{source.name}: stream stopped: {http.scrub(repr(error))}")

        reader = asyncio.create_task(read())
        try:
            while (result := await _until(queue.get(), halt)) is not None:
                try:
                    if await self.apply(source, result, cursor=False):
                        self.alerter.nudge()
                except StoreError as error:
                    self.log(f"{source.name}: stream event not stored: {error}")
        finally:
            await reader


def _describe(outcome: PollOutcome) -> str:
    """The log line of one poll."""
    when = utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    parts = [f"{when} {outcome.source}: {outcome.state}"]
    if outcome.ok:
        parts.append(f"{outcome.new} new of {outcome.fetched}")
    if outcome.error:
        parts.append(outcome.error)
    if outcome.rate_remaining is not None:
        parts.append(f"rate limit left {outcome.rate_remaining}")
    if outcome.next_poll is not None:
        parts.append(f"next poll {outcome.next_poll.strftime('%H:%M:%SZ')}")
    return ", ".join(parts)


# -- triage collect -------------------------------------------------------------------------


def enabled_sources(config: Config) -> list[Source]:
    """``build_sources``, and a ``ConfigError`` when no source is enabled: nothing to collect."""
    sources = build_sources(config)
    if not sources:
        raise ConfigError(
            "no enabled sources; add [[sources]] tables to the config (see config.example.toml)"
        )
    return sources


async def collect(
    config: Config,
    store: Store,
    *,
    once: bool,
    stop: asyncio.Event,
    log: Log,
    holder: str,
    client: httpx.AsyncClient | None = None,
    backoff: Backoff | None = None,
    lease_ttl: float = LEASE_TTL,
) -> int:
    """``triage collect``: the exit code (0 ok; 1 a source failed in ``once`` mode;
    2 a source is misconfigured or none is enabled).

    ``once`` polls every enabled source once (or nothing, if another process holds the lease
    and so is collecting already), then does the page fetches that are due. Otherwise runs
    until ``stop`` is set, waiting for the lease while another process holds it, and fetches
    the pages behind snapshots (queued by any process) while holding it.
    """
    try:
        sources = enabled_sources(config)
    except ConfigError as error:
        log(str(error))
        return 2
    own_client = client is None
    client = client or make_client()
    pages = PageFetcher(client, holder=holder, allow_private=config.snapshot_fetch_private, log=log)
    try:
        collector = Collector(
            config,
            store,
            client,
            holder=holder,
            log=log,
            sources=sources,
            backoff=backoff,
            lease_ttl=lease_ttl,
            pages=pages,
        )
        if once:
            outcomes = await collector.run_once(stop)
            return 0 if outcomes is None or all(o.ok for o in outcomes) else 1
        await collector.run(stop)
        return 0
    finally:
        if own_client:
            await client.aclose()


def _stderr(line: str) -> None:
    """A log line on stderr: one line, whatever it quotes (a source's error, a holder's name)."""
    print(one_line(line), file=sys.stderr, flush=True)


def run_collect_cli(
    config: Config, db_path: Path, *, once: bool, operator: str | None = None
) -> int:
    """``triage collect [--once]`` from start to exit code; SIGINT/SIGTERM stop it after the
    batch in hand (a second signal ends it at once)."""

    # The sources are checked before the database is opened, so a config without any leaves
    # no new database behind; these are usage errors, said as every command says them.
    try:
        enabled_sources(config)
    except ConfigError as error:
        _stderr(f"triage: {error}")
        return 2

    async def main() -> int:
        try:
            store = await Store.open(db_path, operator or getpass.getuser(), sla=config.on_call.sla)
        except StoreError as error:
            _stderr(f"triage: {error}")
            return 2
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)

        def on_signal() -> None:
            _stderr("stopping after the batch in hand (signal again to stop at once)")
            stop.set()
            for sig in signals:
                loop.remove_signal_handler(sig)

        for sig in signals:
            loop.add_signal_handler(sig, on_signal)
        try:
            return await collect(
                config, store, once=once, stop=stop, log=_stderr, holder=holder_name(operator)
            )
        finally:
            for sig in signals:
                loop.remove_signal_handler(sig)
            await store.close()

    return asyncio.run(main())


# -- triage doctor --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DoctorRow:
    name: str
    kind: str
    status: str
    """``ok``, ``disabled``, ``warning`` (worth knowing, not wrong), ``config error`` or a
    poll state (``needs credentials`` ...)."""
    detail: str

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "disabled", "warning")


async def doctor(
    config: Config,
    *,
    client: httpx.AsyncClient | None = None,
    backoff: Backoff | None = None,
    config_problems: Sequence[str] = (),
    env: Mapping[str, str] = os.environ,
) -> tuple[list[DoctorRow], bool]:
    """Check every source's options, reachability and credentials (one request or two each,
    concurrently, without retries), and that each ``[[channels]]`` secret is set in ``env``;
    the rows and whether all are fine.

    ``config_problems`` are problems found in the rest of the config by the code that owns it
    (e.g. the app's check of the ``[keys]`` table), one row each. A config without sources is
    a warning, not a failure: the app works on imports and the demo without any."""
    backoff = backoff or Backoff(attempts=1)
    own_client = client is None
    client = client or make_client()

    async def check(index: int) -> DoctorRow:
        settings = config.sources[index]
        if not settings.enabled:
            return DoctorRow(settings.name, settings.kind, "disabled", "enabled = false")
        try:
            source = build_source(settings)
        except ConfigError as error:
            return DoctorRow(settings.name, settings.kind, "config error", str(error))
        http = Http(client, source=source.name, backoff=backoff, secrets=source.secrets)
        try:
            detail = await source.check(http)
        except SourceError as error:
            return DoctorRow(source.name, source.kind, error.state, http.scrub(str(error)))
        except Exception as error:
            message = http.scrub(f"{type(error).__name__}: {error}")
            return DoctorRow(source.name, source.kind, "error", message)
        return DoctorRow(source.name, source.kind, "ok", detail)

    try:
        rows = list(await asyncio.gather(*(check(i) for i in range(len(config.sources)))))
    finally:
        if own_client:
            await client.aclose()
    if not config.sources:
        where = config.path or "the config"
        rows.append(
            DoctorRow(
                "-",
                "-",
                "warning",
                f"no [[sources]] in {where}; nothing will be collected (add one to collect)",
            )
        )
    rows.extend(channel_rows(config, env))
    rows.extend(DoctorRow("-", "config", "config error", problem) for problem in config_problems)
    return rows, all(row.ok for row in rows)


def _described(lease: Lease) -> str:
    """``held by X (heartbeat 12s ago)``, and whether its holder has ended or gone silent."""
    age = (utcnow() - lease.heartbeat).total_seconds()
    said = f"held by {lease.holder} (heartbeat {age:.0f}s ago)"
    if lease.state == "gone":
        said += ", its process has ended"
    elif lease.state == "stale":
        said += ", stale"
    return said


def channel_rows(config: Config, env: Mapping[str, str] = os.environ) -> list[DoctorRow]:
    """One row per channel with a ``secret_env``: set here, or missing (``needs
    credentials``, a failed check: this process would keep its alerts pending)."""
    rows = []
    for channel in config.on_call.channels:
        if not channel.secret_env:
            continue
        kind = f"{channel.kind} channel"
        lacking = missing_secret(channel, env)
        if lacking is None:
            rows.append(DoctorRow(channel.name, kind, "ok", f"{channel.secret_env} is set"))
            continue
        rows.append(
            DoctorRow(
                channel.name,
                kind,
                "needs credentials",
                f"environment variable {lacking} (from secret_env) is not set; export it where"
                " triage collect or the app runs, or this channel's alerts stay pending",
            )
        )
    return rows


def format_doctor_table(rows: Sequence[DoctorRow]) -> str:
    """A plain-text table (status in words, so it reads without color); every cell one line
    (a source's name is the config's, its detail may quote what a server answered)."""
    header = ("SOURCE", "KIND", "STATUS", "DETAIL")
    lines = [
        header,
        *((one_line(r.name), one_line(r.kind), r.status, one_line(r.detail)) for r in rows),
    ]
    return aligned(lines)


def run_doctor_cli(
    config: Config, config_problems: Sequence[str] = (), more_rows: Sequence[DoctorRow] = ()
) -> int:
    """``triage doctor``: prints the table; 0 if everything is fine (warnings included), 2 if
    the config has an error, 1 if a source is unreachable or refuses its credentials, a
    channel's secret is not in the environment (or a row of ``more_rows``, the database's
    checks, is an error)."""
    rows, ok = asyncio.run(doctor(config, config_problems=config_problems))
    rows = [*rows, *more_rows]
    ok = ok and all(row.ok for row in more_rows)
    print(format_doctor_table(rows))
    if any(row.status == "config error" for row in rows):
        return 2
    return 0 if ok else 1
