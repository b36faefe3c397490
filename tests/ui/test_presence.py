"""Two apps on one database: each shows the other's selection on the list row and in the
detail pane, writing a reply included, and stops showing it when the other quits; ``W``
lists both; a heartbeat does not make the list re-read its rows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.ui.conftest import seed, settle, wait_until
from tui.config import Config
from tui.ui.app import REFRESH_ANYWAY_SECONDS, TriageApp
from tui.ui.screens import team as team_screen
from tui.ui.screens.reply import ReplyEditor
from tui.ui.screens.team import TeamScreen
from tui.ui.widgets.detail import DetailPane


def _row_text(app: TriageApp, mention_id: int) -> str:
    mentions = app.mentions
    for index, row in enumerate(mentions.rows):
        if row.id == mention_id:
            strip = mentions._render_row(row, 120, selected=index == mentions.cursor)
            return "".join(segment.text for segment in strip)
    raise AssertionError(f"mention {mention_id} not in the list")


async def test_two_apps_see_each_other_and_not_themselves(db_path: Path) -> None:
    await seed(db_path)
    sam = TriageApp(Config(brand="Acme"), db_path, "sam", collect=False)
    kim = TriageApp(Config(brand="Acme"), db_path, "kim", collect=False)
    async with sam.run_test(size=(120, 40)) as sam_pilot, kim.run_test(size=(120, 40)) as kim_pilot:
        await settle(sam, sam_pilot)
        await settle(kim, kim_pilot)
        await sam_pilot.press("j")  # sam selects the second mention
        target = sam.mentions.current
        assert target is not None
        started = time.monotonic()
        await wait_until(lambda: target.id in kim.others, kim_pilot)
        seen_after = time.monotonic() - started
        # Promised within about a second (0.3 s debounce, a read every 0.5 s); the bound
        # leaves room for a loaded machine, and is still under the 2.5 s heartbeat that
        # would show the selection without the debounced write.
        assert seen_after < 2.5, f"kim saw sam's selection after {seen_after:.2f}s"
        assert "◉sam" in _row_text(kim, target.id)
        assert "sam" not in _row_text(sam, target.id)  # never oneself
        assert "kim" not in _row_text(kim, target.id)
        # kim moves onto the same mention: the detail pane names sam.
        await kim_pilot.press("j")
        assert kim.mentions.current is not None and kim.mentions.current.id == target.id
        await wait_until(
            lambda: "sam is looking at this" in kim.query_one(DetailPane).plain, kim_pilot
        )
        # sam opens the reply editor: kim sees the writing mark and the sentence.
        await sam_pilot.press("r")
        assert isinstance(sam.screen, ReplyEditor)
        await wait_until(lambda: "✎sam" in _row_text(kim, target.id), kim_pilot)
        await wait_until(
            lambda: "sam is writing a reply (now)" in kim.query_one(DetailPane).plain, kim_pilot
        )
        await sam_pilot.press("escape")
        await wait_until(lambda: "◉sam" in _row_text(kim, target.id), kim_pilot)
        # The team view lists both apps with what they have selected.
        await kim_pilot.press("W")
        assert isinstance(kim.screen, TeamScreen)
        await wait_until(lambda: len(kim.screen.rows) == 2, kim_pilot)  # type: ignore[attr-defined]
        rows = {row[0]: row for row in kim.screen.rows}  # type: ignore[attr-defined]
        assert rows["sam"][5].startswith(f"#{target.id} ")
        assert rows["kim"][5].startswith(f"#{target.id} ")
        await kim_pilot.press("escape")
        await sam_pilot.press("q")
        await wait_until(lambda: not kim.others, kim_pilot)
        assert "sam" not in _row_text(kim, target.id)
        assert "sam is" not in kim.query_one(DetailPane).plain


def _beats(db_path: Path) -> dict[str, int]:
    """Each app's last heartbeat, by app."""
    import sqlite3

    with sqlite3.connect(db_path) as db:
        return dict(db.execute("SELECT app, beat_at FROM presence"))


