"""Snapshots as evidence: freeze a mention, fetch the page behind it, write an evidence folder.

A snapshot is stored first (text, raw payload, SHA-256, time, operator) and the page fetch
follows as a separate immutable row, so a slow or dead site never delays the snapshot and a
failed fetch is recorded, not raised.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
from pathlib import Path

import httpx

from tui.core.model import Snapshot, iso
from tui.store import Store

PAGE_CAP = 2 * 1024 * 1024
"""Bytes of a fetched page kept with a snapshot."""
PAGE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


MAX_REDIRECTS = 5


class PageRefused(Exception):
    """The page is not fetched (a private address, a non-http URL, too many redirects)."""


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


async def fetch_page(
    client: httpx.AsyncClient, url: str, cap: int = PAGE_CAP, *, allow_private: bool = False
) -> tuple[int | None, str | None, bytes | None]:
    """(HTTP status, error, body up to ``cap`` bytes) for ``url``; never raises for the network.

    Redirects are followed by hand (up to ``MAX_REDIRECTS``) so every hop is checked against
    ``allow_private``.
    """
    try:
        target = httpx.URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            if target.scheme not in ("http", "https"):
                raise PageRefused(f"not an http(s) URL: {str(target)[:80]}")
            if not allow_private:
                await _check_public(target)
            async with client.stream(
                "GET", target, timeout=PAGE_TIMEOUT, follow_redirects=False
            ) as response:
                if response.is_redirect and "location" in response.headers:
                    target = target.join(response.headers["location"])
                    continue
                return response.status_code, *await _read_capped(response, cap)
        raise PageRefused(f"more than {MAX_REDIRECTS} redirects")
    except PageRefused as refused:
        return None, str(refused), None
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        return None, (f"{type(exc).__name__}: {exc}"[:300]), None


async def _read_capped(response: httpx.Response, cap: int) -> tuple[str | None, bytes]:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > cap:
            del body[cap:]
            return f"page larger than {cap:,} bytes; first {cap:,} kept", bytes(body)
    return None, bytes(body)


class PageFetcher:
    """Fetches the pages behind snapshots in the background, a few at a time, and stores each
    outcome (page or failure) with its snapshot. ``drain`` waits for those still running."""

    def __init__(
        self, client: httpx.AsyncClient, *, allow_private: bool = False, parallel: int = 4
    ) -> None:
        self.client = client
        self.allow_private = allow_private
        self._slots = asyncio.Semaphore(parallel)
        self._tasks: set[asyncio.Task[None]] = set()

    async def snapshot(self, store: Store, mention_id: int) -> Snapshot:
        """Store a snapshot now; its page (if it has a URL) follows in the background."""
        snapshot = await store.add_snapshot(mention_id)
        self.fetch_later(store, snapshot)
        return snapshot

    def fetch_later(self, store: Store, snapshot: Snapshot) -> None:
        if not snapshot.url:
            return
        task = asyncio.create_task(self._fetch(store, snapshot))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _fetch(self, store: Store, snapshot: Snapshot) -> None:
        assert snapshot.url is not None
        async with self._slots:
            status, error, page = await fetch_page(
                self.client, snapshot.url, allow_private=self.allow_private
            )
        await store.add_snapshot_page(snapshot.id, status=status, error=error, page=page)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for running fetches, then cancel the rest (their
        snapshots stay, without a page)."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _payload_name(raw: bytes) -> str:
    try:
        json.loads(raw)
    except ValueError:
        return "payload.bin"
    return "payload.json"


async def write_evidence(store: Store, mention_id: int, directory: Path) -> Path:
    """Write ``directory/mention-ID/`` with text, payload, snapshots, pages and a manifest.

    The manifest lists every file with its SHA-256, and each snapshot's hashes as recorded
    when it was taken, so a reader can check nothing changed since.
    """
    mention = await store.mention(mention_id)
    if mention is None:
        raise KeyError(f"no mention {mention_id}")
    folder = directory / f"mention-{mention_id}"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
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
                "page": {
                    "status": snap.fetch_status,
                    "error": snap.fetch_error,
                    "sha256": snap.page_sha256,
                    "size": snap.page_size,
                }
                if snap.fetched
                else None,
            }
        )
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
        "files": files,
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return folder
