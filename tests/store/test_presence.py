"""Presence rows: written by heartbeat, live while fresh and their process exists, deleted on
quit and cleaned up once stale or dead; the team view counts what each operator handled."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from tui import team
from tui.core.model import Filter, IncomingMention, Score, to_ms, utcnow
from tui.core.process import this_host
from tui.core.text import one_line
from tui.store import Store
from tui.store.presence import SHIFT_HOURS, TEAM_TEXT_CHARS, new_app_id, shift_start

NEG = Score(-0.6, "negative", ())


async def seed(store: Store, count: int = 3) -> list[int]:
    return await store.add_mentions(
        [IncomingMention("demo", f"id{n}", f"text {n}\nsecond", f"u{n}") for n in range(count)],
        [NEG] * count,
    )


async def test_beat_is_seen_by_another_connection_and_leave_deletes_it(db_path: Path) -> None:
    sam = await Store.open(db_path, "sam")
    other = await Store.open(db_path, "kim")
    try:
        ids = await seed(sam)
        app = new_app_id()
        started = utcnow()
        await sam.beat(app, started, ids[1], "replying", started - timedelta(minutes=2))
        (seen,) = await other.present()
        assert (seen.operator, seen.mention_id, seen.activity) == ("sam", ids[1], "replying")
        assert seen.replying and seen.app == app and seen.unix_user == sam.unix_user
        assert seen.host == this_host() and seen.pid > 0
        # A second beat updates the same row, not a new one.
        await sam.beat(app, started, ids[2], "looking", utcnow())
        assert [(p.mention_id, p.activity) for p in await other.present()] == [(ids[2], "looking")]
        await sam.leave(app)
        assert await other.present() == []
    finally:
        await sam.close()
        await other.close()


async def test_stale_rows_are_ignored_and_cleaned_up_by_the_next_beat(
    store: Store, db_path: Path
) -> None:
    now = to_ms(utcnow())
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO presence VALUES ('old', 'amy', 'amy', 'elsewhere', 1, ?, ?, NULL,"
            " 'browsing', ?)",
            (now - 60_000, now - 30_000, now - 60_000),
        )
    assert await store.present() == []
    assert [p.operator for p in await store.present(stale_after_s=60)] == ["amy"]
    await store.beat(new_app_id(), utcnow(), None, "browsing", utcnow())
    with sqlite3.connect(db_path) as db:
        assert [r[0] for r in db.execute("SELECT operator FROM presence")] == ["tester"]


async def test_a_dead_process_on_this_host_is_gone_at_once(store: Store, db_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = to_ms(utcnow())
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO presence VALUES ('gone', 'amy', 'amy', ?, ?, ?, ?, NULL, 'browsing', ?)",
            (this_host(), dead.pid, now, now, now),
        )
    assert await store.present() == []  # its heartbeat is fresh, but its pid is gone


async def test_team_counts_done_and_drafts_this_shift_and_shows_the_selection(
    db_path: Path,
) -> None:
    sam = await Store.open(db_path, "sam")
    try:
        ids = await seed(sam, 4)
        await sam.set_status(ids[0], "done")
        await sam.set_status(ids[0], "new")
        await sam.set_status(ids[0], "done")  # the same mention twice: counted once
        await sam.save_draft(ids[1], "On it")
        await sam.save_draft(ids[2], "autosaved", event=False)  # not a saved draft: not counted
        await sam.add_tag(ids[3], "billing")  # not handling
        app = new_app_id()
        await sam.beat(app, utcnow(), ids[3], "looking", utcnow())
        (member,) = await sam.team()
        assert member.presence.operator == "sam"
        assert member.handled == 2
        assert member.first_line is not None and member.first_line.startswith("text 3")
        assert await sam.handled("sam", utcnow() + timedelta(seconds=5)) == 0
        assert await sam.handled("kim", utcnow() - timedelta(hours=1)) == 0
    finally:
        await sam.close()


async def test_the_selected_text_is_never_cut_inside_an_escape_sequence(store: Store) -> None:
    """The store reads a few hundred characters of the selected mention; an OSC hyperlink
    across that cut (or a NUL before it) must not leave half a sequence to show as text."""
    filler = "x" * (TEAM_TEXT_CHARS - 10)
    text = f"{filler} \x1b]8;;https://evil.example/{'a' * 50}\x07link\x1b]8;;\x07 after"
    (mention,) = await store.add_mentions(
        [IncomingMention("demo", "osc", text, "al")], [Score(0.0, "neutral", ())]
    )
    await store.beat(new_app_id(), utcnow(), mention, "looking", utcnow())
    (member,) = await store.team()
    assert member.first_line is not None
    assert "8;;" not in one_line(member.first_line) and "evil" not in one_line(member.first_line)
    (row,) = await store.page_before(Filter(), None, 10)
    assert "evil" not in one_line(row.text)
    shown = team.row(member)[team.COLUMNS.index("selected")]
    assert "evil" not in shown and shown.startswith(f"#{mention} xxx")


def test_the_shift_is_eight_hours_or_since_the_app_started() -> None:
    now = utcnow()
    assert shift_start(now - timedelta(minutes=5), now) == now - timedelta(hours=SHIFT_HOURS)
    long_ago = now - timedelta(hours=12)
    assert shift_start(long_ago, now) == long_ago


async def test_content_stamp_ignores_presence_and_follows_data(store: Store) -> None:
    ids = await seed(store)
    before = await store.content_stamp()
    await store.beat(new_app_id(), utcnow(), ids[0], "looking", utcnow())
    assert await store.content_stamp() == before
    await store.set_status(ids[0], "done")
    after_action = await store.content_stamp()
    assert after_action != before
    await store.save_draft(ids[1], "typing", event=False)
    assert await store.content_stamp() != after_action
    await seed_more(store)
    assert (await store.content_stamp())[0] > before[0]


async def seed_more(store: Store) -> None:
    await store.add_mentions([IncomingMention("demo", "more", "more", "m")], [NEG])


async def test_triage_who_prints_each_running_app(db_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import json
    import re

    from tui.cli import main

    sam = await Store.open(db_path, "sam")
    try:
        ids = await seed(sam)
        await sam.set_status(ids[0], "done")
        await sam.beat(new_app_id(), utcnow(), ids[2], "replying", utcnow())
    finally:
        await sam.close()
    code = await asyncio.to_thread(main, ["who", "--db", str(db_path), "--format", "json"])
    assert code == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["operator"] == "sam" and record["mention_id"] == ids[2]
    assert record["first_line"] == "text 2" and record["handled"] == 1
    assert record["activity"] == "replying"
    for key in ("since", "heartbeat", "activity_since", "shift_start"):  # as the export writes
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record[key]), record
    assert await asyncio.to_thread(main, ["who", "--db", str(db_path)]) == 0
    header, line, collector = capsys.readouterr().out.splitlines()
    assert header.split()[0] == "operator" and "handled" in header
    assert line.split()[0] == "sam" and "writing a reply" in line and "text 2" in line
    assert collector == "collector: nobody is collecting"
    # a collector killed with kill -9 is said to be gone, not named as collecting
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO lease(name, holder, heartbeat, host, pid) VALUES (?, ?, ?, ?, ?)",
            ("collector", "kim@box pid 7", to_ms(utcnow()), this_host(), int(dead.stdout)),
        )
    assert await asyncio.to_thread(main, ["who", "--db", str(db_path)]) == 0
    collector = capsys.readouterr().out.splitlines()[-1]
    assert collector.startswith("collector: nobody is collecting since ")
    assert "kim@box pid 7 held the lease, its process has ended" in collector
