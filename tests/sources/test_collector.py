"""The collector against a loopback server and a real SQLite store: cursors stored with their
mentions, crashes that lose and repeat nothing, the lease, isolation of bad sources, stopping."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sources.helpers import FAST, fixture, shared_json, source_config
from tests.sources.server import Reply, Server
from tui.collector import Collector, collect, doctor, format_doctor_table, run_collect_cli
from tui.config import Config, SourceConfig
from tui.core.model import IncomingMention, Score
from tui.evidence import PageFetcher
from tui.store import Store

HN = "/api/v1/search_by_date"
TAG = "/api/v1/timelines/tag/acme"
TOKEN = "masto-secret-token-42"


class Log(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)

    def about(self, name: str) -> list[str]:
        return [line for line in self if f" {name}: " in line or line.startswith(f"{name}: ")]


def config(*sources: SourceConfig) -> Config:
    return Config(sources=sources, brand_terms=("acme",))


def hn(server: Server, name: str = "hn", interval: float = 60.0) -> SourceConfig:
    return source_config("hackernews", server.url, name, interval, query="acme")


def masto(server: Server, name: str = "masto", **options: Any) -> SourceConfig:
    return source_config("mastodon", server.url, name, hashtags=["acme"], **options)


def collector(
    cfg: Config, store: Store, client: httpx.AsyncClient, log: Log, **kw: Any
) -> Collector:
    return Collector(
        cfg,
        store,
        client,
        holder=kw.pop("holder", "tester@host pid 1"),
        log=log,
        backoff=FAST,
        **kw,
    )


async def count(store: Store, source: str | None = None) -> int:
    sql = "SELECT count(*) FROM mentions" + (" WHERE source = ?" if source else "")
    (n,) = await store._one(sql, (source,) if source else ())
    return int(n)


async def run_until(coroutine: Any, condition: Any, timeout: float = 5.0) -> None:
    """Run ``coroutine`` (given a stop event) until ``await condition()`` is true."""
    stop = asyncio.Event()
    task = asyncio.create_task(coroutine(stop))
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


# -- storing ----------------------------------------------------------------------------------


async def test_collect_once_twice_adds_nothing_the_second_time(
    server: Server, client: httpx.AsyncClient, store: Store, shared_dir: Path
) -> None:
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    timeline = shared_json(shared_dir, "cassette_localhost_timelines_tag.json")
    server.route(TAG, Reply.json(timeline["interactions"][0]["response"]["body"]))
    cfg = config(hn(server), masto(server))
    log = Log()
    run = dict(once=True, stop=asyncio.Event(), log=log, holder="cron@host pid 7", client=client)

    assert await collect(cfg, store, **run, backoff=FAST) == 0, log
    assert (await count(store, "hn"), await count(store, "masto")) == (3, 1)
    states = {s.name: s for s in await store.source_states()}
    assert (
        states["hn"].state == "ok" and json.loads(states["hn"].cursor or "")["since"] == 1741083330
    )
    assert json.loads(states["masto"].cursor or "") == {"tag:acme": "117020593741189701"}
    assert len(log.about("hn")) == 1 and "3 new of 3" in log.about("hn")[0]

    assert await collect(cfg, store, **run, backoff=FAST) == 0
    assert await count(store) == 4
    assert await store.lease_holder() is None  # released after the round


async def test_cursor_moves_in_the_same_transaction_as_the_mentions(
    server: Server, client: httpx.AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write dies after the mentions were inserted but before the cursor: neither lands."""
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    log = Log()
    crawler = collector(config(hn(server)), store, client, log)
    execute = store._db.execute

    def failing(sql: str, *args: Any) -> Any:
        if sql.startswith("INSERT INTO source_state(name, cursor)"):
            raise OSError("disk unplugged")
        return execute(sql, *args)

    monkeypatch.setattr(store._db, "execute", failing)
    outcome = await crawler.poll(crawler.sources[0])
    monkeypatch.undo()

    assert (
        outcome is not None and outcome.state == "error" and "disk unplugged" in str(outcome.error)
    )
    assert await count(store) == 0
    state = await store.source_state("hn")
    assert state is not None and state.cursor is None


