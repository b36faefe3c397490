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


async def test_a_load_reads_one_screenful_first_then_the_rest_of_the_page(
    make_app, db_path: Path
) -> None:
    # A search (any load) reads what fills the view, so it is drawn before the rows below
    # the view are read; the rest of the page follows, and keys typed in the same burst act
    # on the whole page, as if the load had read it at once.
    from tui.core.model import Filter
    from tui.ui.widgets.mention_list import PAGE

    rows = [("reddit", f"user{n}", f"post {n} parcel", NEG, None) for n in range(250)]
    app = await make_app(rows=rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        mentions = app.mentions
        store_page = mentions.source.page_before
        asked: list[tuple[int | None, int, int]] = []  # (before id, limit, rows held then)

        async def page_before(filt, before_id, limit):  # type: ignore[no-untyped-def]
            asked.append((before_id, limit, len(mentions.rows)))
            return await store_page(filt, before_id, limit)

        mentions.source.page_before = page_before  # type: ignore[method-assign]
        app._apply_filter(Filter(search="parcel"))
        await settle(app, pilot)
        height = mentions.size.height
        assert asked[0][:2] == (None, height + 1)
        newest = await store_page(Filter(search="parcel"), None, PAGE)
        assert [r.id for r in mentions.rows] == [r.id for r in newest]
        assert asked[1] == (newest[height].id, PAGE - height - 1, height + 1)
        assert not mentions.at_oldest and mentions.cursor == 0

        # The search and keys in one burst: the keys queued behind the load read on from
        # the screenful, and the rest of the page is not read twice.
        asked.clear()
        app._apply_filter(Filter(search="post"))
        await pilot.press(*["j"] * 3)
        await settle(app, pilot)
        ids = [r.id for r in mentions.rows]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids) >= PAGE
        assert mentions.current is not None and mentions.current.id == ids[3]
        assert len({before for before, _, _ in asked}) == len(asked)  # no page read twice


async def test_a_refresh_gives_way_to_a_load_queued_behind_it(make_app, db_path: Path) -> None:
    # Each commit by another process re-reads the list's window (several reads at a million
    # rows); a search typed meanwhile reads everything again, so the refresh stops short.
    from tui.core.model import Filter
    from tui.ui.widgets.mention_list import MentionList

    rows = [("reddit", f"user{n}", f"post {n} parcel", NEG, None) for n in range(150)]
    app = await make_app(rows=rows)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        mentions = app.mentions
        source = mentions.source
        calls: list[str] = []
        reads = {name: getattr(source, name) for name in ("rows", "page_after", "count_newer")}

        def counted(name):  # type: ignore[no-untyped-def]
            async def read(*args, **kwargs):  # type: ignore[no-untyped-def]
                calls.append(name)
                if name == "rows" and calls.count("rows") == 1:
                    app._apply_filter(Filter(search="user7"))  # typed while it reads
                return await reads[name](*args, **kwargs)

            return read

        for name in reads:
            setattr(source, name, counted(name))
        mentions.post_message(MentionList.DataChanged())
        await settle(app, pilot)
        assert calls == ["rows"]  # the refresh stopped after its first read
        assert mentions.filter.search == "user7"
        assert all("user7" in r.author for r in mentions.rows) and len(mentions.rows) == 11

        calls.clear()
        mentions.post_message(MentionList.DataChanged())  # queued ahead of the load
        app._apply_filter(Filter(search="user8"))
        await settle(app, pilot)
        assert calls == []  # it never read
        assert len(mentions.rows) == 11 and mentions.rows[0].author == "user89"
        assert mentions._loads_queued == 0


async def test_what_arrived_during_a_search_counts_as_new_once_it_is_cleared(
    db_path: Path,
) -> None:
    """Clearing a search stays on the mention the operator was on, deep in the list; what
    arrived meanwhile is above the window, and the status line says so (↑ N new)."""
    from .test_app import status_text

    now = utcnow()
    store = await Store.open(db_path, "seeder")
    old = [
        IncomingMention(
            "reddit",
            f"r{n}",
            f"post {n}" if n else "my parcel is lost",
            "u",
            None,
            now - timedelta(minutes=300 - n),
        )
        for n in range(200)
    ]
    await store.add_mentions(old, [NEG] * len(old))
    await store.close()
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"parcel", "enter")
        await settle(app, pilot)
        assert app.mentions.current is not None and app.mentions.current.text == "my parcel is lost"
        other = await Store.open(db_path, "collector")
        fresh = [IncomingMention("reddit", f"new{n}", f"arrived {n}", "x") for n in range(5)]
        await other.add_mentions(fresh, [NEG] * 5)
        # The newest arrival matches the search: it shows at the top of the results, which
        # must not make the five before it look seen.
        match = [IncomingMention("reddit", "new5", "another parcel lost", "y")]
        await other.add_mentions(match, [NEG])
        await other.close()
        await wait_until(lambda: app.mentions.shown()[0].text == "another parcel lost", pilot)
        await pilot.press("slash", "escape")
        await settle(app, pilot)
        mentions = app.mentions
        assert mentions.current is not None and mentions.current.text == "my parcel is lost"
        await wait_until(lambda: mentions.new_count == 6, pilot)
        # Still unseen, though the whole list is shown: a second search and clearing counts
        # them again.
        import sqlite3

        with sqlite3.connect(db_path) as db:
            (first_arrival,) = db.execute(
                "SELECT id FROM mentions WHERE text = 'arrived 0'"
            ).fetchone()
        assert mentions.seen_unfiltered < first_arrival
        await wait_until(lambda: "↑ 6 new (g)" in status_text(app), pilot)
        await pilot.press("g")  # to the top: nothing is new any more
        await settle(app, pilot)
        assert mentions.new_count == 0 and mentions.shown()[0].text == "another parcel lost"
