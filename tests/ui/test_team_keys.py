"""Pilot tests for team work: take (a), assign (A), note (N), undo (u), and the reply editor's
collision guard, with a second operator writing to the same database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from textual.widgets import TextArea

from tests.ui.conftest import settle, wait_until
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.screens.prompts import ChoiceScreen
from tui.ui.screens.reply import ReplyEditor
from tui.ui.widgets.detail import DetailPane


def db_rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


async def test_take_asks_before_taking_from_another(make_app, db_path: Path) -> None:
    app: TriageApp = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        top = app.mentions.current.id
        await pilot.press("a")
        await settle(app, pilot)
        assert app.mentions.current.assigned_to == "tester"
        assert "assigned  tester" in app.query_one(DetailPane).plain
        await pilot.press("j")
        second = app.mentions.current.id
        sam = await Store.open(db_path, "sam")
        try:
            assert (await sam.claim(second)).won
        finally:
            await sam.close()
        await wait_until(lambda: app.mentions.current.assigned_to == "sam", pilot)
        line = app.mentions._render_row(app.mentions.current, 120, selected=False).text
        assert "@sam" in line  # readable without color
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        assert "sam holds this mention" in app.screen.question
        await pilot.press("t")
        await settle(app, pilot)
        holders = dict(db_rows(db_path, "SELECT mention_id, assigned_to FROM mention_claims"))
        assert holders == {top: "tester", second: "tester"}
        events = db_rows(db_path, "SELECT action, by FROM events ORDER BY id")
        assert events == [("claim", "tester"), ("claim", "sam"), ("claim", "tester")]


async def test_a_lost_race_is_told(make_app, db_path: Path) -> None:
    """Sam takes the mention after this app drew it as free: the app's take loses and says
    who holds it; the row is put back to the truth."""
    app: TriageApp = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        mention_id = app.mentions.current.id
        sam = await Store.open(db_path, "sam")
        try:
            await sam.claim(mention_id)
        finally:
            await sam.close()
        assert app.mentions.current.assigned_to is None  # not refreshed yet: looks free
        app._set_holder(app.mentions.current, "tester", expected=None)
        await settle(app, pilot)
        assert any("sam holds it now" in str(n.message) for n in app._notifications)
        await wait_until(lambda: app.mentions.current.assigned_to == "sam", pilot)
        assert db_rows(db_path, "SELECT assigned_to FROM mention_claims") == [("sam",)]


async def test_assign_note_and_undo_keys(make_app, db_path: Path) -> None:
    app: TriageApp = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        mention_id = app.mentions.current.id
        await pilot.press("t", *"billing", "enter")
        await settle(app, pilot)
        await pilot.press("A", *"robin", "enter")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT assigned_to FROM mention_claims") == [("robin",)]
        await pilot.press("N", *"VIP customer", "enter")
        await settle(app, pilot)
        assert "VIP customer" in app.query_one(DetailPane).plain
        assert db_rows(db_path, "SELECT text, by FROM notes") == [("VIP customer", "tester")]
        # completion from the known operators: "ro" + right arrow accepts "robin"
        await pilot.press("j", "A", "r", "o", "right", "enter")
        await settle(app, pilot)
        assert sorted(db_rows(db_path, "SELECT assigned_to FROM mention_claims")) == [
            ("robin",),
            ("robin",),
        ]
        await pilot.press("k", "u")  # undo the last action: the second assignment
        await settle(app, pilot)
        await pilot.press("u")  # then the first one
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT assigned_to FROM mention_claims") == [(None,), (None,)]
        await pilot.press("u")  # then the tag
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT count(*) FROM mention_tags") == [(0,)]
        assert app.mentions.current.id == mention_id and app.mentions.current.tags == ()
        undos = db_rows(db_path, "SELECT count(*) FROM events WHERE action = 'undo'")
        assert undos == [(3,)]


async def test_reply_guard_shows_what_changed_and_asks(make_app, db_path: Path) -> None:
    app: TriageApp = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        mention_id = app.mentions.current.id
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ReplyEditor)
        await pilot.press(*"Sorry about that")
        sam = await Store.open(db_path, "sam")
        try:
            await sam.save_draft(mention_id, "Hi, we are on it")
            await sam.set_status(mention_id, "done")
        finally:
            await sam.close()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        question = app.screen.question
        assert "sam saved a reply draft" in question and "sam marked it done" in question
        await pilot.press("b")  # back to the reply: nothing saved
        await settle(app, pilot)
        assert isinstance(app.screen, ReplyEditor)
        assert app.screen.query_one(TextArea).text == "Sorry about that"
        recorded = "SELECT count(*) FROM events WHERE action = 'draft' AND by = 'tester'"
        assert db_rows(db_path, recorded) == [(0,)]  # kept by autosave, not saved as a reply
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("g")  # save anyway
        await settle(app, pilot)
        assert not isinstance(app.screen, ReplyEditor)
        assert db_rows(db_path, recorded) == [(1,)]
        assert sorted(db_rows(db_path, "SELECT by FROM drafts")) == [("sam",), ("tester",)]


async def test_reply_guard_is_silent_without_others(make_app, db_path: Path) -> None:
    app: TriageApp = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("a", "r")
        await settle(app, pilot)
        await pilot.press(*"Thanks", "ctrl+o", "ctrl+r")
        await settle(app, pilot)
        assert not isinstance(app.screen, ReplyEditor | ChoiceScreen)
        actions = [r[0] for r in db_rows(db_path, "SELECT action FROM events ORDER BY id")]
        assert actions == ["claim", "reply_copied", "status", "draft"]
