import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from tui.core.model import Filter, IncomingMention, Reason, Score, from_ms, utcnow
from tui.store import Store, StoreError, fts_query
from tui.store.schema import MIGRATIONS

NEG = Score(-0.6, "negative", (Reason("late", -1.5),))
POS = Score(0.7, "positive", (Reason("great", 3.1),))


def incoming(n: int, text: str = "hello", source: str = "demo") -> IncomingMention:
    return IncomingMention(source, f"id{n}", f"{text} {n}", f"user{n}", f"https://x.example/{n}")


async def fill(store: Store, count: int, score: Score = NEG) -> list[int]:
    return await store.add_mentions([incoming(n) for n in range(count)], [score] * count)


async def test_migrations_set_user_version(store: Store, db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_reopening_does_not_migrate_again(db_path: Path) -> None:
    first = await Store.open(db_path, "a")
    await fill(first, 3)
    await first.close()
    second = await Store.open(db_path, "b")
    assert (await second.counts()).total == 3
    await second.close()


async def test_newer_schema_is_refused(db_path: Path) -> None:
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError, match="newer than this program"):
        await Store.open(db_path, "a")


async def test_dedupe_on_source_and_external_id(store: Store) -> None:
    assert len(await fill(store, 5)) == 5
    assert await fill(store, 5) == []
    other = IncomingMention("other", "id1", "same id, other source")
    assert len(await store.add_mentions([other], [POS])) == 1
    assert (await store.counts()).total == 6


async def test_cursor_is_saved_with_the_mentions(store: Store) -> None:
    await store.add_mentions([incoming(1)], [NEG], cursor=("demo", "c1"))
    state = await store.source_state("demo")
    assert state is not None and state.cursor == "c1"


async def test_keyset_pages_are_newest_first_and_disjoint(store: Store) -> None:
    ids = await fill(store, 250)
    first = await store.page_before(Filter(), None, 100)
    second = await store.page_before(Filter(), first[-1].id, 100)
    third = await store.page_before(Filter(), second[-1].id, 100)
    seen = [r.id for r in first + second + third]
    assert seen == sorted(ids, reverse=True)
    back = await store.page_after(Filter(), second[0].id, 100)
    assert [r.id for r in back] == [r.id for r in first]
    oldest = await store.page_after(Filter(), None, 10)
    assert [r.id for r in oldest] == sorted(ids)[:10][::-1]


async def test_filters(store: Store) -> None:
    neg = await store.add_mentions([incoming(n, "late parcel") for n in range(4)], [NEG] * 4)
    pos = await store.add_mentions(
        [incoming(n, "great service", "bluesky") for n in range(3)], [POS] * 3
    )
    await store.add_tag(neg[0], "urgent")
    await store.add_tag(pos[0], "urgent")
    await store.set_status(neg[1], "done")
    await store.set_operator_label(pos[1], "negative")

    async def ids(filt: Filter) -> set[int]:
        return {r.id for r in await store.page_before(filt, None, 100)}

    assert await ids(Filter(negative_only=True)) == {neg[0], neg[2], neg[3], pos[1]}  # open only
    assert await ids(Filter(tag="urgent")) == {neg[0], pos[0]}
    assert await ids(Filter(tag="urgent", negative_only=True)) == {neg[0]}
    assert await ids(Filter(status="done")) == {neg[1]}
    assert await ids(Filter(source="bluesky")) == set(pos)
    assert await ids(Filter(search="parc")) == set(neg)  # prefix match
    assert await ids(Filter(search="great", tag="urgent")) == {pos[0]}
    counts = await store.counts()
    assert (counts.total, counts.new, counts.negative_open) == (7, 6, 4)
    # the ids export walks are those the list shows, for every filter, the urgent one too
    for filt in (Filter(), Filter(negative_only=True), Filter(urgent=True), Filter(tag="urgent")):
        walked = await store.mention_ids(filt)
        assert sorted(walked) == sorted(await ids(filt)) and len(walked) == len(set(walked))
    assert await store.mention_ids(Filter(urgent=True))  # open ones with a running clock


async def test_search_text_is_never_fts_syntax(store: Store) -> None:
    await store.add_mentions([incoming(1, 'quote " NEAR( AND * -x')], [NEG])
    assert fts_query('a "b') == '"a" AND "b"'  # too short to be a prefix
    assert fts_query("late parc") == '"late" AND "parc"*'
    assert await store.page_before(Filter(search='" NEAR( AND'), None, 10)