async def test_a_crash_between_fetch_and_store_loses_and_repeats_nothing(
    server: Server, client: httpx.AsyncClient, store: Store
) -> None:
    hits = fixture("hn_search_by_date.json")["hits"]
    server.route(HN, Reply.json({"hits": hits[2:], "nbPages": 1}))
    crawler = collector(config(hn(server)), store, client, Log())
    source = crawler.sources[0]
    await crawler.poll(source)
    assert await count(store) == 1  # the oldest hit; "The Acmeist poets" is filtered out
    before = await store.source_state("hn")

    # New hits arrive; the process dies after fetching them, before storing anything.
    server.route(HN, Reply.json({"hits": hits, "nbPages": 1}))

    class Crash(BaseException):
        pass

    async def crash(*args: Any, **kwargs: Any) -> list[int]:
        raise Crash

    crawler.ingestor.ingest = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await crawler.poll(source)
    after = await store.source_state("hn")
    assert after is not None and before is not None and after.cursor == before.cursor

    # A restarted collector starts from the stored cursor: everything once, nothing twice.
    restarted = collector(config(hn(server)), store, client, Log())
    outcome = await restarted.poll(restarted.sources[0])
    assert outcome is not None and outcome.new == 2
    outcome = await restarted.poll(restarted.sources[0])
    assert outcome is not None and outcome.new == 0
    rows = await store._all("SELECT external_id FROM mentions ORDER BY external_id")
    assert [r[0] for r in rows] == ["43249800", "43250001", "43250017"]


# -- health and isolation -----------------------------------------------------------------------


