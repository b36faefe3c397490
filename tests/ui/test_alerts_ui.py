"""Alerts reach the operator: a toast and the bell for new ones, the count in the status line,
and ``!``: the list, Enter to the alert's mention, ``a`` to acknowledge."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from textual.geometry import Region
from textual.widgets import Input

from tui.config import Config
from tui.core.model import NewAlert, to_ms, utcnow
from tui.store import Store
from tui.ui.app import TriageApp
from tui.ui.screens.alerts import AlertsScreen

from .conftest import NEG, NEU, burst, seed, settle, wait_until

HOSTILE = "[@click=app.quit]x[/] \x1b]0;evil\x07 line\nFAKE ROW"


def db_rows(db_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql).fetchall()


def status_text(app: TriageApp) -> str:
    return str(app.query_one("#status").render())


def alert(key: str, title: str, mention_id: int | None = None, why: str = "why") -> NewAlert:
    return NewAlert(key, "negative", "negative", utcnow(), title, why, mention_id=mention_id)


async def add(db_path: Path, *alerts: NewAlert) -> list[int]:
    store = await Store.open(db_path, "collector")
    try:
        return await store.add_alerts(list(alerts))
    finally:
        await store.close()


async def opened_alerts(app: TriageApp, pilot) -> AlertsScreen:  # type: ignore[no-untyped-def]
    """``!``, once the screen has read its alerts."""
    await burst(app, pilot, "exclamation_mark")
    screen = app.screen
    assert isinstance(screen, AlertsScreen)
    await wait_until(lambda: screen.current is not None, pilot)
    return screen


def counting_bell(app: TriageApp) -> list[int]:
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
    return rung


async def test_a_new_alert_toasts_rings_once_and_is_counted(make_app, db_path: Path) -> None:
    app = await make_app()
    await add(db_path, alert("old", "Stored before the app started"))
    rung = counting_bell(app)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.6)  # a few polls: the old alert is counted, never announced
        assert rung == []
        assert not [n for n in app._notifications if "Stored before" in n.title]
        await wait_until(lambda: "1 alert " in status_text(app), pilot)
        await add(
            db_path,
            alert("n1", "First negative"),
            alert("n2", HOSTILE, why="explained " + HOSTILE),
        )
        await wait_until(lambda: len(rung) == 1, pilot)
        await wait_until(lambda: "3 alerts" in status_text(app), pilot)
        # One toast for the poll that found both, however many: the newest, and a count.
        toasts = [n for n in app._notifications if "First" in n.title or "[@click" in n.title]
        (shown,) = toasts
        assert "[@click=app.quit]x[/]" in shown.title
        assert "(and 1 more new alert: ! lists them)" in shown.message
        assert "\x1b" not in shown.title and "\x07" not in shown.title
        assert "\n" not in shown.title and "FAKE ROW" in shown.title
        assert "\n" not in shown.message and "\x1b" not in shown.message
        assert shown.markup is False
        await pilot.pause(0.6)
        assert rung == [1]  # once for the poll that found both
        assert app.is_running


async def test_an_alert_over_a_dialog_rings_at_once_and_toasts_back_on_the_list(
    make_app, db_path: Path
) -> None:
    """A toast over the reply editor or a prompt would cover what the operator is typing: the
    bell rings at once, the toast waits for the list, and says how many came meanwhile."""
    app = await make_app()
    rung = counting_bell(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "r", *"we are")
        await add(db_path, alert("d1", "Spike while writing"))
        await wait_until(lambda: len(rung) == 1, pilot)
        await add(db_path, alert("d2", "Second while writing"))
        await wait_until(lambda: len(rung) == 2, pilot)
        await pilot.pause(0.6)
        assert not [n for n in app._notifications if "while writing" in n.title]
        await burst(app, pilot, "ctrl+s")
        assert len(app.screen_stack) == 1
        await wait_until(lambda: any("while writing" in n.title for n in app._notifications), pilot)
        (shown,) = [n for n in app._notifications if "while writing" in n.title]
        assert shown.title == "Second while writing"
        assert "(and 1 more new alert: ! lists them)" in shown.message
        await burst(app, pilot, "exclamation_mark")  # the list of them: the toast goes
        assert isinstance(app.screen, AlertsScreen)
        assert not [n for n in app._notifications if "while writing" in n.title]
        # the search box, on the main screen, holds it too until it is closed
        await burst(app, pilot, "escape", "slash", *"ref")
        assert len(app.screen_stack) == 1 and isinstance(app.focused, Input)
        await add(db_path, alert("s1", "While searching"))
        await wait_until(lambda: len(rung) == 3, pilot)
        await pilot.pause(0.6)
        assert not [n for n in app._notifications if n.title == "While searching"]
        await burst(app, pilot, "enter")
        await wait_until(
            lambda: any(n.title == "While searching" for n in app._notifications), pilot
        )


async def test_alerts_screen_lists_jumps_to_the_mention_and_acknowledges(
    make_app, db_path: Path
) -> None:
    rows = [("mastodon", f"user{n}", f"post {n}", NEG if n % 2 else NEU, None) for n in range(300)]
    app = await make_app(rows=rows)
    deep = 41  # far below the first page of the list, and neutral (n = 40)
    await add(db_path, alert("a1", "Older: about mention 41", mention_id=deep))
    await add(db_path, alert("a2", "Newer: about mention 299", mention_id=299))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")  # open negatives: mention 41 is not in this view
        await settle(app, pilot)
        assert deep not in [r.id for r in app.mentions.shown()]
        await burst(app, pilot, "exclamation_mark")
        assert isinstance(app.screen, AlertsScreen)
        screen = app.screen
        assert [cells[3] for cells in screen.rows()] == [
            "Newer: about mention 299",
            "Older: about mention 41",
        ]
        assert [cells[2] for cells in screen.rows()] == ["", ""]
        await burst(app, pilot, "escape")
        await burst(app, pilot, "!", "j", "enter")
        assert not isinstance(app.screen, AlertsScreen)
        await wait_until(lambda: app.mentions.current is not None, pilot)
        await wait_until(lambda: app.mentions.current.id == deep, pilot)  # type: ignore[union-attr]
        assert not app.mentions.filter.active  # shown among all mentions
        await burst(app, pilot, "k")  # the window around it reads on both sides
        assert app.mentions.current is not None and app.mentions.current.id == deep + 1
        await burst(app, pilot, "j", "j")
        assert app.mentions.current is not None and app.mentions.current.id == deep - 1
        await burst(app, pilot, "!", "j", "a")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert screen.rows()[1][2] == "✓ by tester"
        assert screen.rows()[0][2] == ""
        await wait_until(
            lambda: (
                db_rows(db_path, "SELECT key, acked_by FROM alerts WHERE acked_at IS NOT NULL")
                == [("a1", "tester")]
            ),
            pilot,
        )
        await wait_until(lambda: "1 alert " in status_text(app), pilot)
        assert db_rows(db_path, "SELECT count(*) FROM events WHERE action = 'alert_ack'") == [(1,)]
        await burst(app, pilot, "q")
        assert not isinstance(app.screen, AlertsScreen) and app.is_running


async def test_a_hostile_alert_title_shows_literally_in_one_row(make_app, db_path: Path) -> None:
    app = await make_app()
    await add(db_path, alert("h", HOSTILE, mention_id=1, why=HOSTILE))
    await add(db_path, alert("b", "Below it", mention_id=2))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "exclamation_mark", "j")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        title = screen.rows()[1][3]
        assert "[@click=app.quit]x[/]" in title and "FAKE ROW" in title
        assert "\x1b" not in title and "\x07" not in title and "\n" not in title
        table = screen.query_one("#alerts")
        lines = [strip.text for strip in table.render_lines(Region(0, 0, table.size.width, 3))]
        assert len(lines) == 3  # header and two alerts, nothing more
        assert "Below it" in lines[1] and "[@click=app.quit]x[/]" in lines[2]
        assert "FAKE ROW" not in lines[1]
        assert table.size.height == 3
        detail = screen.query_one("#explanation")
        text = "".join(
            strip.text for strip in detail.render_lines(Region(0, 0, detail.size.width, 6))
        )
        assert "[@click=app.quit]x[/]" in text and "\x1b" not in text
        await pilot.click("#alerts", offset=(40, 2))
        await settle(app, pilot)
        assert app.is_running


async def test_acknowledging_is_refused_when_read_only(db_path: Path) -> None:
    await seed(db_path)
    await add(db_path, alert("r", "Read only"))
    app = TriageApp(Config(brand="Acme"), db_path, "tester", collect=False, read_only=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await burst(app, pilot, "exclamation_mark", "a")
        screen = app.screen
        assert isinstance(screen, AlertsScreen)
        assert screen.rows()[0][2] == ""
    assert db_rows(db_path, "SELECT acked_at FROM alerts") == [(None,)]


async def test_the_filter_shows_beside_open_alerts_at_80_columns(make_app, db_path: Path) -> None:
    # A filtered list read as the whole stream hides negatives: the filter comes right after
    # the alerts, before the counts, and a long search is cut so that the counts still show.
    app = await make_app()
    await add(db_path, alert("a1", "One"), alert("a2", "Two"), alert("a3", "Three"))

    def shown() -> str:
        status = app.query_one("#status")
        (strip,) = status.render_lines(Region(0, 0, status.size.width, 1))
        return strip.text  # what the terminal shows, cut at 80 columns

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await wait_until(lambda: "3 alerts" in shown() and "open neg" in shown(), pilot)
        await burst(app, pilot, "slash", *"refund", "enter")
        await wait_until(lambda: "only search:refund" in shown(), pilot)
        assert shown().startswith(" ! 3 alerts (!) │ only search:refund │ ▼ 2 open neg")
        await burst(app, pilot, "escape", "slash", *"a very long search nobody could match")
        await burst(app, pilot, "enter")
        await wait_until(lambda: "only search:a very" in shown(), pilot)
        line = shown()
        assert line.startswith(" ! 3 alerts (!) │ only search:a very long searc… │ ▼ 2 open neg")
        assert len(line) == 80


async def test_the_alerts_screen_says_when_a_pending_delivery_is_next_tried_and_why(
    make_app, db_path: Path
) -> None:
    app = await make_app()
    pending = alert("p", "Pending delivery")
    await add(db_path, replace(pending, channels=("team", "pager")))
    due = utcnow() + timedelta(minutes=30)
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE deliveries SET next_at = ?, attempts = 2,"
            " error = 'team: [bold]answered 503[/] \x1b[2J' WHERE channel = 'team'",
            (to_ms(due),),
        )
        conn.execute(
            "UPDATE deliveries SET state = 'failed', error = 'pager: answered 404'"
            " WHERE channel = 'pager'"
        )
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = await opened_alerts(app, pilot)
        detail = screen.query_one("#explanation")
        text = [strip.text for strip in detail.render_lines(Region(0, 0, detail.size.width, 8))]
        shown = " ".join(line.strip() for line in text if line.strip())  # lines wrap at 100
        assert "pager: failed (pager: answered 404) team: pending, next try" in shown
        today = f"{due:%Y-%m-%d}" == f"{utcnow():%Y-%m-%d}"  # (the date shows after midnight)
        when = f"{due:%H:%M:%S}Z" if today else f"{due:%Y-%m-%d %H:%M:%S}Z"
        assert f"next try {when} (in 29m), 2 tries so far" in shown
        assert shown.endswith("so far (team: [bold]answered 503[/] ␛)")


async def test_at_80x24_every_delivery_and_the_keys_can_be_seen(make_app, db_path: Path) -> None:
    """Four channels with long errors filled the dialog past the screen's bottom: the last
    channel and the keys were cut off, with nothing to scroll."""
    app = await make_app()
    channels = ("alpha", "bravo", "charlie", "zulu")
    await add(db_path, *(alert(f"a{n}", f"Alert {n}") for n in range(10)))
    await add(db_path, replace(alert("many", "Many channels"), channels=channels))
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE deliveries SET error = channel || ': answered 500: ' || ? ", ("E" * 190,)
        )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = await opened_alerts(app, pilot)
        assert screen.current.title == "Many channels"
        hint = screen.query_one(".hint")
        assert hint.region.bottom <= 24 and hint.region.height >= 1  # the keys show
        about = screen.query_one("#about")
        assert about.region.bottom <= hint.region.y and about.size.height >= 3

        detail = screen.query_one("#explanation")
        lines = [strip.text for strip in detail.render_lines(Region(0, 0, detail.size.width, 40))]
        (last,) = [n for n, line in enumerate(lines) if "zulu: pending" in line]

        def in_view() -> bool:
            return about.scroll_y <= last < about.scroll_y + about.size.height

        assert not in_view()  # below the fold at first
        for _ in range(6):
            if in_view():
                break
            await burst(app, pilot, "pagedown")
        assert in_view()
        await burst(app, pilot, "j", "k")  # another alert and back: from the top again
        assert about.scroll_y == 0
