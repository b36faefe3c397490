from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from tui.config import Config
from tui.core.model import IncomingMention, Reason, Score, utcnow
from tui.store import Store
from tui.ui import keys
from tui.ui.app import TriageApp

NEG = Score(-0.7, "negative", (Reason("late", -1.6), Reason("still", -0.8)))
POS = Score(0.8, "positive", (Reason("great", 3.1),))
NEU = Score(0.0, "neutral", ())

SEED = [
    ("mastodon", "ann", "My parcel is three days late and support won't answer", NEG, None),
    ("bluesky", "bob", "Great service today, driver was lovely", POS, "https://bsky.example/p/1"),
    ("reddit", "cat", "Does anyone know the cut-off time for pickups?", NEU, None),
    ("mastodon", "dan", "Charged twice for my subscription, still no refund", NEG, None),
    ("hackernews", "eve", "[@click=app.quit]click me[/] \x1b[31mred\x1b[0m \u202eevil", NEU, None),
]


async def seed(
    db_path: Path, rows: list[tuple[str, str, str, Score, str | None]] = SEED
) -> list[int]:
    store = await Store.open(db_path, "seeder")
    now = utcnow()
    mentions = [
        IncomingMention(source, f"{source}-{n}", text, author, url, now - timedelta(minutes=50 - n))
        for n, (source, author, text, _, url) in enumerate(rows)
    ]
    ids = await store.add_mentions(mentions, [row[3] for row in rows])
    await store.close()
    return ids


@pytest.fixture
def make_app(db_path: Path) -> Callable[..., Awaitable[TriageApp]]:
    async def make(config: Config | None = None, rows: list | None = None) -> TriageApp:
        await seed(db_path, rows if rows is not None else SEED)
        return TriageApp(config or Config(brand="Acme"), db_path, "tester", collect=False)

    return make


@pytest.fixture(
    params=[keys.LOST_SECONDS, 0.005], ids=["as shipped", "every handler slower than the timer"]
)
def key_timer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a test once as shipped and once with the lost-``Settle`` timer far shorter than any
    key's handler (a loaded machine, a slow disk): the keys after a slow one must still land
    where they were meant, in the same order."""
    monkeypatch.setattr(keys, "LOST_SECONDS", request.param)


@pytest.fixture
def no_periodic_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn off the refreshes an app makes on a clock whatever changed (the counts every
    10 s, the list at most every 10 s after a commit it saw no change in), so that what a
    test waits for can only come from the change it made, however long the wait."""
    from tui.ui import app

    monkeypatch.setattr(app, "COUNTS_SECONDS", 3600.0)
    monkeypatch.setattr(app, "REFRESH_ANYWAY_SECONDS", 3600.0)


async def settle(app: TriageApp, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until key handlers, store writes and the list refresh have all finished
    (not the long-running feeders: the collector and the demo stream)."""
    await wait_until(lambda: getattr(app, "keys_pending", 0) == 0, pilot)
    for _ in range(3):
        await pilot.pause()
        short_lived = [w for w in app.workers if w.group not in ("collector", "demo")]
        for worker in short_lived:
            # An exclusive worker (the detail pane's) is cancelled when a newer one starts:
            # that is the app working as meant, not a failure to wait for.
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
    await pilot.pause()


async def wait_until(predicate: Callable[[], bool], pilot, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Poll until ``predicate`` holds; the timeout only costs time when something is wrong."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)


async def steady(look: Callable[[], object], pilot, times: int = 3, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Wait until what ``look`` returns is the same ``times`` polls in a row: a layout that
    is done, not one caught between two refreshes (a resize, a class set after a refresh)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen, same = look(), 0
    while same < times:
        if loop.time() > deadline:
            raise AssertionError("never stopped changing")
        await pilot.pause()
        await pilot.pause(0.05)
        now = look()
        same = same + 1 if now == seen else 0
        seen = now


_CHARACTERS = {"enter": "\r", "tab": "\t", "escape": "\x1b", "space": " ", "backspace": "\x7f"}


async def burst(app: TriageApp, pilot, *keys: str, wait: bool = True) -> None:  # type: ignore[no-untyped-def]
    """Deliver ``keys`` the way a laggy SSH link or a paste does: all of them read from the
    terminal at once, before the first is handled (``pilot.press`` waits between keys, which
    hides exactly the bugs a burst shows). Then, unless ``wait`` is false (the keys quit the
    app), wait until every one has been handled."""
    from textual import events

    for key in keys:
        character = key if len(key) == 1 else _CHARACTERS.get(key)
        app.post_message(events.Key(key, character))
    if not wait:
        return
    await pilot.pause()
    await wait_until(lambda: app.keys_pending == 0, pilot)
    await settle(app, pilot)
