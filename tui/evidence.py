"""Snapshots as evidence: freeze a mention, fetch the page behind it, write an evidence folder.

A snapshot is stored first (text, raw payload, SHA-256, time, operator) and, in the same
transaction, its page fetch is queued as a row in the store. ``PageFetcher`` does the queued
fetches in whichever process should (the collector lease holder, or an app when nobody holds
the lease): it claims each one in a ``BEGIN IMMEDIATE`` transaction, so no two processes fetch
the same page; retries network errors, timeouts and 5xx answers with a growing delay; and
stores the outcome once, as an immutable page row. A fetch claimed by a process that quit or
was killed becomes pending again (at once when that process is known to be gone), so a page is
delayed by a crash, never lost. A 4xx answer or a refused address is final.

``write_evidence`` writes a mention's evidence folder beside a temporary one and swaps it in,
so a folder under the final name is always complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import os
import secrets
import shutil
import socket
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from tui.core.model import Mention, Snapshot, iso, utcnow
from tui.core.records import snapshot_page
from tui.sources.http import retry_after
from tui.store import PageClaim, Store, StoreError

PAGE_CAP = 2 * 1024 * 1024
"""Bytes of a fetched page kept with a snapshot."""
PAGE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
FETCH_DEADLINE = 60.0
"""Seconds one attempt may take in all (redirects and a slow body included)."""
CLAIM_STALE = 3 * FETCH_DEADLINE
"""A claim this old belongs to a process that stopped (one on another host, whose pid cannot
be checked): the fetch is pending again."""
POLL_SECONDS = 1.0
"""How often a fetch loop looks for fetches queued by other processes."""
SHUTDOWN_GRACE = 3.0
"""How long a stopping fetch loop lets attempts in flight finish before handing them back."""

MAX_REDIRECTS = 5


class PageRefused(Exception):
    """The page is not fetched (a private address, a non-http URL, too many redirects)."""


@dataclass(frozen=True, slots=True)
class PageResult:
    """One attempt at a page."""

    status: int | None
    error: str | None
    """Why there is no page (or, with a page, a note such as the size cap)."""
    page: bytes | None
    retry: bool = False
    """Whether a later attempt may do better (network error, timeout, 5xx, 408, 429)."""
    retry_after: float | None = None
    """Seconds the server asked us to wait before trying again."""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


async def _check_public(url: httpx.URL) -> None:
    """Refuse URLs whose host resolves to a loopback, private, link-local or other non-global
    address: a post must not make the server fetch from its own network."""
    if not url.host:
        raise PageRefused(f"no host in {str(url)[:80]}")
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, url.port or (443 if url.scheme == "https" else 80)
        )
    except OSError as error:
        raise httpx.ConnectError(f"cannot resolve {url.host}: {error}") from error
    for *_, address in infos:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise PageRefused(f"{url.host} is a non-public address ({ip}); not fetched")


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    cap: int = PAGE_CAP,
    *,
    allow_private: bool = False,
    timeout: httpx.Timeout = PAGE_TIMEOUT,
    deadline: float = FETCH_DEADLINE,
) -> PageResult:
    """One attempt at ``url`` (body up to ``cap`` bytes); never raises for the network.

    Redirects are followed by hand (up to ``MAX_REDIRECTS``) so every hop is checked against
    ``allow_private``.
    """
    try:
        async with asyncio.timeout(deadline):
            return await _fetch(client, url, cap, allow_private=allow_private, timeout=timeout)
    except TimeoutError:
        return PageResult(None, f"timed out after {deadline:g}s", None, retry=True)
    except PageRefused as refused:
        return PageResult(None, str(refused), None)
    except httpx.TransportError as exc:  # connect, read, DNS, protocol errors and timeouts
        return PageResult(None, f"{type(exc).__name__}: {exc}"[:300], None, retry=True)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return PageResult(None, f"{type(exc).__name__}: {exc}"[:300], None)


async def _fetch(
    client: httpx.AsyncClient, url: str, cap: int, *, allow_private: bool, timeout: httpx.Timeout
) -> PageResult:
    target = httpx.URL(url)
    for _ in range(MAX_REDIRECTS + 1):
        if target.scheme not in ("http", "https"):
            raise PageRefused(f"not an http(s) URL: {str(target)[:80]}")
        if not allow_private:
            await _check_public(target)
        async with client.stream("GET", target, timeout=timeout, follow_redirects=False) as reply:
            if reply.is_redirect and "location" in reply.headers:
                target = target.join(reply.headers["location"])
                continue
            note, body = await _read_capped(reply, cap)
            status = reply.status_code
            if status >= 400:
                again = _retryable(status)
                asked = retry_after(reply) if again else None
                return PageResult(status, f"HTTP {status}", body, retry=again, retry_after=asked)
            return PageResult(status, note, body)
    raise PageRefused(f"more than {MAX_REDIRECTS} redirects")


async def _read_capped(response: httpx.Response, cap: int) -> tuple[str | None, bytes]:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > cap:
            del body[cap:]
            return f"page larger than {cap:,} bytes; first {cap:,} kept", bytes(body)
    return None, bytes(body)


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how long to retry a page: attempt n waits ``base * 2**(n-1)`` seconds
    (at most ``cap``, at least what the server asked), up to ``attempts`` in all."""

    attempts: int = 6
    base: float = 30.0
    cap: float = 3600.0

    def delay(self, attempt: int, asked: float | None = None) -> float:
        step = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        return min(self.cap, max(step, asked or 0.0))


