"""``T``: per-hour sparklines read from the rollups, the usual, sources, gaps, rising words."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.widgets import Sparkline, Static

from tui.config import Config
from tui.core.model import IncomingMention, utcnow
from tui.store import Store
from tui.store.rollups import hour_of
from tui.ui.app import TriageApp
from tui.ui.screens.trends import TrendsScreen, band_text, describe_gaps

from .conftest import NEG, POS, burst, settle, wait_until


def record_coverage(db_path: Path, hours: Iterable[int]) -> None:
    """The collector's record of the hours it ran (what its lease heartbeat writes)."""
    with sqlite3.connect(db_path) as conn:
        conn.executemany(
            "INSERT INTO coverage(source, hour, ok, failed) VALUES ('', ?, 1, 0)",
            [(h,) for h in hours],
        )


async def test_trends_show_the_seeded_counts_per_hour(db_path: Path) -> None:
    now = utcnow()
    hour = datetime.fromtimestamp(hour_of(now) * 3600, UTC)  # the current hour's start
    seeded: list[tuple[str, bool, datetime, str]] = []  # source, negative, posted, text
    for back, (total, negatives) in {4: (1, 0), 3: (2, 1), 2: (3, 2), 1: (4, 0)}.items():
        for n in range(total):
            posted = hour - timedelta(hours=back) + timedelta(minutes=5 + n)
            source = "mastodon" if n % 2 else "bluesky"
            seeded.append((source, n < negatives, posted, f"post {back} {n}"))
    for n in range(2):  # the last hour's complaints share a word
        posted = now - timedelta(minutes=2 + n)
        seeded.append(("mastodon", True, posted, f"checkout outage again {n}"))
    store = await Store.open(db_path, "seeder")
    mentions = [
        IncomingMention(source, f"t{n}", text, "ann", None, posted)
        for n, (source, _, posted, text) in enumerate(seeded)
    ]
    await store.add_mentions(mentions, [NEG if neg else POS for _, neg, _, _ in seeded])
    await store.close()
    # The collector ran from ten hours ago, except for two hours.
    missing = {hour_of(now) - 6, hour_of(now) - 5}
    record_coverage(
        db_path, [h for h in range(hour_of(now) - 10, hour_of(now) + 1) if h not in missing]
    )
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "T")
        screen = app.screen
        assert isinstance(screen, TrendsScreen)
        first = screen.end_hour - 24
        volume, negative = [0] * 24, [0] * 24
        week_volume = [0] * 168
        by_source: dict[str, list[int]] = {}
        for source, neg, posted, _ in seeded:
            index = hour_of(posted) - first
            volume[index] += 1
            negative[index] += neg
            week_volume[hour_of(posted) - (screen.end_hour - 168)] += 1
            by_source.setdefault(source, [0] * 24)[index] += 1
        assert sum(volume) == len(seeded)
        assert screen.query_one("#volume-24h", Sparkline).data == volume
        assert screen.query_one("#negative-24h", Sparkline).data == negative
        assert screen.query_one("#volume-7d", Sparkline).data == week_volume
        assert len(screen.query_one("#usual-24h", Sparkline).data or []) == 24
        sources = list(screen.query(".source").results(Sparkline))
        assert sorted(s.data for s in sources) == sorted(by_source.values())  # type: ignore[type-var]
        assert screen.sources == by_source
        gaps = str(screen.query_one("#gaps-24h", Static).render())
        assert "collector not running" in gaps and describe_gaps(missing, weekday=False) in gaps
        assert str(screen.query_one("#band-24h", Static).render()) == ""  # no usual yet
        assert {"checkout", "outage"} <= {word for word, _, _ in screen.words}
        assert "outage 2" in str(screen.query_one("#words", Static).render())
        await burst(app, pilot, "escape", "j")
        assert not isinstance(app.screen, TrendsScreen)
        assert app.mentions.cursor == 1


async def test_t_escape_j_burst_lands_in_the_list(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "T", "escape", "j")
        assert not isinstance(app.screen, TrendsScreen)
        assert app.mentions.cursor == 1
        await burst(app, pilot, "T", "r")
        assert isinstance(app.screen, TrendsScreen)
        await wait_until(lambda: sum(app.screen.query_one("#volume-24h").data or []) == 5, pilot)  # type: ignore[attr-defined]
        await burst(app, pilot, "q")
        assert not isinstance(app.screen, TrendsScreen) and app.is_running


async def test_hours_outside_the_usual_band_are_named(db_path: Path) -> None:
    """Four flat weeks of 2 negatives an hour; the last hour had 9, one earlier hour none:
    the first is above its usual band, the second below it, every other hour within."""
    now = utcnow()
    this_hour = hour_of(now)
    burst_hour, quiet_hour = this_hour - 1, this_hour - 3
    seeded: list[datetime] = []
    for h in range(this_hour - 4 * 168, this_hour):
        n = 9 if h == burst_hour else 0 if h == quiet_hour else 2
        start = datetime.fromtimestamp(h * 3600, UTC)
        seeded += [start + timedelta(minutes=10 + 5 * i) for i in range(n)]
    store = await Store.open(db_path, "seeder")
    await store.add_mentions(
        [
            IncomingMention("feed", f"b{n}", "late again", "ann", None, t)
            for n, t in enumerate(seeded)
        ],
        [NEG] * len(seeded),
    )
    await store.close()
    record_coverage(db_path, range(this_hour - 4 * 168 - 1, this_hour + 1))
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "T")
        screen = app.screen
        assert isinstance(screen, TrendsScreen)
        band = str(screen.query_one("#band-24h", Static).render())
        burst_at = describe_gaps({burst_hour}, weekday=False)
        quiet_at = describe_gaps({quiet_hour}, weekday=False)
        assert f"negatives above their usual band: {burst_at}" in band
        assert f"below it: {quiet_at}" in band
        assert f"mentions above their usual band: {burst_at}" in band
        week = str(screen.query_one("#band-7d", Static).render())
        assert describe_gaps({burst_hour}, weekday=True) in week
    quiet = band_text({"usual": (set(), set()), "usual-negative": (set(), set())}, weekday=False)
    assert str(quiet) == (
        "negatives never above their usual band · mentions never above their usual band"
    )
    assert str(band_text({}, weekday=False)) == ""  # no usual yet: no band to be outside of
