"""Keys typed in a burst (a laggy SSH link, a paste) land where the operator meant them: a
whole sequence delivered at once behaves exactly as the same keys typed slowly, for every
prompt and screen."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.ui.conftest import burst, settle, wait_until
from tui.ui.app import TriageApp
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.reply import ReplyEditor

pytestmark = pytest.mark.usefixtures("key_timer")


def rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def on_main_screen(app: TriageApp) -> bool:
    return len(app.screen_stack) == 1 and app.focused is app.mentions


async def test_tag_prompt_then_a_move(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "t", "z", "z", "enter", "j", "t", "q", "enter")
        assert on_main_screen(app)
        # "zz" on the newest (id 5); j moved down; "q" on the next one (id 4), not a quit
        assert sorted(rows(db_path, "SELECT tag, mention_id FROM mention_tags")) == [
            ("q", 4),
            ("zz", 5),
        ]
        assert app.is_running


async def test_search_then_back_to_the_list(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "slash", *"refund", "enter", "j")
        search = app.query_one("#search", Input)
        assert search.value == "refund"  # the j was not typed into the box
        assert app.focused is app.mentions
        assert app.mentions.filter.search == "refund"


async def test_escape_then_a_letter_read_as_alt_is_both_keys(make_app) -> None:
    # Escape and a letter read together are the bytes of Alt and that letter: Textual
    # reports alt+j. Nothing binds it, so it is what was typed, escape then j.
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "slash", *"refund")
        assert app.mentions.filter.search == "refund"
        found = app.mentions.current
        assert found is not None
        await burst(app, pilot, "alt+j")
        assert app.mentions.filter.search is None  # the escape cleared the search
        ids = [row.id for row in app.mentions.shown()]
        # It stayed on the mention found, in the whole list, and j moved down from it.
        assert app.focused is app.mentions and app.mentions.cursor == ids.index(found.id) + 1
        await burst(app, pilot, "alt+shift+g")  # G: the oldest row
        assert app.mentions.cursor == len(app.mentions.shown()) - 1
        await burst(app, pilot, "alt+q", wait=False)
        await wait_until(lambda: not app.is_running, pilot)


async def test_clearing_a_search_or_a_filter_stays_on_the_mention_for_the_keys_after(
    make_app, db_path: Path
) -> None:
    """Escape, x or n again, then a key, in one burst: the key acts on the mention the
    operator was on, not on the newest one (#5), which the list used to jump to."""
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "slash", *"parcel", "enter", "escape", "d")
        assert rows(db_path, "SELECT id FROM mentions WHERE status = 'done'") == [(1,)]
        assert app.mentions.current is not None and app.mentions.current.id == 1
        await burst(app, pilot, "n", "x", "t", *"kept", "enter")  # #4: the one open negative
        await burst(app, pilot, "n", "n", "t", *"again", "enter")
        assert app.mentions.filter.negative_only is False
        tagged = "SELECT tag, mention_id FROM mention_tags ORDER BY tag"
        assert rows(db_path, tagged) == [("again", 4), ("kept", 4)]
        ids = [row.id for row in app.mentions.shown()]
        assert ids == [5, 4, 3, 2, 1] and app.mentions.cursor == 1  # the whole list, on #4


async def test_search_enter_then_commands_act_on_the_result(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "slash", *"parcel", "enter", "d")
        assert rows(db_path, "SELECT author, status FROM mentions WHERE status='done'") == [
            ("ann", "done")
        ]


async def test_follow_up_enter_in_the_time_field_sets_it(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "f", "2", "h", "enter")
        assert on_main_screen(app)
        assert rows(db_path, "SELECT mention_id, note, done FROM follow_ups") == [(5, "", 0)]
        await burst(app, pilot, "j", "f", "3", "0", "m", "tab", *"call", "space", *"back", "enter")
        assert on_main_screen(app)
        assert rows(db_path, "SELECT mention_id, note FROM follow_ups ORDER BY mention_id") == [
            (4, "call back"),
            (5, ""),
        ]


async def test_follow_up_bad_time_keeps_the_prompt_and_the_rest_of_the_keys(
    make_app, db_path: Path
) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "f", *"soon", "enter", "d")
        # the prompt stays open with the error; "d" was typed into the field, not run
        assert not on_main_screen(app)
        assert app.screen.query_one("#when", Input).value == "soond"
        assert rows(db_path, "SELECT count(*) FROM mentions WHERE status='done'") == [(0,)]


async def test_reply_typed_and_saved_in_one_burst(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"sorry", "ctrl+s", "j", "d")
        assert on_main_screen(app)
        assert rows(db_path, "SELECT mention_id, text FROM drafts") == [(5, "sorry")]
        assert rows(db_path, "SELECT id FROM mentions WHERE status='done'") == [(4,)]


async def test_help_and_close_then_move(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "question_mark", "j", "escape", "j", "j")
        assert on_main_screen(app)
        assert app.mentions.cursor == 2
        await burst(app, pilot, "question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_source_health_and_close_then_act(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "H", "escape", "d")
        assert on_main_screen(app)
        assert rows(db_path, "SELECT id FROM mentions WHERE status='done'") == [(5,)]


async def test_filter_dialog_escape_then_act(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "F", "escape", "j", "d")
        assert on_main_screen(app)
        assert rows(db_path, "SELECT id FROM mentions WHERE status='done'") == [(4,)]


async def test_a_run_of_actions_each_on_its_own_row(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "d", "j", "d", "j", "1", "j", "j", "o")
        assert sorted(rows(db_path, "SELECT id FROM mentions WHERE status='done'")) == [(4,), (5,)]
        assert rows(db_path, "SELECT mention_id, tag FROM mention_tags") == [(3, "complaint")]
        assert rows(
            db_path, "SELECT id, operator_label FROM mentions WHERE operator_label IS NOT NULL"
        ) == [(1, "negative")]


async def test_escape_from_the_reply_editor_asks_and_keys_after_it_answer(
    make_app, db_path: Path
) -> None:
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"hello", "escape")
        # the question is open, nothing was thrown away
        assert isinstance(app.screen_stack[-2], ReplyEditor)
        await burst(app, pilot, "escape", *" there")
        assert isinstance(app.screen, ReplyEditor)
        assert app.screen.text == "hello there"
