"""The app in read-only mode (``--read-only``, or a database this user may not write): it
browses and searches, says "read-only" in the status line, refuses every action with one
message, and starts nothing that writes (no demo stream, no collector, no page fetches)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tui.config import Config
from tui.ui.app import TriageApp
from tui.ui.screens.reply import ReplyEditor

from .conftest import seed, settle


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


async def test_read_only_app_browses_and_refuses_every_action(db_path: Path) -> None:
    await seed(db_path)
    config = Config(brand="Acme", quick_tags=("billing",))
    app = TriageApp(config, db_path, "tester", demo_rate=600.0, demo_backlog=5, read_only=True)
    said: list[str] = []
    notify = app.notify

    def record(message: str, **options: Any) -> None:
        said.append(message)
        notify(message, **options)

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        status = str(app.query_one("#status").render())
        assert status.startswith(" read-only │"), status
        assert said == ["Read-only: nothing can be changed here (opened with --read-only)"]
        # Browsing works: moving, searching.
        await pilot.press("j")
        assert app.mentions.current is not None and app.mentions.current.author == "dan"
        await pilot.press("slash", *"refund", "enter")
        await settle(app, pilot)
        assert [row.author for row in app.mentions.shown()] == ["dan"]
        # Every action is refused with the same message; nothing opens, nothing is stored.
        for key in ("d", "t", "1", "s", "r", "f", "o"):
            said.clear()
            await pilot.press(key)
            await settle(app, pilot)
            assert said == ["Read-only: nothing can be changed here (opened with --read-only)"], key
            assert len(app.screen_stack) == 1, key
            assert not any(isinstance(s, ReplyEditor) for s in app.screen_stack)
        row = app.mentions.current
        assert row is not None and row.status == "new" and row.tags == ()
        assert row.operator_label is None
        # Nothing that writes was started: the demo stream above would have added mentions.
        assert not [w for w in app.workers if w.group in ("collector", "demo")]
        assert app.runtime._page_task is None
    assert _rows(db_path, "SELECT count(*) FROM events") == [(0,)]
    assert _rows(db_path, "SELECT count(*) FROM snapshots") == [(0,)]
    assert _rows(db_path, "SELECT count(*) FROM mentions") == [(5,)]
