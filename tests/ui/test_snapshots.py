"""SVG snapshots of the main screens. Time is frozen so ages and dates are stable.

Regenerate after an intended change with ``pytest tests/ui/test_snapshots.py --snapshot-update``
and look at the SVGs (``snapshot_report.html`` shows the differences).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.ui.conftest import NEG, NEU, POS, settle
from tui.config import Config
from tui.core.model import IncomingMention
from tui.store import Store
from tui.ui.app import TriageApp

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

ROWS = [
    (
        "mastodon",
        "ann",
        "My parcel is three days late and support won't answer. Third time this month.",
        NEG,
    ),
    ("bluesky", "bob", "Great service today, the driver was lovely 🙌", POS),
    ("reddit", "cat", "Does anyone know the cut-off time for next-day pickups?", NEU),
    ("mastodon", "dan", "Charged twice for my subscription, still no refund after two weeks", NEG),
    (
        "hackernews",
        "[b]eve[/b]",
        "[@click=app.quit]click me[/] \x1b[31mred\x1b[0m \u202eevil\u202c and a NUL \x00",
        NEU,
    ),
    ("feed", "", "Acme announces new pickup points in Leeds", NEU),
]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (
        "tui.store.store",
        "tui.store.clock",
        "tui.ui.widgets.mention_list",
        "tui.ui.widgets.detail",
        "tui.ui.screens.prompts",
        "tui.ui.screens.alerts",
    ):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)


@pytest.fixture
def snapshot_app(frozen: None, db_path: Path):  # type: ignore[no-untyped-def]
    async def fill() -> None:
        store = await Store.open(db_path, "seeder")
        mentions = [
            IncomingMention(
                source,
                f"{source}-{n}",
                text,
                author,
                f"https://example.com/{n}" if n % 2 else None,
                NOW - timedelta(minutes=7 * (len(ROWS) - n)),
            )
            for n, (source, author, text, _) in enumerate(ROWS)
        ]
        ids = await store.add_mentions(mentions, [row[3] for row in ROWS])
        await store.add_tag(ids[0], "complaint")
        await store.add_tag(ids[0], "urgent")
        await store.set_status(ids[1], "done")
        await store.set_follow_up(ids[3], NOW + timedelta(hours=2), "check refund went through")
        await store.close()
        # Fixed collection and event times, so the detail pane is stable.
        import sqlite3

        with sqlite3.connect(db_path) as conn:
            conn.execute("UPDATE mentions SET collected_at = ?", (int(NOW.timestamp() * 1000),))
            conn.execute("DROP TRIGGER events_append_only_update")
            conn.execute("UPDATE events SET at = ?", (int(NOW.timestamp() * 1000),))

    asyncio.run(fill())
    return lambda: TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await settle(pilot.app, pilot)


def test_main_screen_80x24(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """The list at 80x24: status line with counts, six rows newest first with age, sentiment
    mark (▼ neg / · neu / ▲ pos), source, author, status, tags; the hostile row shows its
    markup literally; the detail pane below shows the selected (newest) mention."""
    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=_settle)


def test_main_screen_wide_with_detail(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """At 150 columns the detail pane sits right of the list; the cursor is on ann's
    complaint (tags complaint, urgent), and the pane shows score, reasons, tags and history."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("G")
        await _settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(150, 36), run_before=run_before)


def test_monochrome(snap_compare, snapshot_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """NO_COLOR: no colors at all, and the sentiment still reads from the ▼/·/▲ marks."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(snapshot_app(), terminal_size=(100, 24), run_before=_settle)


def test_help_screen(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """? lists every binding with its key."""
    assert snap_compare(
        snapshot_app(), press=["question_mark"], terminal_size=(110, 40), run_before=_settle
    )


def test_reply_editor(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """r on dan's complaint: the template picker, the text and the count against 500."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("j", "j", "r")
        await _settle(pilot)
        await pilot.press(*"Hi @dan, so sorry about the double charge.")

    assert snap_compare(snapshot_app(), terminal_size=(100, 30), run_before=run_before)


def test_tag_prompt(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """t opens the tag prompt; typing "com" suggests "complaint"."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("t", "c", "o", "m")
        await _settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(100, 30), run_before=run_before)


def test_filter_dialog_80x24(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """F at 80x24: every control on one row with its value (any tag, any status, any source,
    any assigned), both check boxes, the Apply and Clear buttons and the key hint, all inside
    the dialog."""
    assert snap_compare(snapshot_app(), press=["F"], terminal_size=(80, 24), run_before=_settle)


def test_follow_up_prompt_previews_the_time(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """f then "2h": the prompt previews the due time under the fields (Enter would set it)."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("f", "2", "h")
        await _settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_reply_close_asks_and_keeps_by_default(snap_compare, snapshot_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """escape in a changed reply: "Keep this reply as your draft?" with "Keep the draft (k)"
    highlighted first, then "Discard the changes (d)", and the escape hint."""
    monkeypatch.setattr("tui.ui.screens.reply.AUTOSAVE_SECONDS", 3600)  # a stable screen

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.press("r")
        await _settle(pilot)
        await pilot.press(*"We are on it", "escape")
        await _settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_layout_after_resizing_to_wide(snap_compare, snapshot_app) -> None:  # type: ignore[no-untyped-def]
    """Opened at 80x24 and resized to 150x36: the detail pane has moved beside the list."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await _settle(pilot)
        await pilot.resize_terminal(150, 36)
        await _settle(pilot)

    assert snap_compare(snapshot_app(), terminal_size=(80, 24), run_before=run_before)


def test_alerts_screen_80x24(snap_compare, snapshot_app, db_path: Path) -> None:  # type: ignore[no-untyped-def]
    """! at 80x24 with four channels failing with long errors: the list is shorter on a short
    terminal, the explanation and deliveries scroll (pgdn), and the keys show at the bottom."""
    import sqlite3
    from dataclasses import replace

    from tui.core.model import NewAlert

    app = snapshot_app()

    async def add() -> None:
        store = await Store.open(db_path, "collector")
        base = NewAlert("k", "negative", "negative", NOW, "t", "why")
        await store.add_alerts(
            [
                replace(base, key=f"k{n}", at=NOW - timedelta(minutes=9 - n), title=f"Alert {n}")
                for n in range(3)
            ]
            + [
                replace(
                    base,
                    key="many",
                    title="Negative mention from [b]eve[/b]",
                    explanation="A negative post: \x1b[31mrefund\x1b[0m still missing",
                    channels=("alpha", "bravo", "charlie", "zulu"),
                )
            ]
        )
        await store.close()
        ms = int(NOW.timestamp() * 1000)
        with sqlite3.connect(db_path) as conn:
            conn.execute(
                "UPDATE deliveries SET next_at = ?, attempts = 2,"
                " error = channel || ': answered 500: ' || ?",
                (ms + 600_000, "<h1>Internal Server Error</h1> " + "E" * 120),
            )

    asyncio.run(add())
    assert snap_compare(app, press=["exclamation_mark"], terminal_size=(80, 24), run_before=_settle)
