"""The Sources view (``H``) at 80 columns: one line per source whatever a server says (in an
error, or in a rate-limit header), names cut in the middle so that names that begin alike
stay apart, and an error under its source in at most two lines."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import seed, settle, wait_until
from tests.ui.test_presence import shown_table
from tui.config import Config
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.screens.health import HealthScreen

ALIKE = ("google-alerts-acme-brand-eu", "google-alerts-acme-brand-us")


async def test_at_80_columns_each_source_is_one_line_and_its_error_two_at_most(
    db_path: Path,
) -> None:
    await seed(db_path)
    store = await Store.open(db_path, "seeder")
    try:
        await store.record_poll(ALIKE[0], state="ok", kind="feed")
        error = "HTTP 503 on https://alerts.example/feed: Service Unavailable " + "x" * 600
        await store.record_poll(ALIKE[1], state="error", error=error, kind="feed")
        header = "abc, window=60, policy=100;w=60, and more words than fit"
        await store.record_poll("mastodon-main", state="rate-limited", rate_remaining=header)
    finally:
        await store.close()
    app = TriageApp(Config(brand="Acme"), db_path, "kim", collect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("H")
        await wait_until(lambda: len(getattr(app.screen, "rows", ())) == 3, pilot)
        await pilot.pause(0.1)
        assert isinstance(app.screen, HealthScreen)
        lines = shown_table(app)
        assert lines[0].split() == ["source", "state", "last", "success", "1h", "rate", "left",
                                    "next", "poll"]  # fmt: skip
        rows = [line for line in lines[1:] if not line.startswith("  ")]
        assert len(rows) == 3, lines  # no row spread over a second line
        assert [row.split()[:2] for row in rows] == [
            ["google-al…-brand-eu", "ok"],  # cut in the middle: the ends that differ stay
            ["google-al…-brand-us", "error"],
            ["mastodon-main", "rate-limited"],
        ]
        assert rows[2].endswith("abc, window…")  # the server's header cut to its column
        errors = lines[lines.index(rows[1]) + 1 : lines.index(rows[2])]
        assert len(errors) == 2, errors  # 600 characters of a reply: two lines at most
        assert errors[0].startswith("  last error now: HTTP 503 on https://alerts.example/feed")
        assert errors[1].startswith("  Unavailable xxx") and errors[1].endswith("x…")
        lease = str(app.screen.query_one("#lease").render())
        assert lease == "collector: nobody is collecting"  # not a demo app: no demo note
