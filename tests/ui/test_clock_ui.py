"""The response clock in the list: a mark per row, the overdue count, ``U`` and ``R``."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tui.config import Config
from tui.core.model import IncomingMention, Score, utcnow
from tui.store import Store
from tui.ui.app import TriageApp

from .conftest import NEG, NEU, POS, settle, wait_until


def db_rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def status_text(app: TriageApp) -> str:
    return str(app.query_one("#status").render())


async def seed_at(db_path: Path, rows: list[tuple[str, Score, datetime]]) -> list[int]:
    """Mentions (author, score, posted at), oldest id first."""
    store = await Store.open(db_path, "seeder")
    mentions = [
        IncomingMention("mastodon", f"m-{n}", f"post by {author}", author, None, posted)
        for n, (author, _, posted) in enumerate(rows)
    ]
    ids = await store.add_mentions(mentions, [score for _, score, _ in rows])
    await store.close()
    return ids


def line_of(app: TriageApp, mention_id: int, width: int = 80) -> str:
    mentions = app.mentions
    (row,) = [r for r in mentions.shown() if r.id == mention_id]
    return mentions._render_row(row, width, selected=False).text


async def test_each_row_shows_its_clock_at_a_known_time(db_path: Path) -> None:
    now = utcnow().replace(second=0, microsecond=0)
    soon, late, done, replied = await seed_at(
        db_path,
        [
            ("ann", NEG, now - timedelta(minutes=10)),  # 30 min target: 20 min left
            ("bob", NEU, now - timedelta(minutes=90)),  # 60 min target: 30 min late
            ("cat", NEG, now - timedelta(minutes=40)),  # late, but done
            ("dan", POS, now - timedelta(minutes=70)),  # late, but a reply was recorded
        ],
    )
    store = await Store.open(db_path, "sam")
    await store.set_status(done, "done")
    await store.mark_replied(replied, "by phone")
    await store.close()
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        app.mentions.now = lambda: now
        await settle(app, pilot)
        assert " new  20m  " in line_of(app, soon)
        assert " new  !30m " in line_of(app, late)
        assert " done      " in line_of(app, done)
        assert " new       " in line_of(app, replied)
        for mention_id in (soon, late, done, replied):
            assert len(line_of(app, mention_id)) == 80
        # Late reads without color ("!") and, with color, in the negative style.
        row = next(r for r in app.mentions.shown() if r.id == late)
        strip = app.mentions._render_row(row, 80, selected=False)
        (segment,) = [s for s in strip if s.text.startswith("!30m")]
        assert segment.style is not None
        assert segment.style.color == app.mentions._style("negative").color
        await wait_until(lambda: " 1 overdue" in status_text(app), pilot)


async def test_u_lists_open_mentions_by_due_time_and_back(db_path: Path) -> None:
    now = utcnow()
    ids = await seed_at(
        db_path,
        [
            ("pos", POS, now - timedelta(minutes=70)),  # due 10 min ago
            ("neg", NEG, now - timedelta(minutes=20)),  # due in 10 min
            ("neu", NEU, now - timedelta(minutes=40)),  # due in 20 min
            ("new", NEG, now - timedelta(minutes=5)),  # due in 25 min
            ("fin", NEG, now - timedelta(minutes=50)),  # done: not in the urgent list
        ],
    )
    store = await Store.open(db_path, "sam")
    await store.set_status(ids[4], "done")
    await store.close()
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        assert [r.id for r in app.mentions.shown()] == ids[::-1]  # newest first
        await pilot.press("U")
        await settle(app, pilot)
        assert app.mentions.filter.urgent
        assert [r.author for r in app.mentions.shown()] == ["pos", "neg", "neu", "new"]
        assert "most urgent" in status_text(app)
        await pilot.press("U")
        await settle(app, pilot)
        assert [r.id for r in app.mentions.shown()] == ids[::-1]


async def test_the_urgent_list_pages_in_due_order(db_path: Path) -> None:
    now = utcnow()
    # Posted in an order unrelated to their ids, so due order and id order differ.
    rows = [(f"u{n}", NEU, now - timedelta(minutes=(n * 37) % 250)) for n in range(250)]
    await seed_at(db_path, rows)
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("U")
        await settle(app, pilot)
        seen = [app.mentions.current]
        for _ in range(40):
            await pilot.press("pagedown")
            await settle(app, pilot)
            if app.mentions.current == seen[-1]:
                break
            seen.append(app.mentions.current)
        assert app.mentions.current is not None
        dues = [r.due_at for r in app.mentions.shown()]
        assert dues == sorted(dues)
        assert app.mentions.current.author == "u0"  # posted last, due last: at the bottom
        visited = [r.due_at for r in seen if r is not None]
        assert visited == sorted(visited) and len(visited) > 10


async def test_r_records_a_reply_and_stops_the_clock(db_path: Path) -> None:
    now = utcnow()
    (mention,) = await seed_at(db_path, [("ann", NEG, now - timedelta(minutes=45))])
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "!15m" in line_of(app, mention) or "!16m" in line_of(app, mention)
        await pilot.press("R")
        assert app.mentions.current is not None
        assert app.mentions.current.answered_at is not None  # shown at once
        assert "!1" not in line_of(app, mention)
        await settle(app, pilot)
        await wait_until(
            lambda: db_rows(db_path, "SELECT answered_at FROM mention_sla")[0][0] is not None,
            pilot,
        )
        assert db_rows(db_path, "SELECT by, action FROM events WHERE action = 'replied'") == [
            ("tester", "replied")
        ]
        await wait_until(lambda: " 0 overdue" in status_text(app), pilot)
        assert " new       " in line_of(app, mention)


async def test_r_is_refused_when_read_only(db_path: Path) -> None:
    await seed_at(db_path, [("ann", NEG, utcnow() - timedelta(minutes=45))])
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        await settle(app, pilot)
        assert app.mentions.current is not None and app.mentions.current.answered_at is None
    assert db_rows(db_path, "SELECT count(*) FROM events WHERE action = 'replied'") == [(0,)]
