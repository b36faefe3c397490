"""Pilot tests: press each key as an operator would and check what the database holds."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from textual.geometry import Region
from textual.widgets import Input, Select, TextArea

from tests.ui.conftest import NEG, seed, settle, wait_until
from tui.config import Config
from tui.core.model import IncomingMention
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.screens.help import HelpScreen
from tui.ui.screens.prompts import ChoiceScreen
from tui.ui.screens.reply import ReplyEditor
from tui.ui.widgets.detail import DetailPane
from tui.ui.widgets.mention_list import MentionList


def db_rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def status_text(app: TriageApp) -> str:
    return str(app.query_one("#status").render())


def detail_text(app: TriageApp) -> str:
    return app.query_one(DetailPane).plain


async def test_list_is_newest_first_and_keys_move(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        authors = [row.author for row in app.mentions.shown()]
        assert authors == ["eve", "dan", "cat", "bob", "ann"]
        assert app.mentions.current.author == "eve"
        await pilot.press("j", "j")
        assert app.mentions.current.author == "cat"
        await pilot.press("k")
        assert app.mentions.current.author == "dan"
        await pilot.press("G")
        await settle(app, pilot)
        assert app.mentions.current.author == "ann"
        await pilot.press("g")
        await settle(app, pilot)
        assert app.mentions.current.author == "eve"
        await pilot.press("down")
        await settle(app, pilot)
        assert "Charged twice" in detail_text(app)
        assert "still -0.80" in detail_text(app)  # the words that moved the score


async def test_tag_prompt_applies_and_completes(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("t")
        await pilot.press(*"billing", "enter")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT tag, mention_id FROM mention_tags") == [("billing", 5)]
        assert app.mentions.current.tags == ("billing",)
        # completion from known tags: "bil" + right arrow accepts "billing" on another mention
        await pilot.press("j", "t", "b", "i", "right", "enter")
        await settle(app, pilot)
        assert sorted(
            db_rows(db_path, "SELECT mention_id FROM mention_tags WHERE tag='billing'")
        ) == [(4,), (5,)]
        events = db_rows(db_path, "SELECT action, detail, by FROM events ORDER BY id")
        assert events == [("tag", "billing", "tester"), ("tag", "billing", "tester")]


async def test_quick_tags_toggle(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("1")
        await settle(app, pilot)
        await pilot.press("6")
        await settle(app, pilot)
        assert sorted(db_rows(db_path, "SELECT tag FROM mention_tags")) == [
            ("complaint",),
            ("urgent",),
        ]
        await pilot.press("1")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT tag FROM mention_tags") == [("urgent",)]


async def test_snapshot_stores_text_hash_and_fetches_the_page(
    make_app, db_path: Path, http_page
) -> None:
    url = http_page(b"<html>the post as it was</html>")
    rows = [("bluesky", "bob", "Great service", NEG, url)]
    app = await make_app(Config(brand="Acme", snapshot_fetch_private=True), rows=rows)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await settle(app, pilot)
        await wait_until(
            lambda: db_rows(db_path, "SELECT count(*) FROM snapshot_pages")[0][0] == 1, pilot
        )
        snap = db_rows(db_path, "SELECT text, by, url FROM snapshots")
        assert snap == [("Great service", "tester", url)]
        page = db_rows(db_path, "SELECT status, page, error FROM snapshot_pages")
        assert page == [(200, b"<html>the post as it was</html>", None)]
        await settle(app, pilot)
        assert "page: HTTP 200" in detail_text(app)


async def test_snapshot_of_a_dead_link_records_the_failure(make_app, db_path: Path) -> None:
    """A network error is worth retrying: the snapshot is kept, the failed attempt recorded,
    and the fetch stays queued for the next try (shown in the detail pane)."""
    rows = [("bluesky", "bob", "Gone", NEG, "http://127.0.0.1:9/nothing-listens-here")]
    app = await make_app(Config(brand="Acme", snapshot_fetch_private=True), rows=rows)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await wait_until(
            lambda: db_rows(db_path, "SELECT attempts FROM snapshot_fetches") == [(1,)], pilot
        )
        await wait_until(
            lambda: db_rows(db_path, "SELECT state FROM snapshot_fetches") == [("pending",)], pilot
        )
        (error,) = db_rows(db_path, "SELECT last_error FROM snapshot_fetches")[0]
        assert "ConnectError" in error
        assert db_rows(db_path, "SELECT count(*) FROM snapshot_pages")[0][0] == 0
        assert db_rows(db_path, "SELECT count(*) FROM snapshots")[0][0] == 1
        await wait_until(lambda: "page: pending (attempt 2, next try in" in detail_text(app), pilot)


async def test_snapshot_never_fetches_a_private_address_by_default(
    make_app, db_path: Path, http_page
) -> None:
    url = http_page(b"internal admin page")
    app = await make_app(rows=[("reddit", "eve", "see this", NEG, url)])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await wait_until(
            lambda: db_rows(db_path, "SELECT count(*) FROM snapshot_pages")[0][0] == 1, pilot
        )
        status, error, page = db_rows(db_path, "SELECT status, error, page FROM snapshot_pages")[0]
        assert (status, page) == (None, None) and "non-public address" in error


async def test_reply_editor_template_save_and_discard(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("j")  # dan on mastodon
        await pilot.press("r")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, ReplyEditor)
        editor.query_one("#template", Select).value = 1  # "Apologize"
        await pilot.pause()
        text = editor.query_one(TextArea).text
        assert text.startswith("Hi @dan, we're sorry") and "Acme" in text and "tester" in text
        assert str(editor.query_one("#count").render()) == f"{len(text)}/500"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT mention_id, by, text FROM drafts") == [(4, "tester", text)]
        # Reopening loads the saved draft; closing with changes asks, and keeping is the default.
        await pilot.press("r")
        await settle(app, pilot)
        assert app.screen.query_one(TextArea).text == text
        await pilot.press("x", "escape")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")  # back to the reply
        assert isinstance(app.screen, ReplyEditor)
        await pilot.press("escape", "d")  # discard the changes: the draft as it was
        await settle(app, pilot)
        assert not isinstance(app.screen, ReplyEditor)
        assert db_rows(db_path, "SELECT text FROM drafts") == [(text,)]


async def test_reply_copy_uses_the_clipboard(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        await pilot.press(*"on it", "ctrl+o")
        assert app.clipboard == "on it"


async def test_a_reply_too_long_or_unfinished_is_copied_only_once_confirmed(
    make_app, db_path: Path
) -> None:
    """ctrl+o on a reply over the limit or holding a template's fill-in asks first (the copy
    is what stops the response clock, and a missed warning would leave the last reply in the
    clipboard); going back is the default, and copying anyway copies and records it."""
    app = await make_app(rows=[("bluesky", "ann", "Parcel lost", NEG, None)])
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("r")
        await settle(app, pilot)
        editor = app.screen
        assert isinstance(editor, ReplyEditor)
        editor.query_one(TextArea).text = "Sorry! [the fix] " + "x" * 300
        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        question = str(app.screen.query_one(".title").render())
        assert question == (
            "Not ready to post: it is 317/300 characters; it still holds [the fix]. Copy it anyway?"
        )
        copied = "SELECT count(*) FROM events WHERE action = 'reply_copied'"
        await pilot.press("enter")  # the default: back to the reply
        await wait_until(lambda: app.screen is editor, pilot)
        assert app.clipboard == "" and db_rows(db_path, copied) == [(0,)]
        await pilot.press("ctrl+o")
        await wait_until(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press("c")  # copy anyway
        await wait_until(lambda: db_rows(db_path, copied) == [(1,)], pilot)
        assert app.screen is editor and app.clipboard.startswith("Sorry! [the fix]")
        editor.query_one(TextArea).text = "Sorry, here is the fix: a new parcel is on its way."
        await pilot.press("ctrl+o")  # ready: copied at once
        await wait_until(lambda: app.clipboard.startswith("Sorry, here is the fix"), pilot)
        assert app.screen is editor


async def test_follow_up_prompt(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("f", *"soon", "enter")
        await pilot.pause()
        assert "cannot read 'soon'" in str(app.screen.query_one("#when-error").render())
        app.screen.query_one("#when", Input).value = ""
        await pilot.press(*"2020-01-01T09:00")  # said while typing, as a hint
        said = app.screen.query_one("#when-error")
        assert "is in the past" in str(said.render()) and not said.has_class("error")
        await pilot.press("enter")  # and refused at Enter, as an error
        await pilot.pause()
        assert "is in the past" in str(said.render()) and said.has_class("error")
        assert db_rows(db_path, "SELECT count(*) FROM follow_ups") == [(0,)]  # not set
        app.screen.query_one("#when", Input).value = ""
        await pilot.press(*"2h", "tab", *"call back", "enter")
        await settle(app, pilot)
        ((_due, note, done),) = db_rows(db_path, "SELECT due_at, note, done FROM follow_ups")
        assert note == "call back" and done == 0
        await pilot.press("c")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT done FROM follow_ups") == [(1,)]
        await pilot.press("c")  # none left: says so, as every key says what it did
        await settle(app, pilot)
        assert any("No follow-up on this mention" in n.message for n in app._notifications)
        assert db_rows(db_path, "SELECT done FROM follow_ups") == [(1,)]


async def test_done_toggles(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT status FROM mentions WHERE id = 5") == [("done",)]
        await pilot.press("d")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT status FROM mentions WHERE id = 5") == [("new",)]
        assert [a for (a,) in db_rows(db_path, "SELECT detail FROM events")] == ["done", "new"]


async def test_operator_label_cycles(make_app, db_path: Path) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        seen = []
        for _ in range(4):
            await pilot.press("o")
            await settle(app, pilot)
            seen.append(db_rows(db_path, "SELECT operator_label FROM mentions WHERE id = 5")[0][0])
        assert seen == ["negative", "neutral", "positive", None]


async def test_a_refresh_read_before_an_edit_does_not_undo_it(make_app, db_path: Path) -> None:
    """A list refresh that read the rows just before the operator pressed ``o`` lands after
    the press, while the write is still going: the row must keep the new label, or the next
    ``o`` goes on from the old one."""
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        rows, write = app.store.rows, app.writer.set_operator_label
        read, release, written = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def slow_rows(ids: list[int]):  # type: ignore[no-untyped-def]
            fresh = await rows(ids)  # read before the edit...
            read.set()
            await release.wait()  # ...handed to the list after it
            return fresh

        async def slow_write(mention_id: int, label: str | None) -> None:
            await written.wait()
            await write(mention_id, label)

        app.store.rows = slow_rows  # type: ignore[method-assign]
        app.writer.set_operator_label = slow_write  # type: ignore[method-assign]
        app.mentions.post_message(MentionList.DataChanged())
        await asyncio.wait_for(read.wait(), 5)
        app.action_override_label()
        app.store.rows = rows  # type: ignore[method-assign]
        release.set()
        for _ in range(5):
            await pilot.pause()
        assert app.mentions.current is not None
        assert app.mentions.current.operator_label == "negative"  # the write is still going
        written.set()
        await settle(app, pilot)
        stored = db_rows(db_path, "SELECT operator_label FROM mentions WHERE id = 5")
        assert stored == [("negative",)]
        assert app.mentions.current.operator_label == "negative"


async def test_a_refresh_read_after_an_edit_but_before_its_write_does_not_undo_it(
    make_app, db_path: Path
) -> None:
    """The other order: the refresh starts after ``o`` was shown, and reads the row before the
    write has committed. It used to put the old label back (nothing was being edited while
    it read), and the next ``o`` went on from the old one: "neutral" twice."""
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        write = app.writer.set_operator_label
        written = asyncio.Event()

        async def slow_write(mention_id: int, label: str | None) -> None:
            await written.wait()
            await write(mention_id, label)

        app.writer.set_operator_label = slow_write  # type: ignore[method-assign]
        app.action_override_label()
        assert app.mentions.current is not None
        assert app.mentions.current.operator_label == "negative"
        app.mentions.post_message(MentionList.DataChanged())  # reads the stored row: no label
        await wait_until(lambda: not app.mentions._window_lock.locked(), pilot)
        for _ in range(5):
            await pilot.pause()
        assert db_rows(db_path, "SELECT operator_label FROM mentions WHERE id = 5") == [(None,)]
        assert app.mentions.current.operator_label == "negative"  # the write is still going
        app.writer.set_operator_label = write  # type: ignore[method-assign]
        written.set()
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        stored = db_rows(db_path, "SELECT operator_label FROM mentions WHERE id = 5")
        assert stored == [("neutral",)]


async def test_search_and_escape(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"refun")
        await wait_until(lambda: [r.author for r in app.mentions.shown()] == ["dan"], pilot)
        await pilot.press("enter")
        assert app.focused is app.mentions
        await pilot.press("escape")
        await settle(app, pilot)
        assert len(app.mentions.shown()) == 5
        assert not app.mentions.filter.active


async def test_negatives_and_clear_filters(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        await settle(app, pilot)
        assert [r.author for r in app.mentions.shown()] == ["dan", "ann"]
        await pilot.press("n")
        await settle(app, pilot)
        assert len(app.mentions.shown()) == 5
        await pilot.press("n", "x")
        await settle(app, pilot)
        assert len(app.mentions.shown()) == 5


async def test_filter_dialog_by_source(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("F")
        await settle(app, pilot)
        app.screen.query_one("#source", Select).value = "mastodon"
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert [r.author for r in app.mentions.shown()] == ["dan", "ann"]
        assert "source:mastodon" in str(app.query_one("#status").render())


async def test_help_lists_every_key_and_quit(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        described = {row.description for row in app.screen.rows}
        assert {
            "Tag",
            "Snapshot",
            "Reply",
            "Follow-up",
            "Done",
            "Search",
            "Open negatives",
            "Quit",
            "Down",
            "Top",
        } <= described
        rows = [row[1:3] for row in app.screen.rows]
        assert ("1", "Quick tag 1: #complaint") in rows
        assert ("9", "Quick tag 9: (none set)") in rows
        await pilot.press("escape", "q")
        await pilot.pause()
    assert app.return_code == 0


async def test_keys_are_remappable_from_the_config(make_app, db_path: Path) -> None:
    app = await make_app(Config(brand="Acme", keys={"snapshot": "S", "down": "ctrl+n"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+n", "S")
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT mention_id FROM snapshots") == [(4,)]
        await pilot.press("s")  # no longer bound
        await settle(app, pilot)
        assert db_rows(db_path, "SELECT count(*) FROM snapshots") == [(1,)]


@pytest.mark.usefixtures("no_periodic_refresh")
async def test_new_mentions_from_another_connection_appear_at_the_top(
    make_app, db_path: Path
) -> None:
    app = await make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        other = await Store.open(db_path, "collector")
        await other.add_mentions(
            [IncomingMention("reddit", "new-1", "Fresh complaint", "fay")], [NEG]
        )
        await wait_until(lambda: app.mentions.shown()[0].author == "fay", pilot)
        assert app.mentions.current.author == "eve"  # the cursor stays on what it was on
        await other.close()


@pytest.mark.usefixtures("no_periodic_refresh")
async def test_scrolled_down_new_mentions_are_counted_not_inserted(make_app, db_path: Path) -> None:
    rows = [("reddit", f"user{n}", f"post number {n}", NEG, None) for n in range(80)]
    app = await make_app(rows=rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("pagedown", "pagedown")
        await settle(app, pilot)
        assert app.mentions.top > 0
        before = app.mentions.current
        other = await Store.open(db_path, "collector")
        await other.add_mentions([IncomingMention("reddit", "new-2", "Another one", "gus")], [NEG])
        await wait_until(lambda: app.mentions.new_count == 1, pilot)
        assert app.mentions.current == before
        assert "1 new" in str(app.query_one("#status").render())
        await pilot.press("g")
        await settle(app, pilot)
        assert app.mentions.shown()[0].author == "gus" and app.mentions.new_count == 0
        await other.close()


async def test_deep_scrolling_pages_through_the_window(make_app, db_path: Path) -> None:
    """More rows than the window holds: moving down reads pages, moving back up re-reads."""
    rows = [("reddit", f"user{n}", f"post {n}", NEG, None) for n in range(1500)]
    app = await make_app(rows=rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        for _ in range(80):
            await pilot.press("pagedown")
        await settle(app, pilot)
        deep = app.mentions.current
        height = app.mentions.size.height
        assert deep.id == 1500 - 80 * height  # exactly 80 pages down from the newest
        assert len(app.mentions.shown()) <= 700  # a window, not the table
        await pilot.press("G")
        await settle(app, pilot)
        assert app.mentions.current.author == "user0"
        for _ in range(1500 // height + 1):
            await pilot.press("pageup")
        await settle(app, pilot)
        assert app.mentions.current.author == "user1499"
        ids = [r.id for r in app.mentions.shown()]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


async def test_hostile_text_is_shown_literally_and_cannot_act(make_app, db_path: Path) -> None:
    rows = [
        (
            "reddit",
            "[b]mallory[/b]",
            "[@click=app.quit]click me[/] \x1b[31mred\x1b[0m \u202eevil \x00",
            NEG,
            None,
        ),
    ]
    app = await make_app(rows=rows)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        line = "".join(segment.text for segment in app.mentions.render_line(0))
        assert "[@click=app.quit]click me[/]" in line
        assert "[b]mallory[/b]" in line
        assert "\x1b" not in line and "\u202e" not in line
        text = detail_text(app)
        assert "[@click=app.quit]click me[/]" in text and "\x1b" not in text
        await pilot.click("#list", offset=(60, 0))
        await pilot.click("#detail")
        await settle(app, pilot)
        assert app.is_running


@pytest.mark.usefixtures("no_periodic_refresh")
async def test_the_status_line_says_collecting_as_soon_as_the_lease_is_taken(
    db_path: Path, tmp_path: Path
) -> None:
    # Nothing new arrives from the source, so no change in the store refreshes the status
    # line: taking the lease does, not the counts refresh every 10 s (turned off here).
    from tui.config import SourceConfig

    feed = tmp_path / "feed.jsonl"
    feed.write_text("")
    source = SourceConfig("jsonl", "bridge", "", interval=0.2, options={"path": str(feed)})
    await seed(db_path, [])
    app = TriageApp(Config(brand="Acme", sources=(source,)), db_path, "ana")
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: "│ collecting │" in status_text(app), pilot)


async def test_app_collects_while_it_holds_the_lease_and_shows_sources(
    db_path: Path, tmp_path: Path
) -> None:
    """A configured source is polled by the app holding the lease; a second app shows who
    collects instead of polling; H shows each source's health."""
    from tui.config import SourceConfig
    from tui.ui.screens.health import HealthScreen

    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"external_id": "1", "text": "Parcel lost again, still no answer"}\n')
    config = Config(
        brand="Acme",
        sources=(SourceConfig("jsonl", "bridge", "", interval=0.2, options={"path": str(feed)}),),
    )
    await seed(db_path, [])
    first = TriageApp(config, db_path, "ana")
    second = TriageApp(config, db_path, "ben")
    async with first.run_test(size=(120, 30)) as pilot:
        await wait_until(lambda: any(r.source == "bridge" for r in first.mentions.shown()), pilot)
        await wait_until(lambda: first.lease_text == "collecting", pilot)
        async with second.run_test(size=(120, 30)) as pilot2:
            await wait_until(lambda: second.lease_text.startswith("collector: ana@"), pilot2)
            await wait_until(lambda: second.runtime.collector is not None, pilot2)
            assert second.runtime.collector is not None and not second.runtime.collector.holding
            with feed.open("a") as out:
                out.write('{"external_id": "2", "text": "Thanks, sorted!"}\n')
            await wait_until(lambda: len(second.mentions.shown()) == 2, pilot2)
            await pilot2.press("q")
        await pilot.press("H")
        await settle(first, pilot)
        assert isinstance(first.screen, HealthScreen)
        (row,) = first.screen.rows
        assert row[:2] == ("bridge", "ok") and row[4] == "2"  # name, state, ..., mentions in 1h
    assert db_rows(db_path, "SELECT count(*) FROM mentions") == [(2,)]


