"""The list's drawn lines are reused while nothing they show has changed, and drawn again
as soon as anything does: the row, the clock, the cursor, focus or who else is on it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tui.config import Config
from tui.core.model import IncomingMention, utcnow
from tui.store import Store
from tui.ui.app import TriageApp

from .conftest import NEG, NEU, settle, wait_until


def screen_line(app: TriageApp, mention_id: int) -> tuple[str, object]:
    """The list's line for the mention as the compositor would draw it now: text, style."""
    mentions = app.mentions
    y = next(i for i, r in enumerate(mentions.rows) if r.id == mention_id) - mentions.top
    strip = mentions.render_line(y)
    return strip.text, strip


async def test_lines_follow_the_row_the_clock_the_cursor_and_focus(db_path: Path) -> None:
    now = utcnow().replace(second=0, microsecond=0)
    store = await Store.open(db_path, "seeder")
    first, second = await store.add_mentions(
        [
            IncomingMention(
                "mastodon", "a", "parcel late", "ann", None, now - timedelta(minutes=5)
            ),
            IncomingMention("mastodon", "b", "thanks", "bob", None, now - timedelta(minutes=4)),
        ],
        [NEG, NEU],
    )
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(100, 24)) as pilot:
        clock = [now]
        app.mentions.now = lambda: clock[0]
        await settle(app, pilot)
        mentions = app.mentions
        assert [r.id for r in mentions.rows] == [second, first]
        text, drawn = screen_line(app, first)
        assert text.startswith("5m ") and " 25m " in text
        assert screen_line(app, first)[1] is drawn  # nothing changed: the same line

        clock[0] = now + timedelta(minutes=3)  # ages and the response clock move on
        text, _ = screen_line(app, first)
        assert text.startswith("8m ") and " 22m " in text

        before_cursor = screen_line(app, first)[1]
        await pilot.press("j")
        await settle(app, pilot)
        assert mentions.current is not None and mentions.current.id == first
        on_cursor = screen_line(app, first)[1]
        assert on_cursor is not before_cursor
        cursor_bg = mentions.get_component_rich_style("mention-list--cursor").bgcolor
        assert any(s.style is not None and s.style.bgcolor == cursor_bg for s in on_cursor)
        mentions.blur()
        await pilot.pause()
        assert screen_line(app, first)[1] is not on_cursor  # the blurred cursor differs

        # Another process relabels the second mention: its line is drawn from the new row,
        # the unchanged one keeps its row object (and its drawn line).
        kept = next(r for r in mentions.rows if r.id == first)
        assert " · neu " in screen_line(app, second)[0]
        await store.set_operator_label(second, "negative")
        await wait_until(lambda: " ▼ neg* " in screen_line(app, second)[0], pilot)
        assert next(r for r in mentions.rows if r.id == first) is kept
    await store.close()
