"""Snapshots as evidence: freeze a mention, fetch the page behind it, write an evidence folder.

A snapshot is stored first (text, raw payload, SHA-256, time, operator) and the page fetch
follows as a separate immutable row, so a slow or dead site never delays the snapshot and a
failed fetch is recorded, not raised.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx

from tui.core.model import Snapshot, iso
from tui.store import Store

PAGE_CAP = 2 * 1024 * 1024
"""Bytes of a fetched page kept with a snapshot."""
PAGE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


async def fetch_page(
    client: httpx.AsyncClient, url: str, cap: int = PAGE_CAP
) -> tuple[int | None, str | None, bytes | None]:
    """(HTTP status, error, body up to ``cap`` bytes) for ``url``; never raises for the network."""
    if not url.lower().startswith(("http://", "https://")):
        return None, f"not an http(s) URL: {url[:80]}", None
    try:
        async with client.stream(
            "GET", url, timeout=PAGE_TIMEOUT, follow_redirects=True
        ) as response:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > cap:
                    del body[cap:]
                    truncated = True
                    break
            error = f"page larger than {cap:,} bytes; first {cap:,} kept" if truncated else None
            return response.status_code, error, bytes(body)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__, None


async def fetch_snapshot_page(store: Store, client: httpx.AsyncClient, snapshot: Snapshot) -> None:
    """Fetch the page behind a stored snapshot and store the outcome (success or failure)."""
    if snapshot.url:
        status, error, page = await fetch_page(client, snapshot.url)
        await store.add_snapshot_page(snapshot.id, status=status, error=error, page=page)


async def take_snapshot(
    store: Store, client: httpx.AsyncClient | None, mention_id: int
) -> Snapshot:
    """Store a snapshot now, then (if the mention has a URL and a client is given) its page."""
    snapshot = await store.add_snapshot(mention_id)
    if client is not None:
        await fetch_snapshot_page(store, client, snapshot)
    return snapshot


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