async def test_heartbeats_do_not_make_the_list_reread_its_rows(db_path: Path) -> None:
    await seed(db_path)
    sam = TriageApp(Config(brand="Acme"), db_path, "sam", collect=False)
    kim = TriageApp(Config(brand="Acme"), db_path, "kim", collect=False)
    async with sam.run_test(size=(120, 40)) as sam_pilot, kim.run_test(size=(120, 40)) as kim_pilot:
        await settle(sam, sam_pilot)
        await settle(kim, kim_pilot)
        reads: list[list[int]] = []
        original = kim.store.rows

        async def counted(ids: list[int]) -> dict:  # type: ignore[type-arg]
            reads.append(list(ids))
            return await original(ids)

        kim.store.rows = counted  # type: ignore[method-assign]
        before = kim._data_version
        await wait_until(lambda: len(_beats(db_path)) == 2, kim_pilot)  # both apps' rows
        beats = _beats(db_path)
        # A list with a change it did not see re-reads its rows anyway after a while: count
        # from now, so that a slow start does not use up that while.
        kim._refreshed_at = time.monotonic()
        # A heartbeat of each app (one every 2.5 s), well before that while is over.
        await wait_until(
            lambda: all(_beats(db_path)[app] > beats[app] for app in beats),
            kim_pilot,
            timeout=REFRESH_ANYWAY_SECONDS - 2,
        )
        await wait_until(lambda: kim._data_version != before, kim_pilot)  # they were commits
        await settle(kim, kim_pilot)  # kim has looked at them
        assert reads == []
        # A real change still shows at once, not only when that while is over.
        kim._refreshed_at = time.monotonic()
        await sam_pilot.press("d")
        await wait_until(lambda: len(reads) == 1, kim_pilot, timeout=REFRESH_ANYWAY_SECONDS / 2)


async def test_a_read_only_app_shows_others_but_is_not_shown(db_path: Path) -> None:
    import sqlite3

    await seed(db_path)
    sam = TriageApp(Config(brand="Acme"), db_path, "sam", collect=False)
    reader = TriageApp(Config(brand="Acme"), db_path, "ro", collect=False, read_only=True)
    async with sam.run_test(size=(120, 40)) as sam_pilot, reader.run_test(size=(120, 40)) as pilot:
        await settle(sam, sam_pilot)
        await settle(reader, pilot)
        await pilot.press("j")
        target = sam.mentions.current
        assert target is not None
        await wait_until(lambda: target.id in reader.others, pilot)
        assert "◉sam" in _row_text(reader, target.id)
        assert reader.presence_id is None
        await sam_pilot.pause(0.5)
        assert sam.others == {}  # the reader selected a mention, but wrote nothing
        with sqlite3.connect(db_path) as db:
            assert [r[0] for r in db.execute("SELECT operator FROM presence")] == ["sam"]


