"""Reply text is never lost: autosave while typing, keeping is the default when closing,
quitting asks, and templates never silently replace what was written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Select, TextArea

from tests.ui.conftest import burst, settle, steady, wait_until
from tui.ui.screens import reply
from tui.ui.screens.prompts import ChoiceScreen
from tui.ui.screens.reply import ReplyEditor

pytestmark = pytest.mark.usefixtures("key_timer")


def rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture(autouse=True)
def quick_autosave(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reply, "AUTOSAVE_SECONDS", 0.2)


async def test_text_is_saved_while_typing_without_closing(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"we are on it")
        await wait_until(
            lambda: rows(db_path, "SELECT text FROM drafts") == [("we are on it",)], pilot
        )
        assert isinstance(app.screen, ReplyEditor)  # still writing
        # autosave keeps the text without a history row per pause
        assert rows(db_path, "SELECT count(*) FROM events WHERE action='draft'") == [(0,)]
        await burst(app, pilot, *", sorry")
        await wait_until(
            lambda: rows(db_path, "SELECT text FROM drafts") == [("we are on it, sorry",)], pilot
        )


async def test_escape_with_changes_keeps_them_by_default(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"hello", "escape")
        assert isinstance(app.screen, ChoiceScreen)
        await burst(app, pilot, "enter")  # the default answer keeps the text
        assert len(app.screen_stack) == 1
        # The key is handled once the editor closes; the save it starts may land after.
        await wait_until(
            lambda: rows(db_path, "SELECT mention_id, text FROM drafts") == [(5, "hello")], pilot
        )
        assert rows(db_path, "SELECT action FROM events WHERE action='draft'") == [("draft",)]


async def test_discard_goes_back_to_the_draft_as_it_was(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"first", "ctrl+s")
        await burst(app, pilot, "r", "space", *"second")
        await wait_until(
            lambda: rows(db_path, "SELECT text FROM drafts") == [("first second",)], pilot
        )
        await burst(app, pilot, "escape", "d")
        assert len(app.screen_stack) == 1
        assert rows(db_path, "SELECT text FROM drafts") == [("first",)]


async def test_quitting_with_an_open_reply_asks_and_saves(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"half a thought", "ctrl+q")
        assert isinstance(app.screen, ChoiceScreen)
        assert app.is_running
        await burst(app, pilot, "escape")  # changed my mind: back to the reply
        assert isinstance(app.screen, ReplyEditor)
        await burst(app, pilot, *" more", "ctrl+q", "s", wait=False)
        await wait_until(lambda: not app.is_running, pilot)
    assert rows(db_path, "SELECT text FROM drafts") == [("half a thought more",)]


async def test_quitting_without_changes_does_not_ask(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", "ctrl+q", wait=False)
        await wait_until(lambda: not app.is_running, pilot)


async def test_a_template_over_text_asks_and_undo_restores(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"Order 1234 ")
        editor = app.screen
        assert isinstance(editor, ReplyEditor)
        editor.query_one("#template", Select).value = 0  # "Acknowledge"
        await settle(app, pilot)
        assert isinstance(app.screen, ChoiceScreen)
        await burst(app, pilot, "i")  # insert at the cursor
        area = editor.query_one(TextArea)
        assert area.text.startswith("Order 1234 Hi @eve, thanks")
        await burst(app, pilot, "ctrl+z")
        assert area.text == "Order 1234 "
        editor.query_one("#template", Select).value = 0
        await settle(app, pilot)
        await burst(app, pilot, "r")  # replace
        assert area.text.startswith("Hi @eve, thanks")
        await burst(app, pilot, "ctrl+z")
        assert area.text == "Order 1234 "
        # and escape at the question keeps the text untouched
        editor.query_one("#template", Select).value = 0
        await settle(app, pilot)
        await burst(app, pilot, "escape")
        assert area.text == "Order 1234 "


async def test_ctrl_t_then_down_and_enter_picks_the_same_template_every_time(make_app) -> None:
    """Typed ahead in one burst, as a laggy link delivers it: ctrl+t opens the templates on
    the first, Down moves to the second (Apologize), Enter picks it; and again."""
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        for _ in range(2):
            await burst(app, pilot, "r", "ctrl+t", "down", "enter")
            await wait_until(lambda: isinstance(app.screen, ReplyEditor), pilot)
            editor = app.screen
            assert isinstance(editor, ReplyEditor)
            await wait_until(lambda e=editor: e.text.startswith("Hi "), pilot)
            assert "we're sorry about this" in editor.text
            await burst(app, pilot, "escape")  # close: it asks, as the text changed
            await wait_until(lambda: isinstance(app.screen, ChoiceScreen), pilot)
            await burst(app, pilot, "d")  # discard: back to no draft
            await wait_until(lambda: len(app.screen_stack) == 1, pilot)


@pytest.mark.parametrize("width", [80, 140])
async def test_a_question_shows_every_answer_whole(make_app, width: int) -> None:
    """The quit question's two long answers do not fit side by side in the dialog: they go
    one under the other, and neither is cut. Short answers stay side by side."""
    from textual.widgets import Button

    def laid_out() -> object:
        dialog = app.screen.query_one(".dialog")
        return dialog.region, [button.region for button in app.screen.query(Button)]

    def answers() -> list[Button]:
        dialog = app.screen.query_one(".dialog")
        buttons = list(app.screen.query(Button))
        for button in buttons:
            assert dialog.region.contains_region(button.region), (button.region, dialog.region)
            assert button.region.width >= len(str(button.label))  # the whole label shows
        return buttons

    app = await make_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        await pilot.press(*"half a reply", "ctrl+q")
        await wait_until(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await steady(laid_out, pilot)  # the buttons are stacked after the first refresh
        save, discard = answers()
        assert save.region.y < discard.region.y  # one under the other
        await pilot.press("escape")  # back to the reply
        await wait_until(lambda: isinstance(app.screen, ReplyEditor), pilot)
        await pilot.press("escape")  # close it: keep or discard the changes?
        await wait_until(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await steady(laid_out, pilot)
        keep, discard = answers()
        assert keep.region.y == discard.region.y  # short answers: side by side


async def test_the_reply_wraps_again_at_its_new_width_after_a_resize(make_app) -> None:
    from textual.geometry import Region

    text = "Resize test line one, with some words to wrap around the box at eighty columns wide."
    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        area = app.screen.query_one(TextArea)
        area.text = text

        def words_shown() -> list[str]:
            lines = area.render_lines(Region(0, 1, area.size.width, 3))
            return " ".join(s.text.strip(" ▊▎") for s in lines).split()

        for size in ((150, 40), (80, 24), (100, 30), (80, 24)):
            await pilot.resize_terminal(*size)
            await wait_until(lambda s=size: tuple(app.size) == s, pilot)
            await steady(lambda: (area.size, words_shown()), pilot)
            assert words_shown() == text.split(), size  # each word once, none past the edge
