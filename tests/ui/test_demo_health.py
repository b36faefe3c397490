"""The source health screen shows the demo stream while it feeds, from the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.ui.conftest import settle, wait_until
from tui.config import Config
from tui.demo import BRAND, BRAND_TERMS
from tui.ui.app import TriageApp
from tui.ui.screens.health import HealthScreen


async def test_health_shows_the_demo_stream_while_it_feeds(db_path: Path) -> None:
    config = Config(brand=BRAND, brand_terms=BRAND_TERMS)
    app = TriageApp(
        config, db_path, "tester", demo_rate=60, demo_seed=4, demo_backlog=25, collect=False
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(lambda: len(app.mentions.shown()) >= 25, pilot)
        await pilot.press("H")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HealthScreen)
        await wait_until(lambda: bool(screen.rows), pilot)
        rows = screen.rows
        assert rows and all(row[0].endswith(" (demo)") for row in rows)
        for name, state, last_success, error, _hour, _rate, _next in rows:
            assert (state, error) == ("ok", "")
            assert last_success not in ("never", ""), name  # an age: "now", "12s ago"
        shown = sum(int(row[4]) for row in rows)
        with sqlite3.connect(db_path) as db:
            (stored,) = db.execute("SELECT count(*) FROM mentions").fetchone()
        assert 25 <= shown <= stored  # every demo mention of the last hour, by source
        lease = str(screen.query_one("#lease").render())
        assert lease == "collector: nobody is collecting (the demo stream feeds this app itself)"
        await pilot.press("escape")


async def test_a_restarted_demo_goes_on_without_a_second_backlog(db_path: Path) -> None:
    """Each restart on the same --db added another backlog of old posts (and their alerts):
    unseeded, as `triage demo` runs, its posts are new ones each time."""
    config = Config(brand=BRAND, brand_terms=BRAND_TERMS)

    def demo() -> TriageApp:
        return TriageApp(
            config,
            db_path,
            "tester",
            demo_rate=0.01,
            demo_seed=None,
            demo_backlog=25,
            collect=False,
        )

    def stored() -> int:
        with sqlite3.connect(db_path) as db:
            return int(db.execute("SELECT count(*) FROM mentions").fetchone()[0])

    first = demo()
    async with first.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: len(first.mentions.shown()) >= 25, pilot)
    assert stored() == 25
    again = demo()
    async with again.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: len(again.mentions.shown()) >= 25, pilot)
        await settle(again, pilot)
        await pilot.pause(1.0)  # time for a backlog to land, were one sent
        assert stored() == 25
