"""Snapshots' page fetching (cap, failures) and automatic snapshots on arrival."""

from __future__ import annotations

import httpx
import pytest

from tui import evidence
from tui.core.model import IncomingMention
from tui.core.sentiment import Scorer
from tui.evidence import PageFetcher, fetch_page
from tui.ingest import Ingestor
from tui.store import Store


async def test_page_is_capped_and_the_cap_is_recorded(http_page) -> None:
    url = http_page(b"x" * 5000)
    async with httpx.AsyncClient() as client:
        status, error, body = await fetch_page(client, url, cap=1024, allow_private=True)
    assert status == 200 and body == b"x" * 1024
    assert error is not None and "first 1,024 kept" in error


async def test_fetch_failures_are_returned_not_raised() -> None:
    async with httpx.AsyncClient() as client:
        status, error, body = await fetch_page(client, "http://127.0.0.1:9/x", allow_private=True)
        assert status is None and body is None and "ConnectError" in (error or "")
        status, error, body = await fetch_page(client, "http://127.0.0.1:9/x")
        assert status is None and "non-public address" in (error or "")
        status, error, body = await fetch_page(client, "javascript:alert(1)")
        assert status is None and "not an http(s) URL" in (error or "")


async def test_auto_snapshot_negative_snapshots_negatives_on_arrival(
    store: Store, http_page
) -> None:
    url = http_page(b"<p>evidence</p>")
    async with httpx.AsyncClient() as client:
        pages = PageFetcher(client, allow_private=True)
        ingestor = Ingestor(store, Scorer(), auto_snapshot="negative", pages=pages)
        ids = await ingestor.ingest(
            [
                IncomingMention(
                    "demo", "1", "This is terrible, my parcel is lost and nobody helps", url=url
                ),
                IncomingMention("demo", "2", "Lovely service, thank you so much!"),
            ]
        )
        await pages.drain(timeout=5)
    negative = await store.mention(ids[0])
    positive = await store.mention(ids[1])
    assert negative is not None and positive is not None
    assert negative.score.label == "negative" and positive.score.label == "positive"
    assert len(negative.snapshots) == 1 and positive.snapshots == ()
    assert negative.snapshots[0].fetch_status == 200 and negative.snapshots[0].page_size == 15
    assert negative.snapshots[0].by == "tester"


async def test_auto_snapshot_off_by_default(store: Store) -> None:
    ingestor = Ingestor(store, Scorer())
    (mid,) = await ingestor.ingest([IncomingMention("demo", "1", "Awful, awful, awful service")])
    mention = await store.mention(mid)
    assert mention is not None and mention.snapshots == ()


async def test_scoring_is_bounded_for_huge_posts(store: Store) -> None:
    text = "😡 terrible delay " * 7000  # ~120 KB
    ingestor = Ingestor(store, Scorer())
    (mid,) = await ingestor.ingest([IncomingMention("demo", "big", text)])
    mention = await store.mention(mid)
    assert mention is not None and mention.text == text and mention.score.label == "negative"


async def test_every_redirect_hop_is_checked(http_page, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL that passes the check cannot redirect to one that does not."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    inner = http_page(b"secret")

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", inner)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/go"
        checked: list[str] = []

        async def only_the_first_hop_is_public(target: httpx.URL) -> None:
            checked.append(str(target))
            if str(target) != url:
                raise evidence.PageRefused("non-public address")

        monkeypatch.setattr(evidence, "_check_public", only_the_first_hop_is_public)
        async with httpx.AsyncClient() as client:
            assert (await fetch_page(client, url, allow_private=True))[2] == b"secret"
            _, error, body = await fetch_page(client, url)
        assert body is None and error == "non-public address"
        assert checked == [url, inner]
    finally:
        server.shutdown()
        server.server_close()