async def test_a_100kb_post_is_shown_and_scrolls(make_app) -> None:
    text = "start of a very long post " + "x" * 100_000 + " end"
    app = await make_app(rows=[("reddit", "long", text, NEG, None)])
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        shown = app.query_one(DetailPane).plain
        assert "start of a very long post" in shown and "more characters not shown" in shown
        line = "".join(segment.text for segment in app.mentions.render_line(0))
        assert len(line) == app.mentions.size.width


@pytest.mark.usefixtures("no_periodic_refresh")
async def test_new_count_is_arrivals_not_the_rows_above_a_deep_window(
    make_app, db_path: Path
) -> None:
    rows = [("reddit", f"user{n}", f"post {n}", NEG, None) for n in range(1500)]
    app = await make_app(rows=rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("G")
        await settle(app, pilot)
        other = await Store.open(db_path, "collector")
        await other.add_tag(1, "seen")  # a change that is not an arrival
        await wait_until(lambda: any(r.tags == ("seen",) for r in app.mentions.shown()), pilot)
        await settle(app, pilot)
        assert app.mentions.new_count == 0
        await other.add_mentions([IncomingMention("reddit", "late", "an arrival", "zed")], [NEG])
        await wait_until(lambda: app.mentions.new_count == 1, pilot)
        await other.close()


@pytest.mark.usefixtures("no_periodic_refresh")
async def test_a_burst_at_the_top_shows_at_the_top_and_keeps_the_selection(
    make_app, db_path: Path
) -> None:
    """Not scrolled: a burst shows at the top and the view stays there, even when it pushes
    the selected mention below the view; the selection does not change. The next move
    brings it back into view, and from then on arrivals are counted instead."""
    app = await make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        selected = app.mentions.current
        other = await Store.open(db_path, "collector")
        burst = [IncomingMention("reddit", f"b{n}", f"burst {n}", "x") for n in range(40)]
        await other.add_mentions(burst, [NEG] * 40)
        await wait_until(lambda: app.mentions.shown()[0].text == "burst 39", pilot)
        mentions = app.mentions
        assert mentions.current == selected and mentions.top == 0
        assert mentions.cursor >= mentions.size.height  # below the view, still selected
        # ...and the status line says where it went
        below = mentions.cursor - mentions.size.height + 1
        await wait_until(
            lambda: f"selected: ↓ {below} below the view" in status_text(app), pilot, timeout=3
        )
        more = [IncomingMention("reddit", "more", "more arrivals", "y")]
        await other.add_mentions(more, [NEG])
        await wait_until(lambda: mentions.shown()[0].text == "more arrivals", pilot)
        await pilot.press("k")  # the selection comes back into view, one row up
        await settle(app, pilot)
        assert "selected:" not in status_text(app)
        assert mentions.top > 0
        assert mentions.top <= mentions.cursor < mentions.top + mentions.size.height
        after = [IncomingMention("reddit", "after", "after the burst", "z")]
        await other.add_mentions(after, [NEG])
        await wait_until(lambda: mentions.new_count == 1, pilot)
        await other.close()


async def test_filter_dialog_at_80x24_shows_every_value_and_enter_applies(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("F")
        await settle(app, pilot)
        dialog = app.screen
        status = dialog.query_one("#status", Select)
        status.value = "new"
        dialog.query_one("#source", Select).value = "mastodon"
        await settle(app, pilot)
        box = dialog.query_one(".dialog").region
        for widget_id in ("tag", "status", "source", "negative", "due", "apply", "clear"):
            region = dialog.query_one(f"#{widget_id}").region
            assert region.height >= 1 and box.contains_region(region), widget_id
        shown = " ".join(str(dialog.query_one(f"#{w}", Select).selection) for w in ("status",))
        assert "new" in shown
        # space opens a drop-down right under its control
        dialog.query_one("#tag", Select).focus()
        await pilot.press("space")
        await settle(app, pilot)
        overlay = dialog.query_one("#tag", Select).query_one("SelectOverlay")
        assert overlay.region.y == dialog.query_one("#tag").region.y + 1
        await pilot.press("escape")
        dialog.query_one("#due").focus()
        await pilot.press("enter")  # Enter applies from any control
        await settle(app, pilot)
        assert len(app.screen_stack) == 1
        assert [r.author for r in app.mentions.shown()] == ["dan", "ann"]
        assert app.mentions.filter.status == "new"


async def test_status_line_keeps_the_counts_when_narrow(make_app) -> None:
    app = await make_app(Config(brand="A very long brand name that would push the counts off"))
    async with app.run_test(size=(60, 20)) as pilot:
        await settle(app, pilot)
        await wait_until(lambda: "open neg" in status_text(app), pilot)
        status = app.query_one("#status")
        (strip,) = status.render_lines(Region(0, 0, status.size.width, 1))
        shown = strip.text  # what the terminal shows, cut at 60 columns
        assert shown.startswith(" ▼ 2 open neg · ◷ 0 due · 2 overdue │ 5 new · 5 total")
        assert "counts off" not in shown  # the brand is what gets cut


async def test_a_long_error_in_a_prompt_wraps_at_80_columns(make_app) -> None:
    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("f", *"next tuesday", "enter")
        await settle(app, pilot)
        label = app.screen.query_one("#when-error")
        lines = [strip.text.rstrip() for strip in label.render_lines(label.region.reset_offset)]
        shown = " ".join(line for line in lines if line)
        assert "cannot read 'next tuesday'" in shown and shown.endswith("2026-05-01T09:00")
        assert label.region.right <= app.screen.query_one(".dialog").region.right


async def test_a_check_box_reads_checked_or_not_without_color(make_app) -> None:
    from textual.widgets import Checkbox

    app = await make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("F")
        await settle(app, pilot)
        box = app.screen.query_one("#negative", Checkbox)

        def drawn() -> str:
            (strip,) = box.render_lines(Region(0, 0, box.size.width, 1))
            return strip.text

        assert "X" not in drawn() and "open negatives only" in drawn()
        box.focus()
        await pilot.press("space")
        await pilot.pause()
        assert box.value and "X" in drawn()
        await pilot.press("space")
        await pilot.pause()
        assert not box.value and "X" not in drawn()
