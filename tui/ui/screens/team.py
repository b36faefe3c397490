"""The team view: who is running the app, since when, what they have selected, and how many
mentions each handled this shift (the rows ``triage who`` prints). Refreshed every 2 s.

Every cell is plain one-line text (``tui.team.row``): operator names and mention text come
from other people and from the internet. Every cell keeps its one line: the start is
shown as an age (``triage who`` gives the time), names are cut short (with ``…``), host and
pid are left out below 100 columns, and the selected mention's first line takes the room
that is left."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui import team
from tui.cells import shorten
from tui.core.format import ago
from tui.core.model import utcnow
from tui.store import Store, StoreError
from tui.store.presence import SHIFT_HOURS

REFRESH_SECONDS = 2.0
_HEADERS = {"unix user": "unix", "since": "started"}
"""Shorter headers than ``triage who``'s, to leave the selected mention room at 80 columns."""
_WIDE = 100
_WHEN_WIDE = frozenset({"host", "pid"})
"""Columns shown only on a screen this wide (``triage who`` always has them)."""
_NOBODY = "nobody is running the app (read-only apps are not shown)"
_MAX_WIDTHS = {"operator": 16, "unix user": 10, "host": 12}
"""Cells longer than this are cut short (``…``): names come from other people's configs."""


class TeamScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, store: Store, me: str | None) -> None:
        super().__init__()
        self.store = store
        self.me = me
        """This app's presence key (its row is marked ``*``), None when read-only."""
        self.rows: list[tuple[str, ...]] = []
        """The table as plain text, in ``tui.team.COLUMNS`` order (the start as an age)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog health"):
            yield Label("Team", classes="title")
            yield Static(id="table")
            yield Label(
                f"* this app · handled: done or reply drafted, last {SHIFT_HOURS} h or since the"
                " app started · r refresh · escape close",
                classes="hint",
            )

    async def on_mount(self) -> None:
        await self.action_reload()
        self.set_interval(REFRESH_SECONDS, self.action_reload)

    async def action_reload(self) -> None:
        now = utcnow()
        try:
            members = await self.store.team()
        except StoreError as error:
            self.query_one("#table", Static).update(Text(f"cannot read the team: {error}"))
            return
        self.rows = [
            (*cells[:4], ago(member.presence.started_at, now), *cells[5:])
            for member, cells in ((m, team.row(m, now)) for m in members)
        ]
        shown = [
            index
            for index, column in enumerate(team.COLUMNS)
            if self.size.width >= _WIDE or column not in _WHEN_WIDE
        ]
        table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
        for index in shown:
            column = team.COLUMNS[index]
            if column == "selected":
                table.add_column(column, no_wrap=True, overflow="ellipsis", ratio=1)
            else:
                table.add_column(
                    _HEADERS.get(column, column),
                    no_wrap=True,
                    overflow="ellipsis",
                    max_width=_MAX_WIDTHS.get(column),
                )
        for member, cells in zip(members, self.rows, strict=True):
            here = member.presence.app == self.me
            row = [Text(cells[i]) for i in shown]
            if here:  # the mark after the name is cut to fit, so that the mark always shows
                name = shorten(cells[0], _MAX_WIDTHS["operator"] - 1) + "*"
                row[0] = Text(name, "bold")
            table.add_row(*row)
        shown_table = table if members else Text(_NOBODY)
        self.query_one("#table", Static).update(shown_table)

    async def on_resize(self) -> None:
        await self.action_reload()  # the columns shown depend on the width