async def test_actions_write_events_in_the_same_transaction(store: Store) -> None:
    (mid,) = await fill(store, 1)
    await store.add_tag(mid, "complaint")
    await store.add_tag(mid, "complaint")  # already there: no second event
    await store.remove_tag(mid, "complaint")
    await store.set_status(mid, "done")
    await store.set_operator_label(mid, "positive")
    await store.set_operator_label(mid, None)
    due = utcnow() + timedelta(hours=2)
    await store.set_follow_up(mid, due, "call back")
    await store.complete_follow_up(mid)
    await store.save_draft(mid, "Hi there")
    await store.save_draft(mid, "Hi there, sorry")
    snap = await store.add_snapshot(mid)
    await store.add_snapshot_page(snap.id, status=200, error=None, page=b"<html>")
    actions = [e.action for e in await store.events(mid)]
    assert actions == [
        "tag",
        "untag",
        "status",
        "label",
        "label",
        "follow_up",
        "follow_up_done",
        "draft",
        "draft",
        "snapshot",
        "snapshot_page",
    ]
    assert all(e.by == "tester" for e in await store.events(mid))
    mention = await store.mention(mid)
    assert mention is not None
    assert mention.status == "done" and mention.tags == () and mention.operator_label is None
    assert mention.follow_up is not None and mention.follow_up.done
    assert [d.text for d in mention.drafts] == ["Hi there, sorry"]
    assert mention.snapshots[0].page_size == 6 and mention.snapshots[0].fetch_status == 200


async def test_failed_action_leaves_no_event(store: Store) -> None:
    with pytest.raises(KeyError):
        await store.add_tag(999, "x")
    assert await store.events() == []


async def test_snapshots_and_events_are_immutable(store: Store, db_path: Path) -> None:
    (mid,) = await fill(store, 1)
    await store.add_snapshot(mid)
    with sqlite3.connect(db_path) as db:
        for sql in (
            "UPDATE snapshots SET text = 'x'",
            "DELETE FROM snapshots",
            "UPDATE events SET by = 'x'",
            "DELETE FROM events",
        ):
            with pytest.raises(sqlite3.IntegrityError, match=r"immutable|append-only"):
                db.execute(sql)


async def test_snapshot_hash_is_of_the_text_as_shown(store: Store) -> None:
    import hashlib

    (mid,) = await fill(store, 1)
    snap = await store.add_snapshot(mid)
    assert snap.sha256 == hashlib.sha256(b"hello 0").hexdigest()


async def test_hostile_text_is_stored_exactly(store: Store) -> None:
    nasty = "\x00nul \x1b[31mred\x1b[0m \u202eevil [@click=app.quit]x[/] " + "y" * 100_000
    raw = b"\xff\xfe not utf-8 \x00"
    ids = await store.add_mentions(
        [
            IncomingMention("demo", "n", nasty, "[b]author[/b]", raw=raw),
            IncomingMention("demo", "e", ""),
        ],
        [NEG, NEG],
    )
    mention = await store.mention(ids[0])
    assert mention is not None
    assert mention.text == nasty and mention.raw == raw and mention.author == "[b]author[/b]"
    empty = await store.mention(ids[1])
    assert empty is not None and empty.text == ""


def test_reasons_are_stored_as_json_dumps_writes_them() -> None:
    from tui.store.store import _reasons_json

    terms = ['say "hi"', "back\\slash", "naïve 😀", "\x00\x1b[31m\u2028", "a\ud800b", ""]
    score = Score(
        -0.5,
        "negative",
        tuple(
            Reason(t, w)
            for t, w in zip(terms, [-1.23456, 0.1, 1e-05, -0.0, 3.0, 2.5e10], strict=True)
        ),
    )
    expected = [[r.term, round(r.weight, 4)] for r in score.reasons]
    assert _reasons_json(score) == json.dumps(expected, ensure_ascii=False)
    assert json.loads(_reasons_json(score)) == expected
    assert _reasons_json(Score(None, "unscored")) == "[]"


async def test_edits_keep_versions_and_search_follows(store: Store) -> None:
    (mid,) = await store.add_mentions([incoming(1, "original words")], [NEG])
    assert await store.replace_text("demo", "id1", "edited words", POS, b"{}")
    assert not await store.replace_text("demo", "id1", "edited words", POS, b"{}")
    mention = await store.mention(mid)
    assert mention is not None and [v.text for v in mention.versions] == ["original words 1"]
    assert await store.page_before(Filter(search="edited"), None, 5)
    assert not await store.page_before(Filter(search="original"), None, 5)
    assert await store.mark_deleted("demo", "id1")
    assert (await store.mention(mid)).deleted_at is not None  # type: ignore[union-attr]


