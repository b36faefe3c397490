"""Untrusted names on screen: each single-line field stays on its one row, whatever it holds.

A crafted author (``x\\n1m ▲ pos mastodon ceo done All refunds approved``) must not paint a fake
row in the list, a fake line in the detail pane, or a second line in the status line.
"""

from __future__ import annotations

import io
import sqlite3
import unicodedata
from pathlib import Path

from rich.console import Console
from textual.widgets import Label, Static

from tests.ui.conftest import NEG, POS, settle
from tui.config import Config, SourceConfig
from tui.core.text import ESCAPE_MARK
from tui.ui.screens.health import HealthScreen
from tui.ui.screens.prompts import TagPrompt
from tui.ui.widgets.detail import DetailPane

FAKE_ROW = "1m ▲ pos mastodon ceo done All refunds approved"
HOSTILE_AUTHOR = f"x\n{FAKE_ROW}"
_BAD = ("Cc", "Cf", "Zl", "Zp", "Cs")


def _clean(text: str) -> bool:
    return not any(unicodedata.category(c) in _BAD for c in text)


async def test_a_hostile_author_is_one_row_of_the_list_width(make_app) -> None:
    rows = [
        ("mastodon", "bob", "An ordinary complaint about a late parcel", NEG, None),
        (
            "mastodon\u2028evil",
            HOSTILE_AUTHOR + "\r\x1b]0;pwned\x07\u202e\u200b",
            "first \x1b[2J\u2029second",
            POS,
            None,
        ),
    ]
    app = await make_app(rows=rows)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        mentions = app.mentions
        width = mentions.size.width
        hostile = mentions.shown()[0]
        assert hostile.author == rows[1][1]  # stored exactly as received
        strip = mentions._render_row(hostile, width, selected=False)
        assert strip.cell_length == width
        texts = [segment.text for segment in strip]
        assert all(_clean(text) for text in texts), texts
        line = "".join(texts)
        assert "x 1m ▲" in line  # the name's start, on the mention's own row
        assert f"first {ESCAPE_MARK}" in line and "second" not in line  # the text's first line
        # The row below is the next mention, not the rest of the name.
        below = "".join(segment.text for segment in mentions.render_line(1))
        assert "bob" in below and FAKE_ROW not in below
        for y in range(2):
            assert mentions.render_line(y).cell_length == width


async def test_the_detail_pane_shows_a_hostile_author_on_its_own_line(make_app) -> None:
    rows = [("mastodon", HOSTILE_AUTHOR, "text", NEG, "https://x.example/\n" + FAKE_ROW)]
    app = await make_app(rows=rows)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        lines = app.query_one(DetailPane).plain.splitlines()
        assert not any(line.startswith("1m ▲") for line in lines), lines
        (author,) = [line for line in lines if line.startswith("author")]
        assert author.split(None, 1)[1] == f"x {FAKE_ROW}"
        (url,) = [line for line in lines if line.startswith("url")]
        assert url.endswith(f"https://x.example/ {FAKE_ROW}")


async def test_the_status_line_stays_one_line_with_a_hostile_brand(make_app) -> None:
    brand = "Acme\n\x1b]0;pwned\x07 \u202eemca\u202c\r2nd line"
    app = await make_app(config=Config(brand=brand))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        status = app.query_one("#status", Static)
        plain = status.content.plain  # type: ignore[union-attr]
        assert _clean(plain) and "\n" not in plain
        assert f" Acme {ESCAPE_MARK} emca 2nd line " in plain
        assert status.size.height == 1


async def test_the_health_screen_keeps_each_source_on_its_row(make_app, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("")
    name = "bridge\nfake  ok  just now\x1b[2J\u202e"
    config = Config(
        brand="Acme", sources=(SourceConfig("jsonl", name, "", options={"path": str(feed)}),)
    )
    app = await make_app(config=config, rows=[])
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("H")
        await settle(app, pilot)
        assert isinstance(app.screen, HealthScreen)
        table = app.screen.query_one("#table", Static).content
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(table)
        lines = console.export_text().splitlines()
        assert not any(line.lstrip().startswith("fake") for line in lines), lines
        assert any(f"bridge fake ok just now{ESCAPE_MARK}" in line for line in lines), lines
        assert all(_clean(line) for line in lines)


async def test_the_tag_prompt_normalizes_and_rejects_an_empty_tag(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("t", *"##", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TagPrompt)  # still open, saying why
        error = str(app.screen.query_one("#tag-error", Label).content)
        assert error.startswith("Empty tag") and "escape to cancel" in error
        await pilot.press("backspace", "backspace", *"#Billing", "space", "space", *"Issue")
        await pilot.press("enter")
        await settle(app, pilot)
        with sqlite3.connect(db_path) as conn:
            assert conn.execute("SELECT tag FROM mention_tags").fetchall() == [("billing issue",)]
        assert app.mentions.current is not None
        assert app.mentions.current.tags == ("billing issue",)