def _default_holder() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"


class PageFetcher:
    """Takes snapshots (queuing their page fetches in the store) and does the queued fetches:
    ``fetch_due`` once, or ``run`` until stopped. Outcomes are rows in the store."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        holder: str | None = None,
        allow_private: bool = False,
        parallel: int = 4,
        retry: Retry | None = None,
        timeout: httpx.Timeout = PAGE_TIMEOUT,
        deadline: float = FETCH_DEADLINE,
        stale_after: float = CLAIM_STALE,
        poll: float = POLL_SECONDS,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.claimer = f"{holder or _default_holder()} pages {secrets.token_hex(3)}"
        """Recorded on each claim; unique to this fetcher."""
        self.allow_private = allow_private
        self.parallel = parallel
        self.retry = retry or Retry()
        self.timeout = timeout
        self.deadline = deadline
        self.stale_after = stale_after
        self.poll = poll
        self.log = log
        self._wake = asyncio.Event()

    # -- taking snapshots --------------------------------------------------------------------

    async def snapshot(self, store: Store, mention_id: int) -> Snapshot:
        """Store a snapshot now (its page fetch queued with it) and wake the fetch loop."""
        (snapshot,) = await self.snapshots(store, [mention_id])
        return snapshot

    async def snapshots(self, store: Store, mention_ids: Sequence[int]) -> list[Snapshot]:
        snapshots = await store.add_snapshots(mention_ids)
        if any(s.url for s in snapshots):
            self.wake()
        return snapshots

    def wake(self) -> None:
        """Look for due fetches now rather than at the next poll."""
        self._wake.set()

    # -- doing the fetches -------------------------------------------------------------------

    async def fetch_due(self, store: Store, stop: asyncio.Event | None = None) -> int:
        """Claim and do every fetch due now, ``parallel`` at a time, until none is left (or
        ``stop`` is set); the number of attempts made."""
        done = 0

        async def worker() -> None:
            nonlocal done
            while stop is None or not stop.is_set():
                claims = await store.claim_page_fetches(
                    self.claimer, 1, stale_after_s=self.stale_after
                )
                if not claims:
                    return
                await self._attempt(store, claims[0])
                done += 1

        await asyncio.gather(*(worker() for _ in range(self.parallel)))
        return done

    async def _attempt(self, store: Store, claim: PageClaim) -> None:
        if claim.attempt > self.retry.attempts:
            # Earlier attempts were cut short (their process died each time): stop here.
            await store.finish_page_fetch(
                claim,
                self.claimer,
                status=None,
                error="interrupted: the process fetching it stopped",
                page=None,
                fetched=False,
            )
            return
        try:
            result = await fetch_page(
                self.client,
                claim.url,
                allow_private=self.allow_private,
                timeout=self.timeout,
                deadline=self.deadline,
            )
        except asyncio.CancelledError:
            with contextlib.suppress(StoreError, sqlite3.Error, ValueError):
                await asyncio.shield(store.release_page_fetch(claim, self.claimer))
            raise
        if result.retry and claim.attempt < self.retry.attempts:
            delay = self.retry.delay(claim.attempt, result.retry_after)
            await store.retry_page_fetch(
                claim,
                self.claimer,
                error=result.error or "failed",
                next_try=utcnow() + timedelta(seconds=delay),
            )
            self._log(
                f"page of snapshot {claim.snapshot_id}: {result.error}; "
                f"attempt {claim.attempt + 1} in {delay:.0f}s"
            )
            return
        await store.finish_page_fetch(
            claim,
            self.claimer,
            status=result.status,
            error=result.error,
            page=result.page,
            fetched=result.ok,
        )
        if result.ok:
            size = len(result.page or b"")
            self._log(f"page of snapshot {claim.snapshot_id}: HTTP {result.status}, {size:,} B")
        else:
            self._log(
                f"page of snapshot {claim.snapshot_id}: failed after {claim.attempt} "
                f"attempt{'s' if claim.attempt > 1 else ''}: {result.error}"
            )

    def _log(self, line: str) -> None:
        if self.log is not None:
            self.log(line)

    async def run(
        self,
        store: Store,
        stop: asyncio.Event,
        *,
        may_fetch: Callable[[], Awaitable[bool]] | None = None,
        grace: float = SHUTDOWN_GRACE,
    ) -> None:
        """Until ``stop``: do the fetches that are due (while ``may_fetch()`` says this
        process is the one to), then sleep until the next is due, a snapshot wakes the loop,
        or ``poll`` seconds pass. On ``stop``, attempts in flight get ``grace`` seconds to
        finish; the rest are handed back, pending, for the next process."""
        while not stop.is_set():
            wait = self.poll
            try:
                if may_fetch is None or await may_fetch():
                    due, abandoned = await store.page_fetch_outlook(self.stale_after)
                    now = utcnow()
                    if abandoned or (due is not None and due <= now):
                        work = asyncio.ensure_future(self.fetch_due(store, stop))
                        if await _finish(work, stop, grace):
                            continue  # more may have come due meanwhile
                    elif due is not None:
                        wait = min(self.poll, (due - now).total_seconds())
            except (StoreError, sqlite3.Error) as error:
                self._log(f"page fetches: {error}")
            except Exception as error:  # a bug must not end the loop and strand the queue
                self._log(f"page fetches: {type(error).__name__}: {error}")
            await self._sleep(wait, stop)

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
        try:
            await asyncio.wait(
                waiters, timeout=max(seconds, 0.0), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()


async def _finish(work: asyncio.Future[int], stop: asyncio.Event, grace: float) -> int:
    """``work``'s result; once ``stop`` is set, give it ``grace`` seconds, then cancel it."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            await asyncio.wait({work}, timeout=grace)
        return work.result() if work.done() else 0
    finally:
        stopping.cancel()
        if not work.done():
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)