async def test_lease(store: Store) -> None:
    assert await store.acquire_lease("a", stale_after_s=30)
    assert not await store.acquire_lease("b", stale_after_s=30)
    assert await store.acquire_lease("a", stale_after_s=30)
    assert await store.acquire_lease("b", stale_after_s=-1)  # a's heartbeat counts as stale
    holder = await store.lease_holder()
    assert holder is not None and holder[0] == "b"


async def test_missing_directory_gives_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist") as info:
        await Store.open(tmp_path / "nope" / "x.db", "a")
    assert "\n" not in str(info.value)


async def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"this is not a database at all, and cannot become one" * 100)
    with pytest.raises(StoreError, match=r"x\.db is not a database .* check --db") as info:
        await Store.open(path, "a")
    assert "\n" not in str(info.value) and "writable" not in str(info.value)
    assert path.read_bytes().startswith(b"this is not a database")  # untouched


def test_kill_9_mid_session_loses_no_acknowledged_action(tmp_path: Path) -> None:
    """A process doing operator actions is killed with SIGKILL; every action it reported as
    committed is in the database, with its event, and the database is intact."""
    db = tmp_path / "k.db"
    script = textwrap.dedent(
        f"""
        import asyncio, sys
        from datetime import timedelta
        from tui.core.model import IncomingMention, Score, utcnow
        from tui.store import Store

        async def main():
            store = await Store.open({str(db)!r}, "op")
            ids = await store.add_mentions(
                [IncomingMention("demo", str(n), f"text {{n}}") for n in range(50)],
                [Score(-0.5, "negative")] * 50,
            )
            n = 0
            while True:
                mid = ids[n % 50]
                kind = n % 4
                if kind == 0:
                    await store.add_tag(mid, f"t{{n}}")
                elif kind == 1:
                    await store.save_draft(mid, f"draft {{n}}")
                elif kind == 2:
                    await store.add_snapshot(mid)
                else:
                    await store.set_follow_up(mid, utcnow() + timedelta(hours=1), f"n{{n}}")
                print(n, flush=True)
                n += 1

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = -1
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 120:
            break
    proc.kill()
    proc.wait()
    for line in proc.stdout:  # acknowledged before the kill landed, still in the pipe
        acknowledged = int(line)
    proc.stdout.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tags = {r[0] for r in conn.execute("SELECT tag FROM mention_tags")}
        drafts = {r[0] for r in conn.execute("SELECT text FROM drafts")}
        snapshots = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        notes = {r[0] for r in conn.execute("SELECT note FROM follow_ups")}
    expected = range(acknowledged + 1)
    assert {f"t{n}" for n in expected if n % 4 == 0} <= tags
    # Everything acknowledged is there; at most the one action in flight when the kill landed
    # was committed beyond it.
    acked_snapshots = len([n for n in expected if n % 4 == 2])
    assert acked_snapshots <= snapshots <= acked_snapshots + 1
    assert acknowledged + 1 <= events <= acknowledged + 2
    # Drafts and follow-ups are upserted per mention: the latest acknowledged one is kept
    # (or a later one the process committed before the kill landed).
    for kind, stored, prefix in ((1, drafts, "draft "), (3, notes, "n")):
        latest: dict[int, int] = {}
        for n in expected:
            if n % 4 == kind:
                latest[n % 50] = n
        for mention, n in latest.items():
            assert any(f"{prefix}{later}" in stored for later in range(n, acknowledged + 60, 50)), (
                mention,
                n,
            )


async def test_events_detail_is_json(store: Store) -> None:
    (mid,) = await fill(store, 1)
    await store.set_follow_up(mid, utcnow(), "note")
    event = (await store.events(mid))[-1]
    assert json.loads(event.detail)["note"] == "note"


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


async def test_a_lease_whose_process_is_gone_is_free_at_once(store: Store, db_path: Path) -> None:
    import socket

    now_ms = int(utcnow().timestamp() * 1000)
    here = socket.gethostname()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for host, pid, beat, state in (
            (here, sleeper.pid, now_ms, "live"),  # alive on this host, the heartbeat fresh
            ("another-host", _dead_pid(), now_ms, "live"),  # cannot be checked from here
            (None, None, now_ms, "live"),  # written before the lease named its process
            (here, _dead_pid(), now_ms, "gone"),  # free without waiting for the heartbeat
            ("another-host", 4242, now_ms - 61_000, "stale"),  # no heartbeat for 61 s
            (here, sleeper.pid, now_ms - 61_000, "stale"),  # alive, but stopped renewing
        ):
            free = state != "live"
            with sqlite3.connect(db_path) as db:
                db.execute("DELETE FROM lease")
                db.execute(
                    "INSERT INTO lease(name, holder, heartbeat, host, pid)"
                    " VALUES ('collector', 'old@box pid 1', ?, ?, ?)",
                    (beat, host, pid),
                )
            lease = await store.lease(60)  # what the status line and the health view show
            assert lease is not None and (lease.holder, lease.state) == ("old@box pid 1", state)
            assert lease.heartbeat == from_ms(beat) and lease.live is not free
            assert (await store.lease_active(60) is None) is free, (host, pid)
            assert await store.acquire_lease("new", stale_after_s=60) is free, (host, pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT holder, host, pid FROM lease").fetchone()
    assert row == ("new", here, os.getpid())  # the new holder names its own process


async def test_upgrading_a_version_3_database(tmp_path: Path) -> None:
    """A database written by schema version 3 opens, migrates, and keeps everything: a
    snapshot whose page fetch never finished (the app quit) is queued again, a finished one
    keeps its page, and the lease and source rows stay readable."""
    path = tmp_path / "v3.db"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:3]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 3")
        db.execute(
            "INSERT INTO mentions(id, source, external_id, url, text, created_at, collected_at,"
            " label) VALUES (1, 'demo', 'a', 'https://x.example/a', 'late again', 1, 1, 'negative')"
        )
        for snapshot_id, url in ((1, "https://x.example/a"), (2, "https://x.example/a"), (3, None)):
            db.execute(
                "INSERT INTO snapshots(id, mention_id, taken_at, by, text, sha256, url, raw)"
                " VALUES (?, 1, 1, 'ann', 'late again', 'h', ?, x'')",
                (snapshot_id, url),
            )
        db.execute(
            "INSERT INTO snapshot_pages(snapshot_id, fetched_at, status, size, page)"
            " VALUES (2, 2, 200, 4, x'3c703e21')"
        )
        db.execute("INSERT INTO lease(name, holder, heartbeat) VALUES ('collector', 'old', 5)")
        db.execute("INSERT INTO source_state(name, state) VALUES ('hn', 'ok')")
    store = await Store.open(path, "ann")
    try:
        mention = await store.mention(1)
        assert mention is not None
        assert [s.fetch_state for s in mention.snapshots] == ["pending", "fetched", None]
        assert mention.snapshots[1].page_size == 4 and mention.snapshots[1].fetch_attempts == 1
        assert await store.lease_holder() is not None
        assert await store.acquire_lease("new", stale_after_s=60)  # the old heartbeat is stale
        state = await store.source_state("hn")
        assert state is not None and state.kind is None
        claims = await store.claim_page_fetches("me", 5, stale_after_s=60)
        assert [c.snapshot_id for c in claims] == [1]
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            db.execute("UPDATE snapshot_pages SET status = 500")


async def test_a_snapshot_queues_its_page_fetch_in_the_same_transaction(
    store: Store, db_path: Path
) -> None:
    (with_url,) = await fill(store, 1)
    (without,) = await store.add_mentions([IncomingMention("demo", "no-url", "x")], [NEG])
    await store.add_snapshots([with_url, without])
    with pytest.raises(KeyError):
        await store.add_snapshots([with_url, 999])  # nothing of a failed batch is stored
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM snapshots").fetchone() == (2,)
        rows = db.execute("SELECT snapshot_id, state, attempts FROM snapshot_fetches").fetchall()
    assert rows == [(1, "pending", 0)]  # only the one with a URL has a page to fetch


async def test_list_rows_show_text_after_a_nul(tmp_path: Path) -> None:
    """SQLite's substr() stops at NUL; the list must still show what follows it."""
    store = await Store.open(tmp_path / "nul.db", "tester")
    text = "visible \x00 hidden rest " + "x" * 1000
    await store.add_mentions(
        [IncomingMention("feed", "n1", text, "ann")], [Score(0.0, "neutral", ())]
    )
    (row,) = await store.page_before(Filter(), None, 10)
    assert row.text.startswith("visible \x00 hidden rest")
    assert len(row.text) == 400
    await store.close()
