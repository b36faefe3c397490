"""``?`` lists every binding with the id to remap it by, the reply editor's and the list's too,
and those ids remap the keys where they are in force."""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

from rich.console import Console
from rich.table import Table
from textual.widgets import Static, TextArea

from tests.ui.conftest import settle
from tui.config import Config
from tui.ui.app import binding_ids
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.reply import ReplyEditor


async def test_help_lists_every_binding_with_its_id(make_app) -> None:  # type: ignore[no-untyped-def]
    app = await make_app(Config(brand="Acme", keys={"snapshot": "S", "reply_save": "ctrl+g"}))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = app.screen.rows
        assert binding_ids() <= {row.id for row in rows}
        by_id = {row.id: row for row in rows if row.id}
        assert by_id["snapshot"][:3] == ("main screen", "S", "Snapshot")
        assert by_id["down"].keys == "j, ↓" and by_id["down"].scope == "main screen"
        assert by_id["page_down"].keys == "pgdn, ^f"
        assert by_id["reply_save"][:3] == ("reply editor", "^g", "Save draft")
        assert by_id["reply_close"].scope == "reply editor"
        assert by_id["negatives"].description == "Open negatives"
        scopes = [row.scope for row in rows]
        assert scopes == sorted(scopes, key=("main screen", "reply editor").index)
        assert any(row.keys == "^p" and row.id == "" for row in rows)  # Textual's own
        (table,) = [s.content for s in app.screen.query(Static) if isinstance(s.content, Table)]
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(table)
        shown = console.export_text()
        for text in ("reply_save", "page_down", "quick_tag_1", "Reply editor", "(built in)"):
            assert text in shown
        assert re.search(r"\^g +Save draft +reply_save", shown)
        assert re.search(r"S +Snapshot +snapshot", shown)


async def test_the_reply_editor_keys_are_remapped_by_their_ids(make_app, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = await make_app(Config(brand="Acme", keys={"reply_save": "ctrl+g"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ReplyEditor)
        app.screen.query_one(TextArea).text = "Hi eve, sorry about that."
        await pilot.press("ctrl+s")  # no longer the save key
        await settle(app, pilot)
        assert isinstance(app.screen, ReplyEditor)
        await pilot.press("ctrl+g")
        await settle(app, pilot)
        assert not isinstance(app.screen, ReplyEditor)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT text FROM drafts").fetchall() == [("Hi eve, sorry about that.",)]
