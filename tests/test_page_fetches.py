"""Page fetches behind snapshots as durable work: queued with the snapshot, claimed by one
process, retried with backoff, recovered after a quit or a kill -9, shown in the detail pane
and the export. Against a real loopback HTTP server and real SQLite files."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.sources.server import Reply, Server
from tui.cli import main
from tui.config import Config
from tui.core.model import IncomingMention, Score, Snapshot, utcnow
from tui.core.records import snapshot_page
from tui.evidence import PageFetcher, Retry
from tui.runtime import Runtime
from tui.store import Store
from tui.ui.widgets.detail import page_state

NEG = Score(-0.6, "negative")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as opened:
        yield opened


async def mention_with(store: Store, url: str, external_id: str = "1") -> int:
    (mid,) = await store.add_mentions(
        [IncomingMention("demo", external_id, "parcel lost", "ann", url)], [NEG]
    )
    return mid


async def snapshot_of(store: Store, mention_id: int) -> Snapshot:
    mention = await store.mention(mention_id)
    assert mention is not None
    return mention.snapshots[-1]


def db_rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.02)


# -- retries and final outcomes ---------------------------------------------------------------


async def test_a_failed_fetch_is_retried_with_backoff_then_stored(
    store: Store, server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/post", Reply(503, b"busy"), Reply(200, b"<html>the post</html>"))
    mid = await mention_with(store, server.url + "/post")
    fetcher = PageFetcher(client, allow_private=True, retry=Retry(attempts=4, base=0.3))
    snap = await fetcher.snapshot(store, mid)
    queued = await snapshot_of(store, mid)
    assert (queued.fetch_state, queued.fetch_attempts, queued.fetched) == ("pending", 0, False)
    assert snap.fetch_state == "pending"

    assert await fetcher.fetch_due(store) == 1
    waiting = await snapshot_of(store, mid)
    assert (waiting.fetch_state, waiting.fetch_attempts) == ("pending", 1)
    assert waiting.fetch_error == "HTTP 503" and waiting.next_fetch is not None
    assert waiting.next_fetch > utcnow()  # backoff: not due again yet
    shown = page_state(waiting, utcnow())
    assert shown.startswith("page: pending (attempt 2, next try ") and "last: HTTP 503" in shown
    assert await fetcher.fetch_due(store) == 0  # nothing due before the backoff ends
    assert len(server.to("/post")) == 1

    stop = asyncio.Event()
    loop = asyncio.create_task(fetcher.run(store, stop))

    async def fetched() -> bool:
        return (await snapshot_of(store, mid)).fetched

    await until(fetched)
    stop.set()
    await loop
    done = await snapshot_of(store, mid)
    assert (done.fetch_state, done.fetch_attempts, done.fetch_status) == ("fetched", 2, 200)
    assert done.page_size == len(b"<html>the post</html>") and done.fetch_error is None
    assert page_state(done, utcnow()) == "page: HTTP 200, 21 B (attempt 2)"
    assert len(server.to("/post")) == 2
    assert (await store.snapshot_files(snap.id))[1] == b"<html>the post</html>"
    events = [e for e in await store.events(mid) if e.action == "snapshot_page"]
    assert len(events) == 1 and json.loads(events[0].detail)["attempts"] == 2


async def test_a_4xx_and_a_refused_address_are_final(
    store: Store, server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/gone", Reply(404, b"no such post"))
    server.route("/admin", Reply(200, b"internal"))
    gone = await mention_with(store, server.url + "/gone", "gone")
    fetcher = PageFetcher(client, allow_private=True, retry=Retry(base=0))
    await fetcher.snapshot(store, gone)
    assert await fetcher.fetch_due(store) == 1
    private = await mention_with(store, server.url + "/admin", "private")
    strict = PageFetcher(client, retry=Retry(base=0))  # loopback refused, the default
    await strict.snapshot(store, private)
    assert await strict.fetch_due(store) == 1
    assert await fetcher.fetch_due(store) == 0  # neither is ever tried again

    failed = await snapshot_of(store, gone)
    assert (failed.fetch_state, failed.fetch_attempts, failed.fetch_status) == ("failed", 1, 404)
    assert page_state(failed, utcnow()) == "page: failed after 1 attempt: HTTP 404"
    refused = await snapshot_of(store, private)
    assert (refused.fetch_state, refused.fetch_attempts) == ("failed", 1)
    assert "non-public address" in (refused.fetch_error or "")
    assert len(server.to("/gone")) == 1 and server.to("/admin") == []


async def test_network_errors_and_timeouts_are_retried_until_the_last_attempt(
    store: Store, server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/slow", Reply(200, b"late", delay=1.5), Reply(200, b"in time"))
    slow = await mention_with(store, server.url + "/slow", "slow")
    dead = await mention_with(store, "http://127.0.0.1:9/nothing-listens", "dead")
    server.route("/busy", Reply(502, b"bad gateway"))
    busy = await mention_with(store, server.url + "/busy", "busy")
    fetcher = PageFetcher(
        client,
        allow_private=True,
        retry=Retry(attempts=3, base=0),
        timeout=httpx.Timeout(0.3),
    )
    for mid in (slow, dead, busy):
        await fetcher.snapshot(store, mid)
    while await fetcher.fetch_due(store):
        pass
    in_time = await snapshot_of(store, slow)
    assert (in_time.fetch_state, in_time.fetch_attempts) == ("fetched", 2)
    refused = await snapshot_of(store, dead)
    assert (refused.fetch_state, refused.fetch_attempts) == ("failed", 3)
    assert "ConnectError" in (refused.fetch_error or "")
    overloaded = await snapshot_of(store, busy)
    assert (overloaded.fetch_state, overloaded.fetch_attempts) == ("failed", 3)
    assert page_state(overloaded, utcnow()) == "page: failed after 3 attempts: HTTP 502"
    assert len(server.to("/busy")) == 3


async def test_a_quit_mid_fetch_hands_it_back_for_the_next_process(
    store: Store, server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/post", Reply(200, b"too slow", delay=10), Reply(200, b"page"))
    mid = await mention_with(store, server.url + "/post")
    first = PageFetcher(client, allow_private=True)
    await first.snapshot(store, mid)
    stop = asyncio.Event()
    loop = asyncio.create_task(first.run(store, stop, grace=0.1))

    async def requested() -> bool:
        return len(server.to("/post")) == 1

    await until(requested)
    assert (await snapshot_of(store, mid)).fetch_state == "fetching"
    stop.set()
    await asyncio.wait_for(loop, 2)
    handed_back = await snapshot_of(store, mid)
    assert (handed_back.fetch_state, handed_back.fetch_attempts) == ("pending", 0)

    later = PageFetcher(client, allow_private=True)
    assert await later.fetch_due(store) == 1
    done = await snapshot_of(store, mid)
    assert (done.fetch_state, done.fetch_attempts, done.page_size) == ("fetched", 1, 4)


# -- crashes and concurrency --------------------------------------------------------------------

FETCH_SCRIPT = """
import asyncio, sys
import httpx
from tui.evidence import PageFetcher
from tui.store import Store