async def test_failures_are_recorded_with_the_servers_message_and_no_secret(
    server: Server, client: httpx.AsyncClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTO_TOKEN", TOKEN)
    server.route(
        "/denied/api/v1/timelines/tag/acme",
        Reply.json({"error": f"Token {TOKEN} was revoked"}, 401),
    )
    server.route(
        "/closed/api/v1/timelines/tag/acme", Reply.json({"error": "This instance is private"}, 403)
    )
    server.route(
        "/busy/api/v1/timelines/tag/acme",
        Reply.json({"error": "Too many requests"}, 429, headers={"Retry-After": "3600"}),
    )
    sources = [
        source_config(
            "mastodon", f"{server.url}/{name}", name, hashtags=["acme"], token_env="MASTO_TOKEN"
        )
        for name in ("denied", "closed", "busy")
    ]
    log = Log()
    outcomes = await collector(config(*sources), store, client, log).run_once()
    assert outcomes is not None
    states = {s.name: s for s in await store.source_states()}
    assert states["denied"].state == "needs credentials"
    assert "was revoked" in (states["denied"].last_error or "")
    assert states["closed"].state == "unavailable"
    assert "This instance is private" in (states["closed"].last_error or "")
    busy = states["busy"]
    assert busy.state == "rate limited" and busy.next_poll is not None
    assert (busy.next_poll - busy.last_error_at).total_seconds() > 3000  # type: ignore[operator]
    everything = "\n".join(log) + json.dumps([s.last_error for s in states.values()])
    assert TOKEN not in everything
    raw = await store._all("SELECT * FROM source_state")
    assert TOKEN not in repr(raw)


async def test_one_hanging_source_does_not_stall_the_others(
    server: Server, client: httpx.AsyncClient, store: Store
) -> None:
    server.route("/slow/api/v1/search_by_date", Reply.json({"hits": []}, delay=3.0))
    server.route("/broken/api/v1/search_by_date", Reply(200, b"{not json", {}))
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    cfg = config(
        source_config("hackernews", server.url + "/slow", "slow", 60.0, query="acme"),
        source_config("hackernews", server.url + "/broken", "broken", 0.05, query="acme"),
        hn(server, interval=0.05),
    )
    log = Log()
    crawler = collector(cfg, store, client, log)

    async def good_polled_often() -> bool:
        return len(log.about("hn")) >= 4

    await run_until(crawler.run, good_polled_often, timeout=3.0)
    assert await count(store, "hn") == 3
    assert len(log.about("broken")) >= 3 and "malformed JSON" in log.about("broken")[0]
    assert log.about("slow") == []  # still retrying its timeouts: nothing blocked on it


# -- the lease ----------------------------------------------------------------------------------


async def test_only_the_lease_holder_polls(
    server: Server, client: httpx.AsyncClient, store: Store, db_path: Path
) -> None:
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    cfg = config(hn(server, interval=0.05))
    first_log, second_log = Log(), Log()
    first = collector(cfg, store, client, first_log, holder="ana@box pid 1")
    async with await Store.open(db_path, "bo") as other:
        second = collector(cfg, other, client, second_log, holder="bo@box pid 2")
        stop = asyncio.Event()
        running = asyncio.create_task(first.run(stop))
        while not first.holding:
            await asyncio.sleep(0.01)

        assert await second.run_once() is None
        assert any("held by ana@box pid 1" in line for line in second_log)
        exit_code = await collect(
            cfg,
            other,
            once=True,
            stop=asyncio.Event(),
            log=second_log,
            holder="bo@box pid 2",
            client=client,
        )
        assert exit_code == 0
        assert second.holding is False
        holder = await other.lease_holder()
        assert holder is not None and holder[0] == "ana@box pid 1"
        stop.set()
        await running
        assert await store.lease_holder() is None


async def test_a_stale_lease_is_taken_over_and_the_old_holder_steps_back(
    server: Server, client: httpx.AsyncClient, store: Store, db_path: Path
) -> None:
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    cfg = config(hn(server, interval=0.05))
    await store.acquire_lease("crashed@box pid 9", 60)  # a process that died holding it
    log = Log()
    changes: list[bool] = []  # what an app is told, to redraw its status line
    taker = collector(
        cfg, store, client, log, holder="bo@box pid 2", lease_ttl=0.3, on_lease=changes.append
    )

    async def holding() -> bool:
        return taker.holding and len(log.about("hn")) >= 1

    stop = asyncio.Event()
    running = asyncio.create_task(taker.run(stop))
    async with asyncio.timeout(5):
        while not await holding():
            await asyncio.sleep(0.02)
    assert any("waiting for the collector lease: held by crashed@box pid 9" in line for line in log)
    assert any("collector lease taken by bo@box pid 2" in line for line in log)
    assert changes == [True]  # once, not at every renewal

    # Someone else takes it over (as if this process had stalled): it stops polling.
    async with await Store.open(db_path, "cy") as other:
        await other._db.execute("UPDATE lease SET heartbeat = 0")
        assert await other.acquire_lease("cy@box pid 3", 0.3)
        async with asyncio.timeout(5):
            while taker.holding:
                await asyncio.sleep(0.02)
        polls = len(log.about("hn"))
        await asyncio.sleep(0.2)
        assert len(log.about("hn")) == polls
        assert any("collector lease lost; held by cy@box pid 3" in line for line in log)
        assert changes == [True, False]
        await other.acquire_lease("cy@box pid 3", 0.3)
        stop.set()
        await running


LEASE_SCRIPT = """
import asyncio, sys
from tui.collector import holder_name
from tui.store import Store

async def main():
    store = await Store.open({db!r}, "ghost")
    assert await store.acquire_lease(holder_name("ghost"), 60)
    print("held", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


async def test_a_lease_whose_holder_was_killed_is_taken_over_at_once(
    server: Server, client: httpx.AsyncClient, store: Store, db_path: Path
) -> None:
    """A real process takes the lease and is killed with SIGKILL: its heartbeat is fresh, but
    its pid is gone on this host, so a waiting collector takes over within a second or two,
    not after the 60 s heartbeat timeout."""
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    ghost = subprocess.Popen(
        [sys.executable, "-c", LEASE_SCRIPT.format(db=str(db_path))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert ghost.stdout is not None and ghost.stdout.readline().strip() == "held"
    log = Log()
    taker = collector(config(hn(server)), store, client, log, holder="bo@box pid 2")
    assert taker.lease_ttl == 60
    assert not await taker.take_lease()  # alive: its lease stands
    stop = asyncio.Event()
    running = asyncio.create_task(taker.run(stop))
    try:
        async with asyncio.timeout(5):
            while not any("waiting for the collector lease: held by ghost@" in x for x in log):
                await asyncio.sleep(0.02)
        ghost.send_signal(signal.SIGKILL)
        ghost.communicate(timeout=10)
        killed = asyncio.get_running_loop().time()
        async with asyncio.timeout(10):
            while not (taker.holding and log.about("hn")):
                await asyncio.sleep(0.02)
        taken_after = asyncio.get_running_loop().time() - killed
    finally:
        stop.set()
        await asyncio.wait_for(running, 5)
    assert taken_after < 3.0, taken_after  # well under the heartbeat timeout
    assert any("collector lease taken by bo@box pid 2" in line for line in log)
    assert await count(store, "hn") == 3
    state = await store.source_state("hn")
    assert state is not None and state.kind == "hackernews"  # recorded with each poll


async def test_the_lease_holder_fetches_pages_queued_by_any_process(
    server: Server, client: httpx.AsyncClient, store: Store, db_path: Path
) -> None:
    """The headless collector (``triage collect``) runs the page fetches while it holds the
    lease; one waiting for the lease does not."""
    server.route(HN, Reply.json({"hits": []}))
    server.route("/page", Reply(200, b"<p>kept</p>"))
    cfg = config(hn(server, interval=0.05))
    holder_pages = PageFetcher(client, holder="ana@box pid 1", allow_private=True)
    holder = collector(cfg, store, client, Log(), holder="ana@box pid 1", pages=holder_pages)
    async with await Store.open(db_path, "bo") as other:
        waiter_pages = PageFetcher(client, holder="bo@box pid 2", allow_private=True)
        waiter = collector(cfg, other, client, Log(), holder="bo@box pid 2", pages=waiter_pages)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(holder.run(stop))]
        while not holder.holding:
            await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(waiter.run(stop)))
        # An operator's app (another connection) takes a snapshot.
        (mid,) = await other.add_mentions(
            [IncomingMention("app", "1", "lost parcel", url=server.url + "/page")],
            [Score(-0.5, "negative")],
        )
        await other.add_snapshot(mid)
        try:
            async with asyncio.timeout(5):
                while not (await other.mention(mid)).snapshots[0].fetched:  # type: ignore[union-attr]
                    await asyncio.sleep(0.02)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    rows = await store._all("SELECT state FROM snapshot_fetches")
    assert rows == [("fetched",)] and len(server.to("/page")) == 1
    events = await store.events(mid)
    assert [e.by for e in events if e.action == "snapshot_page"] == ["tester"]  # the holder


# -- stopping -----------------------------------------------------------------------------------


async def test_stop_finishes_the_batch_in_hand(
    server: Server, client: httpx.AsyncClient, store: Store
) -> None:
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    server.route("/slow" + HN, Reply.json({"hits": []}, delay=3.0))
    cfg = config(
        hn(server), source_config("hackernews", server.url + "/slow", "slow", query="acme")
    )
    crawler = collector(cfg, store, client, Log())
    storing, release = asyncio.Event(), asyncio.Event()
    ingest = crawler.ingestor.ingest

    async def slow_ingest(*args: Any, **kwargs: Any) -> list[int]:
        storing.set()
        await release.wait()
        return await ingest(*args, **kwargs)

    crawler.ingestor.ingest = slow_ingest  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(crawler.run(stop))
    await asyncio.wait_for(storing.wait(), 5)
    stop.set()  # SIGTERM while one batch is being stored and another source is mid-request
    await asyncio.sleep(0.05)
    assert not running.done()
    release.set()
    await asyncio.wait_for(running, 2)
    assert await count(store, "hn") == 3
    slow = await store.source_state("slow")
    assert slow is None or slow.cursor is None


def test_sigterm_ends_a_headless_collector_cleanly(tmp_path: Path, server: Server) -> None:
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from tui.config import Config, SourceConfig
        from tui.collector import run_collect_cli
        source = SourceConfig("hackernews", "hn", {server.url!r}, 0.1, True, {{"query": "acme"}})
        code = run_collect_cli(Config(sources=(source,)), Path({str(tmp_path / "m.db")!r}),
                               once=False, operator="ops")
        raise SystemExit(code)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    lines = []
    for line in process.stderr:
        lines.append(line)
        if " hn: ok" in line:
            break
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=20)
    assert process.returncode == 0, [*lines, rest]
    assert "stopping after the batch in hand" in rest


def test_run_collect_cli_once(
    tmp_path: Path, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    cfg = config(hn(server))
    assert run_collect_cli(cfg, tmp_path / "m.db", once=True, operator="ops") == 0
    assert " hn: ok, 3 new of 3" in capsys.readouterr().err
    # A database that cannot be opened is a usage error, said as every command says it.
    assert run_collect_cli(cfg, tmp_path / "missing" / "m.db", once=True) == 2
    err = capsys.readouterr().err
    assert err.startswith("triage: ") and "does not exist" in err and err.count("\n") == 1


# -- streaming into the store -------------------------------------------------------------------


async def test_stream_events_add_edit_and_delete_stored_mentions(
    server: Server,
    client: httpx.AsyncClient,
    store: Store,
    shared_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MASTO_TOKEN", TOKEN)
    status = shared_json(shared_dir, "docs_status_entity_example.json")
    status.update(id="200", content="<p>acme lost my parcel</p>")
    edited = dict(status, content="<p>acme lost my parcel, and support is rude</p>")
    other = dict(status, id="201", content="<p>acme fixed it</p>")
    server.route(TAG, Reply.json([]))
    server.route(
        "/api/v1/streaming/hashtag",
        Reply.stream([f"event: update\ndata: {json.dumps(status)}\n\n".encode()]),
        Reply.stream(
            [
                f"event: status.update\ndata: {json.dumps(edited)}\n\n".encode(),
                f"event: update\ndata: {json.dumps(other)}\n\n".encode(),
                b"event: delete\ndata: 201\n\n",
                b":thump\n\n",
            ],
            gap=0.05,
        ),
        Reply.stream([b":thump\n\n"], gap=0.5),
    )
    cfg = config(masto(server, stream=True, token_env="MASTO_TOKEN"))
    crawler = collector(cfg, store, client, Log())
    snapshot_taken = False

    async def settled() -> bool:
        nonlocal snapshot_taken
        rows = await store._all("SELECT id, external_id, deleted_at FROM mentions ORDER BY id")
        if len(rows) == 2 and not snapshot_taken:
            await store.add_snapshot(rows[1][0])
            snapshot_taken = True
        return len(rows) == 2 and rows[1][2] is not None

    await run_until(crawler.run, settled)
    first, second = await store._all("SELECT id FROM mentions ORDER BY id")
    parcel = await store.mention(first[0])
    assert parcel is not None
    assert parcel.text == "acme lost my parcel, and support is rude"
    assert [v.text for v in parcel.versions] == ["acme lost my parcel"]
    assert parcel.score.label == "negative"
    fixed = await store.mention(second[0])
    assert fixed is not None and fixed.deleted_at is not None and len(fixed.snapshots) == 1


# -- doctor -------------------------------------------------------------------------------------


async def test_doctor_reports_each_source(
    server: Server, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MASTO_TOKEN", TOKEN)
    server.route(HN, Reply.json(fixture("hn_search_by_date.json")))
    server.route(
        "/api/v1/apps/verify_credentials", Reply.json({"error": "The access token is invalid"}, 401)
    )
    cfg = config(
        hn(server),
        masto(server, token_env="MASTO_TOKEN"),
        source_config("reddit", server.url, "rd", query=""),
        SourceConfig("feed", "off", "", 60.0, False, {"url": "https://example.com/x"}),
    )
    rows, ok = await doctor(cfg, client=client)
    assert not ok
    by_name = {row.name: row for row in rows}
    assert by_name["hn"].status == "ok" and "4 items" in by_name["hn"].detail
    assert by_name["masto"].status == "needs credentials"
    assert "The access token is invalid" in by_name["masto"].detail
    assert by_name["rd"].status == "config error" and "query" in by_name["rd"].detail
    assert by_name["off"].status == "disabled"
    table = format_doctor_table(rows)
    assert table.splitlines()[0].split() == ["SOURCE", "KIND", "STATUS", "DETAIL"]
    assert TOKEN not in table
    # What a server answers is quoted in the detail: one line, no escape reaches the terminal.
    hostile = replace(rows[0], name="hn\x1b[2J", detail="HTTP 500: <b>x</b>\n\x1b]0;pwned\x07")
    shown = format_doctor_table([hostile]).splitlines()
    assert len(shown) == 2 and "\x1b" not in shown[1] and "\x07" not in shown[1]

    rows, ok = await doctor(config(hn(server)), client=client)
    assert ok and [r.status for r in rows] == ["ok"]
    rows, ok = await doctor(config(), client=client)
    assert ok and rows[0].status == "warning" and "no [[sources]]" in rows[0].detail
