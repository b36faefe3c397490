"""The team view: who is running the app, since when, what they have selected, and how many
mentions each handled this shift (the rows ``triage who`` prints). Refreshed every 2 s.

Every cell is plain one-line text (``tui.team.row``): operator names and mention text come
from other people and from the internet."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui import team
from tui.core.model import utcnow
from tui.store import Store, StoreError
from tui.store.presence import SHIFT_HOURS

REFRESH_SECONDS = 2.0


class TeamScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, store: Store, me: str | None) -> None:
        super().__init__()
        self.store = store
        self.me = me
        """This app's presence key (its row is marked "(this app)"), None when read-only."""
        self.rows: list[tuple[str, ...]] = []
        """The table as plain text, in ``tui.team.COLUMNS`` order."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog health"):
            yield Label("Team", classes="title")
            yield Static(id="table")
            yield Label(
                f"handled: done or reply drafted, last {SHIFT_HOURS} h or since the app started"
                " · r refresh · escape close",
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
        table = Table(box=None, header_style="bold", pad_edge=False, expand=True)
        for column in team.COLUMNS:
            table.add_column(column, overflow="fold")
        self.rows = [team.row(member, now) for member in members]
        for member, cells in zip(members, self.rows, strict=True):
            style = "bold" if member.presence.app == self.me else ""
            name = cells[0] + (" (this app)" if member.presence.app == self.me else "")
            table.add_row(Text(name, style), *(Text(cell) for cell in cells[1:]))
        if not members:
            table.add_row(Text("nobody is running the app (read-only apps are not shown)"))
        self.query_one("#table", Static).update(table)