async def main():
    store = await Store.open({db!r}, "worker")
    async with httpx.AsyncClient() as client:
        fetcher = PageFetcher(client, allow_private=True, parallel=4)
        print("ready", flush=True)
        sys.stdin.readline()
        print(await fetcher.fetch_due(store), flush=True)
    await store.close()

asyncio.run(main())
"""


def start_worker(db: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", FETCH_SCRIPT.format(db=str(db))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


async def test_a_fetch_claimed_by_a_killed_process_is_fetched_again_at_once(
    store: Store, db_path: Path, server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/post", Reply(200, b"never sent", delay=30), Reply(200, b"page"))
    mid = await mention_with(store, server.url + "/post")
    await store.add_snapshot(mid)
    worker = start_worker(db_path)
    assert worker.stdin is not None
    worker.stdin.write("go\n")
    worker.stdin.flush()

    async def requested() -> bool:
        return len(server.to("/post")) == 1

    await until(requested)
    claimed = db_rows(db_path, "SELECT state, claimed_pid, attempts FROM snapshot_fetches")
    assert claimed == [("fetching", worker.pid, 1)]
    worker.send_signal(signal.SIGKILL)  # kill -9 mid-fetch
    worker.communicate(timeout=10)  # reaped, pipes closed

    started = time.monotonic()
    fetcher = PageFetcher(client, allow_private=True)
    _, abandoned = await store.page_fetch_outlook(fetcher.stale_after)
    assert abandoned  # the claimer's pid is gone on this host: no need to wait for staleness
    assert await fetcher.fetch_due(store) == 1
    assert time.monotonic() - started < 5
    done = await snapshot_of(store, mid)
    assert (done.fetch_state, done.fetch_attempts, done.page_size) == ("fetched", 2, 4)


async def test_a_stale_claim_from_another_host_is_taken_over_a_fresh_one_is_not(
    store: Store, db_path: Path, server: Server, client: httpx.AsyncClient
) -> None:
    server.route("/post", Reply(200, b"page"))
    mid = await mention_with(store, server.url + "/post")
    await store.add_snapshot(mid)
    now_ms = int(time.time() * 1000)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE snapshot_fetches SET state = 'fetching', attempts = 1,"
            " claimed_by = 'bo@other-host pid 1', claimed_host = 'other-host', claimed_pid = 1,"
            " claimed_at = ?",
            (now_ms,),
        )
    fetcher = PageFetcher(client, allow_private=True, stale_after=120)
    assert await fetcher.fetch_due(store) == 0  # alive for all we know: its claim stands
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE snapshot_fetches SET claimed_at = ?", (now_ms - 121_000,))
    assert await fetcher.fetch_due(store) == 1
    done = await snapshot_of(store, mid)
    assert (done.fetch_state, done.fetch_attempts) == ("fetched", 2)


async def test_two_processes_never_fetch_the_same_page(
    store: Store, db_path: Path, server: Server
) -> None:
    count = 40
    for n in range(count):
        server.route(f"/p{n}", Reply(200, f"page {n}".encode(), delay=0.1))
        mid = await mention_with(store, f"{server.url}/p{n}", str(n))
        await store.add_snapshot(mid)
    workers = [start_worker(db_path), start_worker(db_path)]
    for worker in workers:  # both are ready: let them loose at the same moment
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    done = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0
        done.append(int(out.strip()))
    assert sum(done) == count and all(n > 0 for n in done), done  # both took part
    for n in range(count):
        assert len(server.to(f"/p{n}")) == 1, n  # each page fetched exactly once
    assert db_rows(db_path, "SELECT count(*) FROM snapshot_pages") == [(count,)]
    assert db_rows(db_path, "SELECT DISTINCT state, attempts FROM snapshot_fetches") == [
        ("fetched", 1)
    ]


# -- who fetches: import queues, collect fetches, an app fetches when nobody collects ----------


def write_config(tmp_path: Path, feed: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            auto_snapshot = "all"
            snapshot_fetch_private = true

            [[sources]]
            kind = "jsonl"
            name = "bridge"
            path = "{feed}"
            """
        ),
        encoding="utf-8",
    )
    return config


