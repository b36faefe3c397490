"""Snapshots' page fetching (cap, failures), automatic snapshots on arrival, and evidence
folders (refused over an existing one unless --force, replaced whole or not at all)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tui import evidence
from tui.cli import main
from tui.core.model import IncomingMention
from tui.core.sentiment import Scorer
from tui.evidence import PageFetcher, fetch_page, write_evidence
from tui.ingest import Ingestor
from tui.store import Store


async def test_page_is_capped_and_the_cap_is_recorded(http_page) -> None:
    url = http_page(b"x" * 5000)
    async with httpx.AsyncClient() as client:
        result = await fetch_page(client, url, cap=1024, allow_private=True)
    assert result.ok and result.status == 200 and result.page == b"x" * 1024
    assert result.error is not None and "first 1,024 kept" in result.error


async def test_fetch_failures_are_returned_not_raised() -> None:
    async with httpx.AsyncClient() as client:
        result = await fetch_page(client, "http://127.0.0.1:9/x", allow_private=True)
        assert result.status is None and result.page is None and result.retry
        assert "ConnectError" in (result.error or "")
        result = await fetch_page(client, "http://127.0.0.1:9/x")
        assert result.status is None and not result.retry
        assert "non-public address" in (result.error or "")
        result = await fetch_page(client, "javascript:alert(1)")
        assert not result.retry and "not an http(s) URL" in (result.error or "")


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
        assert await pages.fetch_due(store) == 1
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
            assert (await fetch_page(client, url, allow_private=True)).page == b"secret"
            refused = await fetch_page(client, url)
        assert refused.page is None and refused.error == "non-public address"
        assert checked == [url, inner]
    finally:
        server.shutdown()
        server.server_close()


# -- evidence folders ---------------------------------------------------------------------------


async def evidence_store(db: Path) -> None:
    store = await Store.open(db, "eve")
    (mid,) = await store.add_mentions(
        [IncomingMention("demo", "1", "parcel lost", "ann", "https://x.example/1")],
        [Scorer().score("parcel lost")],
    )
    snapshot = await store.add_snapshot(mid)
    await store.add_snapshot_page(snapshot.id, status=200, error=None, page=b"<html>hi</html>")
    await store.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_evidence_refuses_an_existing_folder_unless_forced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "m.db"
    asyncio.run(evidence_store(db))
    out_dir = tmp_path / "ev"
    args = ["evidence", "1", "-o", str(out_dir), "--db", str(db)]
    code, out, _ = run(capsys, *args)
    assert code == 0
    folder = Path(out.strip())
    assert folder == out_dir / "mention-1"
    (folder / "notes.txt").write_text("an investigator's own file")

    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(folder) in err and "--force" in err
    assert (folder / "notes.txt").is_file()  # untouched

    code, out, _ = run(capsys, *args, "--force")
    assert code == 0 and Path(out.strip()) == folder
    assert not (folder / "notes.txt").exists()  # replaced, not merged
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert manifest["snapshots"][0]["page"]["state"] == "fetched"
    assert sorted(p.name for p in out_dir.iterdir()) == ["mention-1"]  # no leftovers


async def test_a_failed_forced_rewrite_leaves_the_previous_folder_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "m.db"
    await evidence_store(db)
    out_dir = tmp_path / "ev"
    async with await Store.open(db, "eve") as store:
        folder = await write_evidence(store, 1, out_dir)
        before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

        async def broken(snapshot_id: int) -> tuple[bytes, bytes | None]:
            raise OSError("disk full")

        monkeypatch.setattr(store, "snapshot_files", broken)
        with pytest.raises(OSError, match="disk full"):
            await write_evidence(store, 1, out_dir, force=True)
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in out_dir.iterdir()) == ["mention-1"]  # no half-written folder