# -- evidence folders ---------------------------------------------------------------------------


class EvidenceExists(Exception):
    """The evidence folder exists and replacing it was not asked for."""

    def __init__(self, folder: Path) -> None:
        super().__init__(f"{folder} already exists")
        self.folder = folder


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload_name(raw: bytes) -> str:
    try:
        json.loads(raw)
    except ValueError:
        return "payload.bin"
    return "payload.json"


async def write_evidence(
    store: Store,
    mention_id: int,
    directory: Path,
    *,
    force: bool = False,
    on_total: Callable[[int], None] | None = None,
    on_snapshot: Callable[[], None] | None = None,
) -> Path:
    """Write ``directory/mention-ID/`` with text, payload, snapshots, pages and a manifest.

    The manifest lists every file with its SHA-256, and each snapshot's hashes as recorded
    when it was taken, so a reader can check nothing changed since. An existing folder is
    refused (``EvidenceExists``) unless ``force``; either way the folder is written under a
    temporary name beside it and renamed into place when complete, so a failure leaves the
    previous folder (or none), never a half-written one.

    ``on_total`` gets the number of snapshots, ``on_snapshot`` is called after each is written.
    """
    mention = await store.mention(mention_id)
    if mention is None:
        raise KeyError(f"no mention {mention_id}")
    folder = directory / f"mention-{mention_id}"
    if _exists(folder) and not force:
        raise EvidenceExists(folder)
    directory.mkdir(parents=True, exist_ok=True)
    staging = _new_dir(directory, f".{folder.name}.partial")
    try:
        if on_total:
            on_total(len(mention.snapshots))
        await _fill(store, mention, staging, on_snapshot)
        _swap_in(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _new_dir(directory: Path, prefix: str) -> Path:
    """A new directory beside the folder, with the umask's permissions (a shared evidence
    directory stays readable by the team)."""
    while True:
        path = directory / f"{prefix}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap_in(staging: Path, folder: Path) -> None:
    """Put the complete ``staging`` folder under ``folder``'s name, replacing what is there."""
    _fsync(staging)
    old: Path | None = None
    if _exists(folder):
        old = folder.with_name(f".{folder.name}.old-{secrets.token_hex(4)}")
        folder.rename(old)
    try:
        staging.rename(folder)
    except BaseException:
        if old is not None:
            old.rename(folder)
        raise
    _fsync(folder.parent)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


async def _fill(
    store: Store, mention: Mention, folder: Path, on_snapshot: Callable[[], None] | None
) -> None:
    files: dict[str, str] = {}

    def write(name: str, data: bytes) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())

    def put(name: str, data: bytes) -> None:
        write(name, data)
        files[name] = _sha256(data)

    put("text.txt", mention.text.encode("utf-8", "surrogatepass"))
    put(_payload_name(mention.raw), mention.raw)
    snapshots = []
    for snap in mention.snapshots:
        raw, page = await store.snapshot_files(snap.id)
        base = f"snapshots/{snap.id}"
        put(f"{base}/text.txt", snap.text.encode("utf-8", "surrogatepass"))
        put(f"{base}/{_payload_name(raw)}", raw)
        if page is not None:
            put(f"{base}/page.html", page)
        snapshots.append(
            {
                "id": snap.id,
                "taken_at": iso(snap.taken_at),
                "by": snap.by,
                "text_sha256": snap.sha256,
                "url": snap.url,
                "page": snapshot_page(snap),
            }
        )
        if on_snapshot:
            on_snapshot()
    manifest = {
        "mention": {
            "id": mention.id,
            "source": mention.source,
            "external_id": mention.external_id,
            "url": mention.url,
            "author": mention.author,
            "created_at": iso(mention.created_at),
            "collected_at": iso(mention.collected_at),
            "deleted_at": iso(mention.deleted_at),
        },
        "snapshots": snapshots,
        "assigned_to": mention.assigned_to,
        "notes": [{"text": n.text, "at": iso(n.at), "by": n.by} for n in mention.notes],
        "files": files,
    }
    write("manifest.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