def test_import_only_queues_and_collect_fetches(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/post", Reply(200, b"<p>as posted</p>"))
    feed = tmp_path / "feed.jsonl"
    feed.write_text("", encoding="utf-8")
    config = write_config(tmp_path, feed)
    lines = tmp_path / "in.jsonl"
    record = {"external_id": "1", "text": "parcel lost", "url": server.url + "/post"}
    lines.write_text(json.dumps(record) + "\n", encoding="utf-8")
    db = tmp_path / "m.db"
    common = ["--db", str(db), "--config", str(config)]

    assert main(["import", str(lines), *common]) == 0
    assert server.to("/post") == []  # import queues the fetch; it does not fetch
    assert main(["export", *common]) == 0
    out = capsys.readouterr().out
    (page,) = [s["page"] for s in json.loads(out.splitlines()[0])["snapshots"]]
    assert page["state"] == "pending" and page["attempts"] == 0 and page["status"] is None

    assert main(["collect", "--once", *common]) == 0
    assert len(server.to("/post")) == 1
    assert main(["export", *common]) == 0
    out = capsys.readouterr().out
    (page,) = [s["page"] for s in json.loads(out.splitlines()[0])["snapshots"]]
    assert page["state"] == "fetched" and page["status"] == 200 and page["size"] == 16
    assert page["attempts"] == 1 and page["next_try"] is None


async def test_an_app_fetches_only_when_nobody_else_holds_the_lease(
    db_path: Path, store: Store, server: Server
) -> None:
    server.route("/post", Reply(200, b"page"))
    mid = await mention_with(store, server.url + "/post")
    assert await store.acquire_lease("cron@box pid 1", 60)  # a live collector holds it
    runtime = Runtime(Config(snapshot_fetch_private=True), db_path, "ana", log=lambda _: None)
    runtime.start_pages()
    try:
        await runtime.pages.snapshot(store, mid)
        await asyncio.sleep(1.5)
        assert server.to("/post") == []  # the lease holder's job, not this app's
        await store.release_lease("cron@box pid 1")

        async def fetched() -> bool:
            return (await snapshot_of(store, mid)).fetched

        await until(fetched, timeout=5)
    finally:
        await runtime.close()
    assert len(server.to("/post")) == 1


# -- how it is shown ---------------------------------------------------------------------------


def snap(**fields: object) -> Snapshot:
    base: dict[str, object] = dict(
        id=1,
        mention_id=1,
        taken_at=utcnow(),
        by="ann",
        text="t",
        sha256="0" * 64,
        url="https://x.example/1",
        fetch_status=None,
        fetch_error=None,
        page_sha256=None,
        page_size=None,
        fetched=False,
    )
    return Snapshot(**{**base, **fields})  # type: ignore[arg-type]


def test_detail_pane_and_export_show_each_state() -> None:
    now = utcnow()
    later = now + timedelta(seconds=90)
    pending = snap(
        fetch_state="pending", fetch_attempts=2, next_fetch=later, fetch_error="HTTP 503"
    )
    assert page_state(pending, now) == "page: pending (attempt 3, next try in 1m); last: HTTP 503"
    assert page_state(snap(fetch_state="fetching", fetch_attempts=1), now) == (
        "page: fetching (attempt 1)"
    )
    fetched = snap(
        fetch_state="fetched",
        fetch_attempts=1,
        fetch_status=200,
        page_sha256="a" * 64,
        page_size=2048,
        fetched=True,
    )
    assert page_state(fetched, now) == "page: HTTP 200, 2,048 B"
    failed = snap(
        fetch_state="failed", fetch_attempts=6, fetch_error="ReadTimeout: x", fetched=True
    )
    assert page_state(failed, now) == "page: failed after 6 attempts: ReadTimeout: x"
    assert page_state(snap(url=None), now) == "no URL"

    assert snapshot_page(snap(url=None)) is None
    exported = snapshot_page(pending)
    assert exported is not None
    assert exported["state"] == "pending" and exported["attempts"] == 2
    assert exported["next_try"] is not None and exported["error"] == "HTTP 503"
    assert snapshot_page(fetched) == {
        "state": "fetched",
        "attempts": 1,
        "next_try": None,
        "status": 200,
        "error": None,
        "sha256": "a" * 64,
        "size": 2048,
    }