async def test_a_presence_write_that_fails_is_reported_once_the_row_is_stale(
    db_path: Path,
) -> None:
    from tui.store import StoreError
    from tui.store.presence import STALE_SECONDS

    await seed(db_path)
    app = TriageApp(Config(brand="Acme"), db_path, "sam", collect=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await wait_until(lambda: app.presence is not None, pilot)
        said: list[str] = []
        app.notify = lambda message, **_: said.append(str(message))  # type: ignore[method-assign]
        attempts: list[int] = []

        async def failing(*_: object, **__: object) -> None:
            attempts.append(1)
            raise StoreError("cannot write to x.db: database is locked")

        app.presence.beat = failing  # type: ignore[method-assign,union-attr]
        for _ in range(6):  # a burst of selections under load, each write losing the lock
            app._write_presence()
            await settle(app, pilot)
        assert len(attempts) >= 6  # the heartbeat keeps trying
        assert said == []  # the row the others read is still fresh: nothing to say yet
        app._presence_ok_at -= STALE_SECONDS  # the last good write is now as old as a row lives
        for _ in range(3):
            app._write_presence()
            await settle(app, pilot)
        assert said == ["Presence not shared: cannot write to x.db: database is locked"]
        del app.presence.beat  # the database is free again: the next write lands ...
        app._write_presence()
        await settle(app, pilot)
        await wait_until(lambda: not app._presence_failed, pilot)
        app.presence.beat = failing  # type: ignore[method-assign,union-attr]
        app._presence_ok_at -= STALE_SECONDS  # ... and a later outage is said again
        app._write_presence()
        await settle(app, pilot)
        assert said[1:] == ["Presence not shared: cannot write to x.db: database is locked"]


def shown_table(app: TriageApp) -> list[str]:
    """The lines the open view's ``#table`` draws, blank ones left out."""
    from textual.geometry import Region
    from textual.widgets import Static

    table = app.screen.query_one("#table", Static)
    region = Region(0, 0, table.size.width, table.size.height)
    return [line for line in (s.text.rstrip() for s in table.render_lines(region)) if line]


async def test_at_80_columns_each_app_is_one_line_of_the_team_view(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Long and hostile names are cut short, your own row keeps its ``*`` however long your
    name, and host and pid come back on a wider screen."""
    await seed(db_path)
    sam = TriageApp(Config(brand="Acme"), db_path, "sam-" + "a" * 30 + "\x1b[31m", collect=False)
    kim = TriageApp(Config(brand="Acme"), db_path, "kimberly-the-night-shift-lead", collect=False)
    async with sam.run_test(size=(80, 24)) as sam_pilot, kim.run_test(size=(80, 24)) as kim_pilot:
        await settle(sam, sam_pilot)
        await settle(kim, kim_pilot)
        await sam_pilot.press("j")
        await kim_pilot.press("W")
        await wait_until(lambda: len(kim.screen.rows) == 2, kim_pilot)  # type: ignore[attr-defined]
        await wait_until(lambda: len(shown_table(kim)) == 3, kim_pilot)
        lines = shown_table(kim)
        assert len(lines) == 3, lines  # the header and one line per app
        assert lines[0].split() == ["operator", "unix", "started", "selected", "doing", "handled"]
        (mine,) = [line for line in lines if line.startswith("kimberly")]
        assert mine.startswith("kimberly-the-n…* ")  # cut, and still marked as this app
        (theirs,) = [line for line in lines if line.startswith("sam-")]
        assert "\x1b" not in theirs and "*" not in theirs
        assert all("#" in line and "looking" in line for line in lines[1:])
        await kim_pilot.press("escape")

        await kim_pilot.resize_terminal(120, 30)
        # From here on the view redraws only when it is resized (or opened): what changes
        # below is the resize's doing, however long it takes.
        monkeypatch.setattr(team_screen, "REFRESH_SECONDS", 3600.0)
        await kim_pilot.press("W")
        await wait_until(lambda: len(kim.screen.rows) == 2, kim_pilot)  # type: ignore[attr-defined]
        wide = ["operator", "unix", "host", "pid", "started"]
        await wait_until(lambda: shown_table(kim)[0].split()[:5] == wide, kim_pilot)
        lines = shown_table(kim)
        assert lines[0].split()[:5] == wide
        assert len(lines) == 3
        await kim_pilot.resize_terminal(80, 24)  # narrower again: host and pid go at once
        narrow = ["operator", "unix", "started"]
        await wait_until(lambda: shown_table(kim)[0].split()[:3] == narrow, kim_pilot)
        assert shown_table(kim)[0].split()[:3] == narrow
        await sam_pilot.press("q")


async def test_the_team_view_of_a_read_only_app_alone_says_nobody_whole(db_path: Path) -> None:
    await seed(db_path)
    reader = TriageApp(Config(brand="Acme"), db_path, "ro", collect=False, read_only=True)
    async with reader.run_test(size=(80, 24)) as pilot:
        await settle(reader, pilot)
        await pilot.press("W")
        nobody = ["nobody is running the app (read-only apps are not shown)"]
        await wait_until(
            lambda: isinstance(reader.screen, TeamScreen) and shown_table(reader) == nobody, pilot
        )
        assert shown_table(reader) == nobody
